/**
 * What `startPayguard` is given. The CLI validates flags and environment into this once
 * (src/cli/commands/serve.ts); code past this point trusts the types.
 */
import type { EvidenceSink, PolicySource, ProxyLogger, ProxyMetrics } from './ports.js';
import type { ShadowPolicy } from './shadow.js';
import type { ListenAddress } from '../listen.js';

export type { ListenAddress };

/** The admin server (src/observe/admin.ts) is started by payguard; this is its part of the contract. */
export interface AdminMetrics extends ProxyMetrics {
  readonly registry: unknown;
}

export interface PayguardOptions {
  /** The storefront: http(s) origin, optionally with a path prefix it is mounted under. */
  readonly upstream: URL;
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly policy: PolicySource;
  readonly metrics: AdminMetrics;
  readonly logger: ProxyLogger;
  /** Cap on a document body, raw and decoded (decompression bombs included). */
  readonly maxInspectBytes: number;
  /** Upstream connect, headers and body-idle timeout. */
  readonly upstreamTimeoutMs: number;
  /** Time limit of one verification (a worker over it is terminated and replaced). */
  readonly verifyTimeoutMs: number;
  /** Grace period for in-flight requests on SIGTERM. */
  readonly drainTimeoutMs: number;
  /**
   * Addresses (`10.0.0.5`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`) of proxies in front of
   * payguard whose X-Forwarded-* and X-Request-Id headers are believed. Empty: nobody's.
   */
  readonly trustedProxies?: readonly string[];
  /** Verifier worker threads; default min(2, available cores). */
  readonly verifyWorkers?: number;
  /** Memory for cached verdicts of pages seen before (default 64 MiB; 0 disables). */
  readonly verdictCacheBytes?: number;
  /** A candidate policy judged alongside, never enforced (docs/authoring.md). */
  readonly shadow?: ShadowPolicy;
  /** Receives violations and refusals for the evidence log. */
  readonly evidence?: EvidenceSink;
}

export const DEFAULTS = {
  listen: { host: '0.0.0.0', port: 8080 },
  admin: { host: '127.0.0.1', port: 9464 },
  maxInspectBytes: 8 * 1024 * 1024,
  upstreamTimeoutMs: 30_000,
  verifyTimeoutMs: 2_000,
  drainTimeoutMs: 10_000,
} as const;
