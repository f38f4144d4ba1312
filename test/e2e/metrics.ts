/**
 * payguard's /metrics after a run, read with a real Prometheus text-format parser, and the
 * comparison with what the forward proxy saw happen: each blocked page counted once, under one
 * of the reasons its case allows.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { AttackCase } from './cases.js';

/** Sum of a counter family's samples grouped by one label (missing family: empty map). */
export function sumByLabel(metricsText: string, family: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  const found = parsePrometheusTextFormat(metricsText).find((f) => f.name === family);
  for (const sample of found?.metrics ?? []) {
    const key = sample.labels?.[label] ?? '';
    sums.set(key, (sums.get(key) ?? 0) + Number(sample.value ?? 0));
  }
  return sums;
}

export const total = (sums: ReadonlyMap<string, number>): number => [...sums.values()].reduce((a, b) => a + b, 0);

/**
 * The mismatches between the blocked-by-reason counts and the cases that were blocked once each
 * (empty: they match). A reason is plausible for a case when the case lists it; the counts match
 * when each reason's count lies between the cases that can only be counted under it and the
 * cases that may be, and no reason appears that no blocked case allows.
 */
export function reasonMismatches(byReason: ReadonlyMap<string, number>, blockedCases: readonly AttackCase[]): string[] {
  const problems: string[] = [];
  const reasons = new Set([...byReason.keys(), ...blockedCases.flatMap((c) => c.reasons)]);
  for (const reason of reasons) {
    const counted = byReason.get(reason) ?? 0;
    const onlyThis = blockedCases.filter((c) => c.reasons.length === 1 && c.reasons[0] === reason).length;
    const mayBeThis = blockedCases.filter((c) => c.reasons.includes(reason as AttackCase['reasons'][number])).length;
    if (counted < onlyThis || counted > mayBeThis) {
      problems.push(`reason ${reason}: counted ${counted}, expected between ${onlyThis} and ${mayBeThis}`);
    }
  }
  return problems;
}

/**
 * payguard's violation and refusal log lines, one short line each (`path verdict reasons`), for
 * the message of a failed count: which page was counted under what. Not used for the counts.
 */
export function verdictLines(output: string): string[] {
  const lines: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { event?: string; path?: string; verdict?: string; reason?: string; findings?: { reason?: string }[] };
      if (entry.event !== 'violation' && entry.event !== 'refusal') continue;
      const reasons = entry.reason ?? [...new Set((entry.findings ?? []).map((f) => f.reason))].join(',');
      lines.push(`${entry.path} ${entry.verdict} ${entry.event}:${reasons}`);
    } catch {
      // Not a JSON log line (startup banner): nothing to show.
    }
  }
  return lines;
}
