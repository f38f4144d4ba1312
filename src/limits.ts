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
   * default is 60 s, checked only every 30 s, so such a client held its connection 90 s. 10 s is
   * ample for a phone on a poor link, and sits between HAProxy's anti-DoS example (5 s for a whole
   * request) and Apache mod_reqtimeout's default (20 s for the headers). Past it the client gets
   * 408 and its connection is closed (nodeServerTimeouts: within the 10 s, not after).
   */
  headerTimeoutMs: 10_000,
  /**
   * How long a client may take to send its whole request, body included, counted from its first
   * byte. A checkout POST is a few KB; a minute leaves room for a slow upload of a form with a file.
   */
  requestTimeoutMs: 60_000,
  /**
   * How long an idle keep-alive connection from a client is kept open (Node's default). A load
   * balancer that reuses connections must give up on them sooner (docs/limits.md).
   */
  keepAliveTimeoutMs: 5_000,
} as const;

/**
 * How often the HTTP server looks for clients past their header or request timeout. Node's default
 * is 30 s; with a tenth of the header timeout (at most 1 s) a slow client is cut within its timeout.
 */
export function connectionsCheckingIntervalMs(headerTimeoutMs: number): number {
  return Math.max(10, Math.min(1_000, Math.floor(headerTimeoutMs / 10)));
}

/** The client timeouts as Node's HTTP server is given them (http/server.ts ServerTimeouts). */
export interface NodeServerTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsCheckingIntervalMs: number;
}

/**
 * The documented settings turned into what Node enforces. Node does not cut a client when its
 * header or request timeout passes, only at the next check after that (every interval), so a cut
 * lands up to one interval late. Node is given each timeout less one interval: the cut then lands
 * after `documented − interval` and no later than `documented` (event-loop delay aside).
 *
 * A request timeout shorter than the header timeout bounds the headers too (they are part of the
 * request); Node refuses `headersTimeout > requestTimeout`, so the header limit is taken as the
 * smaller of the two. The CLI refuses that combination anyway (`--request-timeout`).
 * Keep-alive is a timer on the idle socket, not a periodic check: it is given as is.
 */
export function nodeServerTimeouts(settings: {
  readonly headerTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}): NodeServerTimeouts {
  const headerTimeoutMs = Math.min(settings.headerTimeoutMs, settings.requestTimeoutMs);
  const interval = connectionsCheckingIntervalMs(headerTimeoutMs);
  return {
    headersTimeoutMs: Math.max(1, headerTimeoutMs - interval),
    requestTimeoutMs: Math.max(1, settings.requestTimeoutMs - interval),
    keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
    connectionsCheckingIntervalMs: interval,
  };
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
  /**
   * Bytes of verified pinned scripts kept to recognise the same bytes again without decoding and
   * hashing them (passthrough/verified-bytes.ts): a storefront's bundles several times over.
   */
  verifiedScriptBytes: 32 * MiB,
  /**
   * First-party paths script-src lists one by one (policy/first-party.ts); past it, those under a
   * manifest base are folded into the base directory, so a large build does not weigh on every page.
   */
  cspFirstPartyPaths: 100,
  /** A CSP report body: a legacy report is about 1 KiB, a Reporting API batch a few dozen. */
  maxReportBytes: 64 * KiB,
  /**
   * CSP reports per client (per IPv6 /64). A page load can send a burst (one report per blocked
   * request on `report-uri`, one per script hash), so the bucket allows 120 at once, then 2 a
   * second; a sustained flood from one address is refused (429).
   */
  reportRate: { burst: 120, perSecond: 2, clients: 10_000 },
  /**
   * CSP reports from all clients together: far above what a shop's real visitors send (a report per
   * blocked request of a tampered page), low enough that a flood from many addresses (rotated IPv6,
   * a botnet) costs at most 200 log lines a second, not the proxy.
   */
  reportBudget: { burst: 2_000, perSecond: 200, clients: 1 },
  /** Script URLs whose served hash is remembered (LRU), to compare with what browsers report running. */
  servedScriptUrls: 2_000,
  /** Content codings stacked on one body; nothing legitimate needs more, and Chromium has no limit to mirror (whatwg/fetch#1933). */
  maxContentCodings: 2,
  /** Request paths whose route is remembered per policy: a storefront's hot set, a few hundred KB at most. */
  rememberedRoutePaths: 4096,
  /** Longer paths are matched every time rather than kept as memo keys (a key is held in memory as it came). */
  maxRememberedPathLength: 512,
  /** A policy file larger than this is refused before it is parsed. */
  maxPolicyBytes: 4 * MiB,
  /** Young generation of a verifier worker: one page's parse is short-lived garbage (workers/pool.ts). */
  workerYoungGenerationMb: 8,
  /** At most this many shadow-policy verifications at once; past it a response is not judged in shadow (counted). */
  shadowVerificationsInFlight: 1,
  /** A verifier worker that failed to start is not started again sooner than this (no spawn loop; workers/pool.ts). */
  workerRespawnBackoffMs: 1_000,
  /**
   * What one cached verification is counted for besides its bytes (findings, key, bookkeeping), so
   * that many small pages cannot hold far more memory than verificationCacheBytes says.
   */
  verificationCacheEntryOverheadBytes: 4 * KiB,
  /**
   * The bytes sent for a page whose verdict came from the verification cache (decoded, with the
   * navigation guard): kept for pages seen at least twice, so a repeated gzip checkout is not
   * decompressed again on every hit. About 160 distinct 100 KB pages.
   */
  servedDocumentCacheBytes: 16 * MiB,
  /**
   * What one finding of a cached verification is counted for (a finding holds a dozen strings: the
   * element, the raw value, the URL, its origin…). A real page carries hundreds of findings (every
   * image is one), so findings, not bytes, are most of a cached entry (the soak showed 900 MB when
   * they were not counted).
   */
  verificationCacheFindingBytes: 1 * KiB,
  /** A minisign signature file is under 1 KiB; anything much larger is not one and is not read whole. */
  maxSignatureBytes: 64 * KiB,
  /** Nesting of a .json policy: deep enough for any real policy, shallow enough that hostile input cannot exhaust the stack. */
  maxPolicyNesting: 64,
  /** Quiet time after the last change to the policy or its signature before reloading: a deploy replaces both files. */
  policyReloadDebounceMs: 300,
  /** A trusted proxy's X-Request-Id longer than this is replaced by a fresh id: ids end up in block pages and log lines. */
  maxRequestIdLength: 128,
  /** Distinct route labels per metric. Routes come from the policy, so this only guards against misuse. */
  metricRouteLabels: 256,
  /** Distinct finding kinds, upstream error kinds or CSP directives per metric: closed sets, same guard. */
  metricKindLabels: 64,
  /** Distinct origins as labels of violation and CSP report metrics; later origins are counted as "other". */
  metricOriginLabels: 50,
  /**
   * Inline code accepted by template is allowed in its response's CSP by its sha256 (issue 18), one
   * 54-byte source each. 40 keep payguard's CSP header under about 4 KiB with a typical policy:
   * nginx's default proxy_buffer_size holds all of a response's headers in 4 KiB, and Magento's
   * per-response hashes broke checkouts behind it (magento/magento2#28102). Past it the accepted
   * scripts carry a per-response nonce instead (verify/script-nonces.ts; docs/second-layer.md).
   */
  maxTemplateHashesInCsp: 40,
  /** Findings listed in one violation log line; past this the line says how many more there were. */
  maxLoggedFindings: 50,
  /**
   * Learning from live traffic (`serve --learn`, proxy/learning/traffic-learner.ts). The record is
   * written this often (and at shutdown), so a crash loses at most this much learning.
   */
  learnFlushMs: 30_000,
  /** Page paths learned from; a shop with a path per product needs its checkout and a sample, not every product. */
  learnMaxPages: 500,
  /**
   * Renderings of one page path whose inline code is read. Twelve shoppers' renderings show which
   * literals vary; past that a page costs nothing more.
   */
  learnRenderingsPerPage: 12,
  /** Inline code held in memory for learning templates (text length, all pages together). */
  learnInlineBytes: 16 * MiB,
  /** Distinct loads, and distinct browser-reported loads, recorded. */
  learnMaxLoads: 5_000,
  /** Pages listed under one learned entry (the review needs where, not every product page). */
  learnPagesPerEntry: 20,
} as const;
