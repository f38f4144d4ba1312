/**
 * The printed report: one table per page with every target side by side and its ratio to the
 * pass-through in the same run, then the issue's targets.
 */
import { machineLine } from './machine.js';
import { BENCH_PAGES } from './pages/index.js';
import type { BenchResults, RowResult } from './results.js';
import type { TargetVerdict } from './targets.js';
import type { VerifierFigures } from './verifier.js';

const COLUMNS = ['target', 'conns', 'req/s', '×pass', 'p50 ms', 'p99 ms', 'CPU ms/req', '×pass', 'peak RSS MB', 'foreign CPU', 'notes'] as const;

export function formatReport(results: BenchResults): string {
  const out: string[] = [
    `payguard bench, ${results.startedAt}`,
    `machine: ${machineLine(results.machine)}`,
    `settings: ${results.settings.durationSeconds} s per row after ${results.settings.warmupSeconds} s warm-up; keep-alive connections ${results.settings.connections.join(', ')}`,
    ...results.notes.map((n) => `note: ${n}`),
    '',
  ];
  for (const page of BENCH_PAGES) {
    const rows = results.rows.filter((r) => r.page === page.id);
    if (rows.length === 0) continue;
    out.push(`${page.id}: ${page.description} (Sec-Fetch-Dest: ${page.destination}${page.gzip ? ', gzip' : ''})`);
    out.push(table(rows.map((row) => cells(row, baseline(results.rows, row)))));
    out.push('');
  }
  if (results.verifier) out.push(formatVerifier(results.verifier), '');
  out.push(formatTargets(results.targets));
  return out.join('\n');
}

/** The pass-through row the ratios of `row` divide by: same page, connections and pacing. */
function baseline(rows: readonly RowResult[], row: RowResult): RowResult | undefined {
  return rows.find((r) => r.target === 'passthrough' && r.page === row.page && r.connections === row.connections && r.overallRate === row.overallRate);
}

function cells(row: RowResult, base: RowResult | undefined): string[] {
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || !b ? '' : (a / b).toFixed(2));
  return [
    row.target + (row.overallRate === undefined ? '' : ` (paced ${row.overallRate}/s)`),
    String(row.connections),
    row.requestsPerSecond.toFixed(0),
    ratio(row.requestsPerSecond, base?.requestsPerSecond),
    row.p50Ms.toFixed(2),
    row.p99Ms.toFixed(2),
    row.proxyCpuMsPerRequest === undefined ? '-' : row.proxyCpuMsPerRequest.toFixed(3),
    ratio(row.proxyCpuMsPerRequest, base?.proxyCpuMsPerRequest),
    row.proxyPeakRssMb === undefined ? '-' : row.proxyPeakRssMb.toFixed(0),
    `${(row.foreignCpuShare * 100).toFixed(0)}%`,
    [row.verdicts ? Object.entries(row.verdicts).map(([v, n]) => `${v} ${n}`).join(' ') : '', ...row.problems.map((p) => `! ${p}`)].filter(Boolean).join('; '),
  ];
}

function table(body: string[][]): string {
  const rows = [[...COLUMNS], ...body];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 || i === COLUMNS.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return ['  ' + line(rows[0]!), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...body.map((r) => '  ' + line(r))].join('\n');
}

function formatVerifier(verifier: VerifierFigures): string {
  if (verifier.missing) return `verifier alone: not measured (${verifier.missing})`;
  return [
    `verifier alone (in process, CPU time): ${verifier.generatedMbPerSecond.toFixed(1)} MB/s on the bench pages, ${verifier.corpusMbPerSecond.toFixed(1)} MB/s on ${verifier.corpusPages} corpus pages${verifier.corpusRefused ? ` (${verifier.corpusRefused} refused, not counted)` : ''}`,
    `  reference, same process: parse5.parse alone (decode + DOM) ${verifier.parse5MbPerSecond.toFixed(1)} MB/s; the verifier takes ${(verifier.parse5MbPerSecond / Math.max(verifier.generatedMbPerSecond, 1e-9)).toFixed(1)}× its time`,
    ...(verifier.templates
      ? [`  ten templated inline scripts (${(verifier.templates.bytes / 1024).toFixed(0)} KB checkout): ${verifier.templates.msWithTemplates.toFixed(3)} ms/page by template, ${verifier.templates.msWithHashes.toFixed(3)} ms by exact hash; matching is ${(verifier.templates.share * 100).toFixed(1)}% of the verifier`]
      : []),
    ...verifier.pages.map((p) => `  ${p.page.padEnd(16)} ${(p.bytes / 1024).toFixed(0).padStart(5)} KB  ${p.msPerPage.toFixed(2).padStart(8)} ms/page  ${p.mbPerSecond.toFixed(1).padStart(6)} MB/s  (${p.iterations} runs)`),
  ].join('\n');
}

export function formatTargets(targets: readonly TargetVerdict[]): string {
  return ['targets (issue 7):', ...targets.map((t) => `  [${t.status.toUpperCase().padEnd(4)}] ${t.description}\n         ${t.measured}`)].join('\n');
}
