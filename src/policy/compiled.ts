/**
 * The policy compiled once, at load, into what every stage of the proxy reads: the route table
 * (with its memo), the site's pinned scripts, the CSP headers of each route and the inline hashes.
 * A reload builds a new CompiledPolicy and swaps it in one assignment (reload.ts), so a response is
 * judged against one policy from its first stage to its last, and no stage keeps a cache of its own
 * keyed on the policy.
 */
import { LRUCache } from 'lru-cache';
import { LIMITS } from '../limits.js';
import { CSP_REPORT_PATH } from '../reserved-paths.js';
import { compileRoutePattern, normaliseRequestPath, otherReadings, type RouteMatch } from './allow.js';
import { cspHeaders } from './csp.js';
import type { AllowEntry, Policy, Route, RouteMode, UrlEntry } from './model.js';

export type { RouteMatch };

const MODE_STRENGTH: Record<RouteMode, number> = { report: 0, rewrite: 1, block: 2 };
const UNMATCHED: RouteMatch = Object.freeze({ route: undefined, mode: 'report', label: 'unmatched' });

/** Gives each compiled policy an identity that survives structured cloning into a worker thread. */
let lastPolicyId = 0;

export class CompiledPolicy {
  readonly policy: Policy;
  /**
   * Unique per compilation: names this policy to the verifier workers (which keep their copy by id)
   * and in verdict cache keys (another policy is another verdict).
   */
  readonly id: number;
  /** allow.script url entries on the site's own origin that carry integrity: served only when they match. */
  readonly sitePins: readonly UrlEntry[];
  /** `allow.inline` hashes (CSP hash sources), placeholders excluded. */
  readonly inlineHashes: ReadonlySet<string>;
  readonly #routes: readonly { readonly route: Route; readonly pattern: RegExp }[];
  readonly #routeMemo = new LRUCache<string, RouteMatch>({ max: LIMITS.rememberedRoutePaths });
  readonly #csp: ReadonlyMap<Route | undefined, readonly (readonly [string, string])[]>;

  constructor(policy: Policy) {
    this.policy = policy;
    this.id = ++lastPolicyId;
    this.#routes = policy.routes.map((route) => ({ route, pattern: compileRoutePattern(route.path) }));
    this.sitePins = policy.allow.script.filter(
      (e): e is UrlEntry => e.type === 'url' && (e.integrity?.length ?? 0) > 0 && new URL(e.url).origin === policy.site,
    );
    this.inlineHashes = new Set(policy.allow.inline.flatMap((e) => (e.type === 'hash' && !e.hash.endsWith('-...') ? [e.hash] : [])));
    const reportUrl = new URL(CSP_REPORT_PATH, policy.site).href;
    const csp = new Map<Route | undefined, readonly (readonly [string, string])[]>();
    csp.set(undefined, cspHeaders(policy, undefined, 'report', reportUrl));
    for (const route of policy.routes) csp.set(route, cspHeaders(policy, route, route.mode, reportUrl));
    this.#csp = csp;
  }

  /**
   * The route of a request path (or path and query: the query is ignored), memoised: every request,
   * assets included, needs it for the metrics label and the mode, and matching costs more than the
   * rest of the pass-through path's own work. See allow.ts for why the strictest reading wins.
   */
  route(path: string): RouteMatch {
    if (path.length > LIMITS.maxRememberedPathLength) return this.#match(path);
    let match = this.#routeMemo.get(path);
    if (!match) {
      match = this.#match(path);
      this.#routeMemo.set(path, match);
    }
    return match;
  }

  /** The CSP header lines of a route, built at compile time (src/policy/csp.ts). */
  cspHeaders(match: RouteMatch): readonly (readonly [string, string])[] {
    return this.#csp.get(match.route) ?? [];
  }

  /** The pin of a site script URL (exact, or under a prefix entry), fragment ignored. */
  sitePin(url: URL): AllowEntry | undefined {
    if (this.sitePins.length === 0) return undefined;
    const href = url.href.split('#')[0]!;
    return this.sitePins.find((e) => (e.prefix ? href.startsWith(e.url) : href === e.url));
  }

  #match(rawPath: string): RouteMatch {
    const path = normaliseRequestPath(rawPath);
    let match = this.#first(path);
    for (const reading of otherReadings(path)) {
      const other = this.#first(reading);
      if (MODE_STRENGTH[other.mode] > MODE_STRENGTH[match.mode]) match = other;
    }
    return match;
  }

  #first(path: string): RouteMatch {
    for (const { route, pattern } of this.#routes) {
      if (pattern.test(path)) return { route, mode: route.mode, label: route.path };
    }
    return UNMATCHED;
  }
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  return new CompiledPolicy(policy);
}
