/**
 * `--compare OLD.json`: the change of every figure from an earlier run to this one, row by row
 * (matched by key). Lower is better for latency, CPU and memory; higher for req/s and MB/s.
 */
import { readFile } from 'node:fs/promises';
import { machineLine } from './machine.js';
import { RESULTS_VERSION, type BenchResults, type RowResult } from './results.js';

export class BenchResultsError extends Error {
  override readonly name = 'BenchResultsError';
}

export async function readResults(file: string): Promise<BenchResults> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new BenchResultsError(`${file}: not a readable JSON file (${err instanceof Error ? err.message : String(err)})`);
  }
  const results = parsed as Partial<BenchResults>;
  if (results.version !== RESULTS_VERSION || !Array.isArray(results.rows) || !results.machine) {
    throw new BenchResultsError(`${file}: not a payguard bench results file (version ${RESULTS_VERSION})`);
  }
  return results as BenchResults;
}

interface Figure {
  readonly label: string;
  readonly value: (row: RowResult) => number | undefined;
  readonly higherIsBetter: boolean;
}

const FIGURES: readonly Figure[] = [
  { label: 'req/s', value: (r) => r.requestsPerSecond, higherIsBetter: true },
  { label: 'p50 ms', value: (r) => r.p50Ms, higherIsBetter: false },
  { label: 'p99 ms', value: (r) => r.p99Ms, higherIsBetter: false },
  { label: 'CPU ms/req', value: (r) => r.proxyCpuMsPerRequest, higherIsBetter: false },
  { label: 'peak RSS MB', value: (r) => r.proxyPeakRssMb, higherIsBetter: false },
];

function change(before: number, after: number): string {
  if (before === 0) return after === 0 ? '0%' : 'new';
  const pct = ((after - before) / before) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

function value(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
}

export function formatComparison(before: BenchResults, after: BenchResults): string {
  const out = [
    `compare ${before.startedAt} → ${after.startedAt}`,
    `  before: ${machineLine(before.machine)}`,
    `  after:  ${machineLine(after.machine)}`,
  ];
  if (machineLine(before.machine) !== machineLine(after.machine)) out.push('  ! different machines: compare ratios, not absolute figures');
  const old = new Map(before.rows.map((r) => [r.key, r]));
  for (const row of after.rows) {
    const previous = old.get(row.key);
    if (!previous) continue;
    const parts = FIGURES.flatMap((figure) => {
      const [a, b] = [figure.value(previous), figure.value(row)];
      if (a === undefined || b === undefined) return [];
      return [`${figure.label} ${value(a)} → ${value(b)} (${change(a, b)})`];
    });
    out.push(`  ${row.key.padEnd(48)} ${parts.join('  ')}`);
  }
  const added = after.rows.filter((r) => !old.has(r.key)).length;
  const removed = before.rows.filter((r) => !after.rows.some((a) => a.key === r.key)).length;
  if (added || removed) out.push(`  (${added} rows only in the new run, ${removed} only in the old one)`);
  if (before.verifier && after.verifier && !before.verifier.missing && !after.verifier.missing) {
    out.push(`  verifier MB/s ${value(before.verifier.generatedMbPerSecond)} → ${value(after.verifier.generatedMbPerSecond)} (${change(before.verifier.generatedMbPerSecond, after.verifier.generatedMbPerSecond)})`);
  }
  const oldTargets = new Map(before.targets.map((t) => [t.id, t]));
  for (const target of after.targets) {
    const previous = oldTargets.get(target.id);
    if (previous && previous.status !== target.status) out.push(`  target ${target.id}: ${previous.status} → ${target.status}`);
  }
  return out.join('\n');
}
