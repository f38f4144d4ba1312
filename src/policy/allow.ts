/**
 * Allowlist and route matching: the two questions the rest of payguard asks a policy.
 * URLs are compared after the WHATWG URL parser has resolved them, never as strings.
 */
import type { AllowEntry, AllowKind, Policy, Route, RouteMode } from './model.js';

/**
 * The entry of `allow[kind]` that permits `url`, or undefined. The site origin is always allowed
 * for every kind except `inline` (hashes only), and is reported as the synthetic "self" entry.
 */
export function matchAllow(policy: Policy, kind: Exclude<AllowKind, 'inline'>, url: URL): AllowEntry | undefined {
  // Only network schemes can be allowed; javascript:, data:, blob: and friends never match an origin.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.origin === policy.site) return SELF_ENTRY;
  for (const entry of policy.allow[kind]) {
    if (entry.type === 'origin' && entry.origin === url.origin) return entry;
    if (entry.type === 'url' && urlMatches(entry.url, entry.prefix, url)) return entry;
  }
  return undefined;
}

/** The `allow.inline` entry for a CSP hash source such as `sha256-…`, or undefined. */
export function matchInlineHash(policy: Policy, hashes: readonly string[]): AllowEntry | undefined {
  for (const entry of policy.allow.inline) {
    if (entry.type === 'hash' && hashes.includes(entry.hash)) return entry;
  }
  return undefined;
}

/** The first entry of any list (inline aside) on `origin`: an origin entry, or a URL entry on that origin. */
export function namingEntry(policy: Policy, origin: string): AllowEntry | undefined {
  for (const [kind, entries] of Object.entries(policy.allow) as [AllowKind, readonly AllowEntry[]][]) {
    if (kind === 'inline') continue;
    for (const entry of entries) {
      if (entry.type === 'origin' && entry.origin === origin) return entry;
      if (entry.type === 'url' && originOf(entry.url) === origin) return entry;
    }
  }
  return undefined;
}

const originsNamed = new WeakMap<Policy, readonly string[]>();

/** The site and every origin some list (inline aside) names: origin entries and the origins of URL entries. Kept per policy. */
export function namedOrigins(policy: Policy): readonly string[] {
  let origins = originsNamed.get(policy);
  if (!origins) {
    const found = new Set([policy.site]);
    for (const [kind, entries] of Object.entries(policy.allow) as [AllowKind, readonly AllowEntry[]][]) {
      if (kind === 'inline') continue;
      for (const entry of entries) {
        const origin = entry.type === 'origin' ? entry.origin : entry.type === 'url' ? originOf(entry.url) : undefined;
        if (origin !== undefined) found.add(origin);
      }
    }
    origins = [...found];
    originsNamed.set(policy, origins);
  }
  return origins;
}

function originOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).origin : undefined;
}

export const SELF_ENTRY: AllowEntry = Object.freeze({ type: 'origin', origin: 'self', why: 'the site origin' });

function urlMatches(allowed: string, prefix: boolean, url: URL): boolean {
  // Fragments never reach the server, so they neither widen nor narrow a match.
  const candidate = url.hash ? url.href.slice(0, url.href.length - url.hash.length) : url.href;
  return prefix ? candidate.startsWith(allowed) : candidate === allowed;
}

/** What a route decision says about a request path. */
export interface RouteMatch {
  readonly route: Route | undefined;
  /** The mode in force: the route's, or report when no route matches. */
  readonly mode: RouteMode;
  /** A label for metrics: the route's pattern, or "unmatched". */
  readonly label: string;
}

/**
 * Route matching (CompiledPolicy.route in compiled.ts): the first route whose pattern matches the
 * request path, under every reading of the path, the strictest winning. The path is normalised first
 * (percent-decoding of unreserved characters, `;params` dropped, repeated slashes folded, case folded),
 * because the upstream router may treat `/Checkout`, `/%63heckout`, `/checkout;x` and `//checkout`
 * as the same page (docs/vectors.md H-14): a protected route must not be dodged by spelling.
 *
 * Browsers remove dot segments before sending (WHATWG URL path state), but any other client can send
 * `/open/../checkout`, `/open/..%2Fcheckout` or `/open\..\checkout`, and storefront servers differ in
 * whether they decode `%2F`/`%5C`, treat `\` as a separator and resolve `..`. payguard cannot know which
 * reading the storefront takes, so when they differ it applies the strictest route of them all.
 *
 * This function gives how a storefront might read a normalised path that holds dot segments or
 * (encoded) slashes.
 */
export function otherReadings(path: string): string[] {
  if (!/\/\.\.?(?:\/|$)|%2f|%5c|\\/.test(path)) return [];
  const readings = new Set<string>();
  readings.add(removeDotSegments(path));
  const slashes = path.replace(/%2f|%5c|\\/g, '/');
  readings.add(removeDotSegments(slashes));
  readings.delete(path);
  return [...readings];
}

/** RFC 3986 §5.2.4 on an absolute path; repeated slashes folded as normaliseRequestPath does. */
function removeDotSegments(path: string): string {
  const segments = path.split('/').slice(1);
  const out: string[] = [];
  segments.forEach((segment, i) => {
    if (segment !== '.' && segment !== '..') {
      out.push(segment);
      return;
    }
    if (segment === '..') out.pop();
    // A trailing dot segment leaves the directory: "/a/b/.." is "/a/".
    if (i === segments.length - 1) out.push('');
  });
  return ('/' + out.join('/')).replace(/\/{2,}/g, '/');
}

export function normaliseRequestPath(rawPath: string): string {
  let path = rawPath;
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  path = path.replace(/%([0-9a-fA-F]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
  });
  path = path
    .split('/')
    .map((segment) => segment.split(';')[0] ?? '')
    .join('/');
  path = path.replace(/\/{2,}/g, '/');
  if (!path.startsWith('/')) path = '/' + path;
  return path.toLowerCase();
}

/** `*` is one path segment (possibly empty), `**` any number of segments; matching is case-insensitive. */
export function compileRoutePattern(pattern: string): RegExp {
  const normalised = normaliseRequestPath(pattern);
  let source = '';
  const segments = normalised.split('/').slice(1);
  for (const [i, segment] of segments.entries()) {
    if (segment === '**') {
      // "/a/**" matches /a, /a/ and anything below it.
      source += i === segments.length - 1 ? '(?:/.*)?' : '(?:/[^/]*)*';
      continue;
    }
    source += '/' + segment.split('*').map(escapeRegExp).join('[^/]*');
  }
  return new RegExp(`^${source || '/'}$`, 's');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
