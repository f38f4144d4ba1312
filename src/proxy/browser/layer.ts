/**
 * What the second layer keeps for one running payguard: its counters, the per-client report rate
 * limit, and the hashes of scripts it served (for the browser's own view to be compared with).
 */
import { LIMITS } from '../../limits.js';
import type { CompiledPolicy, RouteMatch } from '../../policy/compiled.js';
import type { HeaderList } from '../../verify/types.js';
import { BrowserVantage } from './vantage.js';
import { withGuardHash } from './navigation-guard.js';
import { withAcceptedCode } from './accepted-code.js';
import type { TemplateAcceptance } from '../../verify/inline-templates.js';
import { applyHeaderBaseline } from './header-baseline.js';
import type { ProxyLogger } from '../ports.js';
import { createSecondLayerMetrics, type MetricsWithRegistry, type SecondLayerMetrics } from './metrics.js';
import { TokenBuckets } from './token-buckets.js';

export interface SecondLayer {
  readonly metrics: SecondLayerMetrics;
  readonly vantage: BrowserVantage;
  readonly reportLimit: TokenBuckets;
  /** All clients together: a flood from many addresses (rotated IPv6, a botnet) is bounded too. */
  readonly reportBudget: TokenBuckets;
}

/** Reports accepted per client address; past it 429 (limits.ts has the figures and why). */
export const REPORT_RATE = LIMITS.reportRate;

/** Reports accepted from all clients together; past it 429 (limits.ts). */
export const REPORT_BUDGET = LIMITS.reportBudget;

export function createSecondLayer(metrics: MetricsWithRegistry): SecondLayer {
  return {
    metrics: createSecondLayerMetrics(metrics),
    vantage: new BrowserVantage(),
    reportLimit: new TokenBuckets(REPORT_RATE),
    reportBudget: new TokenBuckets(REPORT_BUDGET),
  };
}

/** What adding the second layer's headers to a document needs. */
export interface DocumentHeaderServices {
  readonly logger: ProxyLogger;
  readonly secondLayer: SecondLayer;
}

/** The headers payguard adds to an inspected document it sends (clean, reported or rewritten). */
export function documentHeaders(
  services: DocumentHeaderServices,
  compiled: CompiledPolicy,
  match: RouteMatch,
  upstream: HeaderList,
  requestId: string,
  guarded = false,
  accepted?: TemplateAcceptance,
  nonce?: string,
): [string, string][] {
  // The CSP is the policy in the browser's terms, built once per policy in force (src/policy/csp.ts);
  // a page carrying the navigation guard allows it by its hash (navigation-guard.ts), and the code
  // a template accepted in this response by its own hashes.
  const csp = compiled.cspHeaders(match);
  const withGuard: [string, string][] = guarded ? withGuardHash(csp) : csp.map(([name, value]) => [name, value]);
  const added = accepted ? withAcceptedCode(withGuard, accepted, nonce) : withGuard;
  if (accepted && nonce === undefined && accepted.hashSources.length > LIMITS.maxTemplateHashesInCsp) {
    // The browser still needs every hash to run the page; an operator needs to know the header grew.
    services.logger.event('csp-template-hashes-over-cap', { requestId, route: match.label, hashes: accepted.hashSources.length, cap: LIMITS.maxTemplateHashesInCsp });
  }
  const baseline = applyHeaderBaseline(match.route?.headers, upstream);
  added.push(...baseline.added);
  for (const drift of baseline.drift) {
    services.secondLayer.metrics.recordHeaderDrift(match.label, drift.header);
    services.logger.event('header-drift', { requestId, route: match.label, header: drift.header, expected: drift.expected, actual: drift.actual });
  }
  // The incident kill-switch (docs/vectors.md S-16): "storage" unregisters service workers and
  // clears the origin's storage, so a worker planted by an earlier injection stops answering.
  if (compiled.policy.clearSiteData === true && match.mode !== 'report') {
    added.push(['clear-site-data', '"storage"']);
  }
  return added;
}
