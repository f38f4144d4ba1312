/**
 * What the second layer keeps for one running payguard: its counters, the per-client report rate
 * limit, and the hashes of scripts it served (for the browser's own view to be compared with).
 */
import type { RouteMatch } from '../policy/allow.js';
import type { Policy, Route } from '../policy/model.js';
import type { HeaderList } from '../verify/types.js';
import { BrowserVantage } from './browser-vantage.js';
import { cspHeaders } from './csp.js';
import { applyHeaderBaseline } from './header-baseline.js';
import type { ProxyLogger } from './ports.js';
import { createSecondLayerMetrics, type MetricsWithRegistry, type SecondLayerMetrics } from './second-layer-metrics.js';
import { TokenBuckets } from './token-buckets.js';

export interface SecondLayer {
  readonly metrics: SecondLayerMetrics;
  readonly vantage: BrowserVantage;
  readonly reportLimit: TokenBuckets;
  /** All clients together: a flood from many addresses (rotated IPv6, a botnet) is bounded too. */
  readonly reportBudget: TokenBuckets;
}

/**
 * A page load can send a burst of reports (one per blocked request on `report-uri`, one per script
 * hash), so the bucket allows a burst; a sustained flood from one address is refused (429).
 */
export const REPORT_RATE = { burst: 120, perSecond: 2, clients: 10_000 } as const;

/**
 * The collector's total: far above what a shop's real visitors send (a report per blocked request
 * of a tampered page), low enough that a flood costs at most 200 log lines a second, not the proxy.
 */
export const REPORT_BUDGET = { burst: 2_000, perSecond: 200, clients: 1 } as const;

export function createSecondLayer(metrics: MetricsWithRegistry): SecondLayer {
  return {
    metrics: createSecondLayerMetrics(metrics),
    vantage: new BrowserVantage(),
    reportLimit: new TokenBuckets(REPORT_RATE),
    reportBudget: new TokenBuckets(REPORT_BUDGET),
  };
}

/** Where browsers send CSP, hash and integrity reports (public port; never forwarded upstream). */
export const CSP_REPORT_PATH = '/.well-known/payguard/csp-report';

/** The headers payguard adds to an inspected document it sends (clean, reported or rewritten). */
export function documentHeaders(
  ctx: { readonly logger: ProxyLogger },
  layer: SecondLayer,
  policy: Policy,
  match: RouteMatch,
  upstream: HeaderList,
  requestId: string,
): [string, string][] {
  const added = [...routeCspHeaders(policy, match)];
  const baseline = applyHeaderBaseline(match.route?.headers, upstream);
  added.push(...baseline.added);
  for (const drift of baseline.drift) {
    layer.metrics.recordHeaderDrift(match.label, drift.header);
    ctx.logger.event('header-drift', { requestId, route: match.label, header: drift.header, expected: drift.expected, actual: drift.actual });
  }
  // The incident kill-switch (evasion-vectors S-16): "storage" unregisters service workers and
  // clears the origin's storage, so a worker planted by an earlier injection stops answering.
  if (policy.clearSiteData === true && match.mode !== 'report') {
    added.push(['clear-site-data', '"storage"']);
  }
  return added;
}

const cspByPolicy = new WeakMap<Policy, Map<Route | undefined, readonly [string, string][]>>();

/** The CSP headers of a route, built once per policy in force (the policy is frozen; a reload brings a new one). */
function routeCspHeaders(policy: Policy, match: RouteMatch): readonly [string, string][] {
  let byRoute = cspByPolicy.get(policy);
  if (!byRoute) {
    byRoute = new Map();
    cspByPolicy.set(policy, byRoute);
  }
  let headers = byRoute.get(match.route);
  if (!headers) {
    headers = cspHeaders(policy, match.route, match.mode, new URL(CSP_REPORT_PATH, policy.site).href);
    byRoute.set(match.route, headers);
  }
  return headers;
}
