/**
 * What the proxy hands the evidence log: policies coming into force, and every violation or
 * refusal as a tally per (route, reason, kind, origin, action), flushed as one record per key at
 * an interval. Aggregating keeps the log small at any traffic and keeps request details
 * (paths, query strings, bodies) out of it.
 */
import type { PolicyInForce } from '../policy/in-force.js';
import type { EvidenceLog } from './log.js';

export interface Detection {
  readonly route: string;
  readonly reason: string;
  readonly kind: string;
  /** An origin only (never a URL with a path or query); "none" when the finding has no URL. */
  readonly origin: string;
  readonly action: 'blocked' | 'rewritten' | 'reported';
}

interface Tally {
  readonly detection: Detection;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

/** Bounds memory between flushes whatever an attacker varies (origins are attacker-chosen). */
const MAX_KEYS = 10_000;

export class EvidenceRecorder {
  private tallies = new Map<string, Tally>();
  private overflow = 0;

  constructor(
    private readonly log: EvidenceLog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  policyAccepted(inForce: PolicyInForce, role: 'enforced' | 'shadow' = 'enforced'): Promise<unknown> {
    const { policy, keyId, sha256 } = inForce;
    return this.log.append({ type: 'policy-accepted', serial: policy.serial, keyId, sha256, site: policy.site, role });
  }

  detected(detection: Detection): void {
    const key = JSON.stringify([detection.route, detection.reason, detection.kind, detection.origin, detection.action]);
    const at = this.now();
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count += 1;
      tally.lastSeen = at;
      return;
    }
    if (this.tallies.size >= MAX_KEYS) {
      this.overflow += 1;
      return;
    }
    this.tallies.set(key, { detection: { ...detection, origin: onlyOrigin(detection.origin) }, count: 1, firstSeen: at, lastSeen: at });
  }

  /** Writes one record per key seen since the last flush. */
  async flush(): Promise<void> {
    const tallies = [...this.tallies.values()];
    const overflow = this.overflow;
    this.tallies = new Map();
    this.overflow = 0;
    for (const t of tallies) {
      await this.log.append({ type: 'detection', ...t.detection, count: t.count, firstSeen: t.firstSeen.toISOString(), lastSeen: t.lastSeen.toISOString() });
    }
    if (overflow > 0) {
      const at = this.now().toISOString();
      await this.log.append({ type: 'detection', route: '*', reason: 'tally-overflow', kind: '*', origin: '*', action: 'reported', count: overflow, firstSeen: at, lastSeen: at });
    }
  }
}

/** Defence in depth: whatever a caller passes, only scheme://host:port reaches the log. */
function onlyOrigin(value: string): string {
  if (value === 'none' || value === 'null') return value;
  return URL.canParse(value) ? new URL(value).origin : 'none';
}
