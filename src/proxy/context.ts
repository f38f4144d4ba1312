/** What every request handler of one running payguard shares. */
import type { Pool } from 'undici';
import type { ClientIdentity, TrustedProxies } from './forwarded.js';
import type { EvidenceSink, PolicySource, ProxyLogger, ProxyMetrics } from './ports.js';
import type { InspectionBudget } from './inspection-budget.js';
import type { ShadowPolicy } from './shadow.js';
import type { SecondLayer } from './second-layer.js';
import type { VerdictCache } from './verdict-cache.js';
import type { VerifyPool } from './verify-pool.js';

export interface ProxyContext {
  readonly upstream: URL;
  readonly upstreamPool: Pool;
  readonly verifyPool: VerifyPool;
  readonly verdicts: VerdictCache;
  readonly policy: PolicySource;
  readonly metrics: ProxyMetrics;
  readonly logger: ProxyLogger;
  readonly trusted: TrustedProxies;
  readonly maxInspectBytes: number;
  /** Bounds the document bytes held for inspection at once (inspection-budget.ts). */
  readonly inspectionBudget: InspectionBudget;
  /** CSP reports, script pinning, header baseline (docs/second-layer.md). */
  readonly secondLayer: SecondLayer;
  /** A candidate policy judged on every inspected response, never enforced (--shadow-policy). */
  readonly shadow?: ShadowPolicy | undefined;
  /** Detections for the evidence log (payguard report). */
  readonly evidence?: EvidenceSink | undefined;
}

/** One request as the handlers and the log see it (never its query string, body or cookies). */
export interface RequestFacts {
  readonly client: ClientIdentity;
  readonly method: string;
  /** Path and query, as sent upstream. */
  readonly target: string;
  /** Path only: for logs and route matching. */
  readonly path: string;
}

/** The path prefix payguard answers itself and never forwards. */
export const RESERVED_PREFIX = '/.well-known/payguard/';
/** Where the rewriter points neutralised forms: a sink that discards what is sent to it. */
export const SINK_PATH = `${RESERVED_PREFIX}sink`;
