/**
 * The PCI DSS evidence pack, built from the signed policy and payguard's own evidence log:
 * - 6.4.3: the script inventory (every allow.script and allow.inline entry) with its written
 *   justification and integrity;
 * - policy history: which policy (serial, key id, sha256) came into force when;
 * - 11.6.1: tamper detections (what was blocked or reported, first seen, last seen, how many).
 */
import { templateLabel } from '../policy/inline-template.js';
import type { Policy } from '../policy/model.js';
import type { ChainCheck } from './chain.js';
import type { DetectionRecord, PolicyAcceptedRecord } from './record.js';

export interface ScriptInventoryRow {
  readonly list: 'script' | 'inline';
  /** origin, URL, URL prefix, inline hash or inline template. */
  readonly type: 'origin' | 'url' | 'url-prefix' | 'hash' | 'template';
  readonly address: string;
  readonly integrity: string;
  readonly justification: string;
}

export interface PolicyHistoryRow {
  readonly inForceFrom: string;
  readonly serial: number;
  readonly keyId: string;
  readonly sha256: string;
  readonly site: string;
  readonly role: string;
}

export interface DetectionRow {
  readonly route: string;
  readonly reason: string;
  readonly kind: string;
  readonly origin: string;
  readonly action: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly count: number;
}

export interface EvidencePack {
  readonly scripts: readonly ScriptInventoryRow[];
  readonly policyHistory: readonly PolicyHistoryRow[];
  readonly detections: readonly DetectionRow[];
  readonly chain: { readonly ok: boolean; readonly records: number; readonly firstSeq: number; readonly head: string; readonly firstBroken: ChainCheck['firstBroken'] };
}

export function scriptInventory(policy: Policy): ScriptInventoryRow[] {
  const rows: ScriptInventoryRow[] = [];
  for (const list of ['script', 'inline'] as const) {
    for (const entry of policy.allow[list]) {
      if (entry.type === 'hash') rows.push({ list, type: 'hash', address: entry.hash, integrity: '', justification: entry.why });
      else if (entry.type === 'template') rows.push({ list, type: 'template', address: templateLabel(entry.template), integrity: '', justification: entry.why });
      else {
        const type = entry.type === 'origin' ? 'origin' : entry.prefix ? 'url-prefix' : 'url';
        rows.push({ list, type, address: entry.type === 'origin' ? entry.origin : entry.url, integrity: (entry.integrity ?? []).join(' '), justification: entry.why });
      }
    }
  }
  return rows;
}

/** `since`: keep detections last seen at or after it, and the policy in force at it onward. */
export function buildEvidencePack(policy: Policy, chain: ChainCheck, since?: Date): EvidencePack {
  const records = chain.records.map((r) => r.record);
  const accepted = records.filter((r): r is PolicyAcceptedRecord => r.type === 'policy-accepted');
  const detections = records.filter((r): r is DetectionRecord => r.type === 'detection');
  return {
    scripts: scriptInventory(policy),
    policyHistory: policyHistory(accepted, since),
    detections: mergeDetections(detections, since),
    chain: { ok: chain.ok, records: chain.records.length, firstSeq: chain.firstSeq, head: chain.head, firstBroken: chain.firstBroken },
  };
}

function policyHistory(accepted: readonly PolicyAcceptedRecord[], since: Date | undefined): PolicyHistoryRow[] {
  // A restart re-accepts the same policy: only a change of policy (or role) starts a new row.
  const rows: PolicyHistoryRow[] = [];
  const last = new Map<string, string>();
  for (const r of accepted) {
    if (last.get(r.role) === r.sha256) continue;
    last.set(r.role, r.sha256);
    rows.push({ inForceFrom: r.at, serial: r.serial, keyId: r.keyId, sha256: r.sha256, site: r.site, role: r.role });
  }
  if (!since) return rows;
  // Keep the row in force at `since` (the last one before it) and everything after.
  const before = rows.filter((r) => Date.parse(r.inForceFrom) < since.getTime());
  const keep = new Set([before.at(-1), ...rows.filter((r) => Date.parse(r.inForceFrom) >= since.getTime())]);
  return rows.filter((r) => keep.has(r));
}

function mergeDetections(records: readonly DetectionRecord[], since: Date | undefined): DetectionRow[] {
  const merged = new Map<string, DetectionRow>();
  for (const r of records) {
    if (since && Date.parse(r.lastSeen) < since.getTime()) continue;
    const key = JSON.stringify([r.route, r.reason, r.kind, r.origin, r.action]);
    const seen = merged.get(key);
    merged.set(key, {
      route: r.route,
      reason: r.reason,
      kind: r.kind,
      origin: r.origin,
      action: r.action,
      firstSeen: seen && seen.firstSeen < r.firstSeen ? seen.firstSeen : r.firstSeen,
      lastSeen: seen && seen.lastSeen > r.lastSeen ? seen.lastSeen : r.lastSeen,
      count: (seen?.count ?? 0) + r.count,
    });
  }
  return [...merged.values()].sort((a, b) => b.count - a.count || a.firstSeen.localeCompare(b.firstSeen));
}

/** RFC 4180 CSV; a cell starting with = + - @ is prefixed with ' so a spreadsheet does not run it. */
export function toCsv(rows: readonly object[], columns: readonly string[]): string {
  const cell = (v: unknown): string => {
    let s = String(v ?? '');
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])).join(','))];
  return lines.join('\r\n') + '\r\n';
}
