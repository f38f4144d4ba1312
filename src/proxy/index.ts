/**
 * payguard's proxy: `startPayguard` runs the public listener (both paths), the verifier workers and
 * the admin listener, and gives back what the CLI and the demo need to stop it.
 */
import { availableParallelism } from 'node:os';
import { startAdminServer } from '../observe/admin.js';
import type { ProxyContext } from './context.js';
import { TrustedProxies } from './forwarded.js';
import type { PayguardOptions } from './options.js';
import { createSecondLayer } from './second-layer.js';
import { startPublicServer } from './server.js';
import { createSubresourceProxy } from './subresource-path.js';
import { createUpstreamPool } from './upstream.js';
import { VerdictCache } from './verdict-cache.js';
import { VerifyPool } from './verify-pool.js';
import { InspectionBudget } from './inspection-budget.js';

/** Room for the verdicts of a few thousand distinct pages (rewritten bytes count in full). */
const DEFAULT_VERDICT_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Document bytes held for inspection at once: about eighty 100 KB pages waiting for two workers
 * that verify one each in a few ms, or 128 requests waiting on the upstream (64 KiB counted each,
 * as many as the upstream pool has connections). A page larger than the budget is still admitted
 * when nothing else is held (inspection-budget.ts; peak RSS in docs/bench.md).
 */
const INSPECTION_BUDGET_BYTES = 8 * 1024 * 1024;

/** As long as a task may wait for a free worker (verify-pool.ts): the same overload, one step earlier. */
function admissionWaitMs(verifyTimeoutMs: number): number {
  return Math.max(verifyTimeoutMs * 10, 5_000);
}

export type { PayguardOptions, ListenAddress } from './options.js';
export { DEFAULTS } from './options.js';
export type { EvidenceSink, PolicySource, ProxyLogger, ProxyMetrics, ResponseVerdict } from './ports.js';
export type { ShadowPolicy, ShadowDirection } from './shadow.js';
export { RESERVED_PREFIX, SINK_PATH } from './context.js';

export interface RunningPayguard {
  /** Where the shop's customers connect, e.g. `http://127.0.0.1:8080`. */
  readonly publicUrl: string;
  /** /metrics, /healthz, /readyz. */
  readonly adminUrl: string;
  /** Stop accepting, let in-flight requests finish within drainTimeoutMs, then close everything. */
  drain(): Promise<void>;
  /** Close now (in-flight requests are cut). */
  close(): Promise<void>;
}

export async function startPayguard(options: PayguardOptions): Promise<RunningPayguard> {
  const verifyPool = new VerifyPool(options.verifyWorkers ?? Math.min(2, availableParallelism()), options.verifyTimeoutMs);
  const upstreamPool = createUpstreamPool(options.upstream, options.upstreamTimeoutMs);
  const ctx: ProxyContext = {
    upstream: options.upstream,
    upstreamPool,
    verifyPool,
    verdicts: new VerdictCache(options.verdictCacheBytes ?? DEFAULT_VERDICT_CACHE_BYTES),
    policy: options.policy,
    metrics: options.metrics,
    logger: options.logger,
    trusted: new TrustedProxies(options.trustedProxies),
    maxInspectBytes: options.maxInspectBytes,
    inspectionBudget: new InspectionBudget(INSPECTION_BUDGET_BYTES, admissionWaitMs(options.verifyTimeoutMs)),
    secondLayer: createSecondLayer(options.metrics),
    shadow: options.shadow,
    evidence: options.evidence,
  };
  const subresources = createSubresourceProxy(ctx, options.upstreamTimeoutMs);
  let draining = false;
  const server = await startPublicServer(ctx, subresources, options.listen);
  let admin;
  try {
    admin = await startAdminServer({
      host: options.admin.host,
      port: options.admin.port,
      metrics: options.metrics as Parameters<typeof startAdminServer>[0]['metrics'],
      isReady: () => !draining && hasPolicy(options),
      isLive: () => true,
    });
  } catch (err) {
    await server.close(0);
    throw err;
  }
  options.logger.event('listening', { public: server.url, admin: admin.url, upstream: options.upstream.origin });

  let stopped: Promise<void> | undefined;
  const stop = (graceMs: number): Promise<void> => {
    stopped ??= (async () => {
      draining = true;
      await server.close(graceMs);
      subresources.close();
      // Every client connection is finished or cut by now, so nothing still waits on the upstream.
      await Promise.allSettled([admin.close(), upstreamPool.destroy(), verifyPool.close()]);
    })();
    return stopped;
  };
  return {
    publicUrl: server.url,
    adminUrl: admin.url,
    drain: () => stop(options.drainTimeoutMs),
    close: () => stop(0),
  };
}

function hasPolicy(options: PayguardOptions): boolean {
  try {
    return options.policy.current() !== undefined;
  } catch {
    return false;
  }
}
