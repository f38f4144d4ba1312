/**
 * What `startPayguard` is given. The CLI validates flags and environment into this once
 * (src/cli/commands/serve.ts), createPayguard (payguard.ts) fills in the rest; code past this
 * point trusts the types.
 */
import { SETTING_DEFAULTS } from '../limits.js';
import type { ListenAddress } from '../listen.js';
import type { ListenerFaults } from './http/listener-guard.js';
import type { EvidenceSink, PolicySource, ProxyLogger, ProxyMetrics, TrafficRecorder } from './ports.js';
import type { ShadowPolicy } from './verdict/shadow.js';

export type { ListenAddress };

/** The admin server (src/observe/admin.ts) is started by payguard; this is its part of the contract. */
export interface AdminMetrics extends ProxyMetrics {
  readonly registry: unknown;
}

/** The limits an operator sets (src/limits.ts has each default and why). */
export interface PayguardSettings {
  /** Cap on a document body, raw and decoded (decompression bombs included). */
  readonly maxInspectBytes: number;
  /** Upstream connect, headers and body-idle timeout. */
  readonly upstreamTimeoutMs: number;
  /** Time limit of one verification (a worker over it is terminated and replaced). */
  readonly verifyTimeoutMs: number;
  /** Grace period for in-flight requests on SIGTERM. */
  readonly drainTimeoutMs: number;
  /** A client's request line and headers must arrive within this (408 and the connection closed otherwise). */
  readonly headerTimeoutMs: number;
  /** A client's whole request, body included, must arrive within this. */
  readonly requestTimeoutMs: number;
  /** An idle client keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
}

export interface PayguardOptions extends PayguardSettings {
  /** The storefront: http(s) origin, optionally with a path prefix it is mounted under. */
  readonly upstream: URL;
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly policy: PolicySource;
  readonly metrics: AdminMetrics;
  readonly logger: ProxyLogger;
  /**
   * Addresses (`10.0.0.5`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`) of proxies in front of
   * payguard whose X-Forwarded-* and X-Request-Id headers are believed. Empty: nobody's.
   */
  readonly trustedProxies?: readonly string[];
  /** Verifier worker threads; default min(2, available cores). */
  readonly verifyWorkers?: number;
  /** Memory for the verifications of pages seen before (default LIMITS.verificationCacheBytes; 0 disables). */
  readonly verificationCacheBytes?: number;
  /** A candidate policy judged alongside, never enforced (docs/authoring.md). */
  readonly shadow?: ShadowPolicy;
  /** Receives violations and refusals for the evidence log. */
  readonly evidence?: EvidenceSink;
  /** Learns from pages on report routes and from CSP reports (`serve --learn`). */
  readonly learner?: TrafficRecorder;
  /** Tests only: faults raised inside named listeners (http/listener-guard.ts). */
  readonly listenerFaults?: ListenerFaults;
}

export const DEFAULTS = {
  listen: { host: '0.0.0.0', port: 8080 },
  admin: { host: '127.0.0.1', port: 9464 },
  ...SETTING_DEFAULTS,
} as const;
