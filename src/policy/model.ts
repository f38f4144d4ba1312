/**
 * The policy in memory: the signed allowlist after validation. Everything past the loader
 * trusts these types; they are deep-frozen when built.
 */

/**
 * The allowlists a finding can be checked against. `image`, `style`, `font`, `media` and
 * `manifest` are the passive destinations, one per CSP fetch directive that governs them
 * (img-src, style-src, font-src, media-src, manifest-src; docs/policy.md "Passive loads"). A
 * policy without them allows only the site's own origin for those destinations.
 */
import type { SlotSpec } from './inline-template.js';

export const ALLOW_KINDS = ['form', 'script', 'frame', 'navigate', 'connect', 'image', 'style', 'font', 'media', 'manifest', 'inline'] as const;
export type AllowKind = (typeof ALLOW_KINDS)[number];

/** The passive destinations: what a page loads without running code or navigating (issue 17, class 2). */
export const PASSIVE_KINDS = ['image', 'style', 'font', 'media', 'manifest'] as const;
export type PassiveKind = (typeof PASSIVE_KINDS)[number];

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

/**
 * Allows inline code whose bytes change per rendering (issue 18): the script as a template, with
 * typed slots where its literals vary (src/policy/inline-template.ts; docs/policy.md "Inline code
 * by template").
 */
export interface TemplateEntry {
  readonly type: 'template';
  /** The template as written: JavaScript with `$slot$name` where a literal varies. */
  readonly template: string;
  readonly slots: Readonly<Record<string, SlotSpec>>;
  readonly why: string;
}

export type AllowEntry = OriginEntry | UrlEntry | HashEntry | TemplateEntry;

/** The SRI tokens an address entry pins its bodies to; none for inline entries. */
export function entryIntegrity(entry: AllowEntry): readonly string[] | undefined {
  return entry.type === 'origin' || entry.type === 'url' ? entry.integrity : undefined;
}

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
  /**
   * Adds 'unsafe-eval' to the route's script-src: for shops whose own code compiles strings at run
   * time (Knockout bindings and underscore templates in Magento 2's checkout, `wp.template`).
   */
  readonly scriptEval?: boolean;
  /** Security-header baseline: lower-case header name → the value the route must carry. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Rewrite routes: what to do with a page whose rewrite would neutralise code it runs or loads (a
   * script, a handler, an import map). Absent: `block` (the page may not work without it).
   */
  readonly codeRemoval?: CodeRemoval;
}

/** Issue 18 item 5: a rewrite that removes code is served only where the policy says so. */
export const CODE_REMOVALS = ['block', 'serve'] as const;
export type CodeRemoval = (typeof CODE_REMOVALS)[number];

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
  /**
   * The signed release manifest of the shop's own code (docs/policy.md "First-party code"). Absent:
   * every script from the site's origin is allowed, as before (the weaker mode).
   */
  readonly firstParty?: FirstPartyManifest;
}

/** One file of the release manifest: the path as written, and the SRI tokens its decoded body must match. */
export interface FirstPartyFile {
  /** As written in the policy, e.g. `/static/app.3f9a1c.js` (the CSP lists it so). */
  readonly path: string;
  readonly integrity: readonly string[];
}

/** A directory of the release: as written (the CSP may name it), and its lookup key. */
export interface FirstPartyBase {
  readonly path: string;
  readonly key: string;
}

/** A first-party script the shop builds per request: no fixed bytes, so served unhashed, but named and justified. */
export interface GeneratedScript {
  readonly path: string;
  readonly why: string;
}

/**
 * The shop's own scripts and the JSON files they read, by path (first-party.ts looks them up).
 * Keys are lookup keys (`firstPartyKey`: no query or fragment, unreserved percent-encodings decoded,
 * `;params` dropped, slashes folded, lower case), so every spelling of a path names one entry.
 */
export interface FirstPartyManifest {
  /** Directories (`/static/`) under which every .js/.mjs/.cjs/.json file must be listed. */
  readonly base: readonly FirstPartyBase[];
  readonly scripts: Readonly<Record<string, FirstPartyFile>>;
  readonly data: Readonly<Record<string, FirstPartyFile>>;
  readonly generated: Readonly<Record<string, GeneratedScript>>;
}
