/**
 * The policy in memory: the signed allowlist after validation. Everything past the loader
 * trusts these types; they are deep-frozen when built.
 */

/** The allowlists a finding can be checked against. */
export const ALLOW_KINDS = ['form', 'script', 'frame', 'navigate', 'connect', 'inline'] as const;
export type AllowKind = (typeof ALLOW_KINDS)[number];

export const ROUTE_MODES = ['block', 'rewrite', 'report'] as const;
export type RouteMode = (typeof ROUTE_MODES)[number];

/** Allows every URL of one origin (scheme, host, port compared as WHATWG origins). */
export interface OriginEntry {
  readonly type: 'origin';
  /** Serialised WHATWG origin, e.g. `https://pay.gateway.example`. */
  readonly origin: string;
  readonly why: string;
  /** SRI hashes (`sha384-…`); for scripts the served body must match one of them. */
  readonly integrity?: readonly string[];
}

/** Allows one exact URL, or every URL under a prefix when `prefix` is true (the URL ended in `/`). */
export interface UrlEntry {
  readonly type: 'url';
  /** Serialised WHATWG URL (so `HTTPS://X:443/a` is stored as `https://x/a`). */
  readonly url: string;
  readonly prefix: boolean;
  readonly why: string;
  readonly integrity?: readonly string[];
}

/** Allows one inline script or handler by its CSP hash source (`sha256-…`, `sha384-…`, `sha512-…`). */
export interface HashEntry {
  readonly type: 'hash';
  readonly hash: string;
  readonly why: string;
}

export type AllowEntry = OriginEntry | UrlEntry | HashEntry;

/** How a route's Content-Security-Policy is sent (docs/second-layer.md). */
export const CSP_MODES = ['enforce', 'report-only', 'off'] as const;
export type CspMode = (typeof CSP_MODES)[number];

export interface Route {
  /** The pattern as written: `*` matches one path segment, `**` any number of segments. */
  readonly path: string;
  readonly mode: RouteMode;
  /** Absent: enforce on block and rewrite routes, report-only on report routes. */
  readonly csp?: CspMode;
  /** Adds 'strict-dynamic' to the route's script-src. */
  readonly strictDynamic?: boolean;
  /** Security-header baseline: lower-case header name → the value the route must carry. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Policy {
  readonly schema: 1;
  readonly serial: number;
  /** The storefront's public origin ("self"), always allowed. */
  readonly site: string;
  /** First match wins; paths no route matches are inspected in report mode. */
  readonly routes: readonly Route[];
  readonly allow: { readonly [K in AllowKind]: readonly AllowEntry[] };
  /**
   * The encoding a page is decoded with when it declares none (no BOM, no charset, no meta):
   * the browser's locale default. windows-1252 unless the policy says otherwise
   * (Japanese storefronts: shift_jis or euc-jp).
   */
  readonly defaultCharset: string;
  /** Send `Clear-Site-Data: "storage"` on protected routes: the emergency reset after an incident. */
  readonly clearSiteData?: boolean;
}
