/**
 * Every limit payguard runs under, in one place, each with its default and why. The first group are
 * settings an operator can change (`payguard serve` flags and PAYGUARD_* variables, README
 * "Limits"); the rest are fixed bounds that keep memory and work finite under hostile input.
 * docs/limits.md explains each to operators; a test checks that every setting here is documented.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/** The operator's settings (flags and environment), with their defaults. */
export const SETTING_DEFAULTS = {
  /**
   * Cap on a document body, raw and decoded (decompression bombs included). 8 MiB is twenty times
   * the largest storefront page measured (docs/bench.md) and small enough that eighty pages waiting
   * for a worker stay within the inspection budget's order of magnitude.
   */
  maxInspectBytes: 8 * MiB,
  /** Upstream connect, headers and body-idle timeout: a storefront that stalls longer gets a 504. */
  upstreamTimeoutMs: 30_000,
  /** One verification's time limit; a worker over it is replaced and the page refused (inspection-timeout). */
  verifyTimeoutMs: 2_000,
  /** Grace period for in-flight requests on SIGTERM (Kubernetes' default terminationGracePeriodSeconds is 30 s). */
  drainTimeoutMs: 10_000,
  /**
   * How long a client may take to send its request line and headers. Browsers send them in one
   * packet; a client dribbling them holds a socket and a parser for nothing (slowloris). Node's own
   * default is 60 s, checked only every 30 s, so such a client held its connection 90 s.
   */
  headerTimeoutMs: 10_000,
  /** How long a client may take to send its whole request, body included (a checkout POST is a few KB). */
  requestTimeoutMs: 60_000,
  /** How long an idle keep-alive connection from a client is kept open (Node's default, 5 s). */
  keepAliveTimeoutMs: 5_000,
} as const;

/**
 * How often the HTTP server looks for clients past their header or request timeout. Node's default
 * is 30 s; with a tenth of the header timeout (at most 1 s) a slow client is cut within its timeout.
 */
export function connectionsCheckingIntervalMs(headerTimeoutMs: number): number {
  return Math.max(10, Math.min(1_000, Math.floor(headerTimeoutMs / 10)));
}

/** Fixed bounds. */
export const LIMITS = {
  /** Verified pages' results kept for identical bytes: the verdicts of a few thousand distinct pages. */
  verificationCacheBytes: 64 * MiB,
  /**
   * Document bytes held for inspection at once: about eighty 100 KB pages waiting for two workers
   * that verify one each in a few ms, or 128 requests waiting on the upstream (64 KiB counted each,
   * as many as the upstream pool has connections). A larger page is still admitted when nothing else
   * is held (document/budget.ts; peak RSS in docs/bench.md).
   */
  inspectionBudgetBytes: 8 * MiB,
  /** What an admitted request counts for before its body is read (document/budget.ts). */
  inspectionReservationBytes: 64 * KiB,
  /** A request waits this many verify time limits (at least 5 s) to be admitted or to get a worker; then it is refused. */
  queueWaitLimits: 10,
  minQueueWaitMs: 5_000,
  /** Upstream connections of the document path (undici Pool): the storefront's concurrency, not ours, is the bound. */
  upstreamConnections: 128,
  /** Idle upstream connection lifetime; below common storefront keep-alive timeouts (nginx 75 s, Node 5 s). */
  upstreamKeepAliveMs: 4_000,
  /** Pass-through sockets to the upstream, busy and idle alike (passthrough/assets.ts: fewer idle ones made bursts reconnect). */
  assetSockets: 256,
  /** A pinned first-party script is buffered whole to be hashed; above this it is refused. */
  maxPinnedScriptBytes: 4 * MiB,
  /** A CSP report body: a legacy report is about 1 KiB, a Reporting API batch a few dozen. */
  maxReportBytes: 64 * KiB,
  /** Per client (per IPv6 /64): a page load's burst of reports, then 2 a second. */
  reportRate: { burst: 120, perSecond: 2, clients: 10_000 },
  /** All clients together: a flood costs at most 200 log lines a second, not the proxy. */
  reportBudget: { burst: 2_000, perSecond: 200, clients: 1 },
  /** Script URLs whose served hash is remembered, to compare with what browsers report running. */
  servedScriptUrls: 2_000,
  /** Content codings stacked on one body; nothing legitimate needs more, and Chromium has no limit to mirror. */
  maxContentCodings: 2,
  /** Request paths whose route is remembered per policy (a storefront's hot set). */
  rememberedRoutePaths: 4096,
  /** Longer paths are matched every time rather than kept as memo keys. */
  maxRememberedPathLength: 512,
  /** A policy file larger than this is refused before it is parsed. */
  maxPolicyBytes: 4 * MiB,
  /** Young generation of a verifier worker: one page's parse is short-lived garbage (workers/pool.ts). */
  workerYoungGenerationMb: 8,
  /** At most this many shadow-policy verifications at once; past it a response is not judged in shadow (counted). */
  shadowVerificationsInFlight: 1,
} as const;
