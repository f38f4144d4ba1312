/**
 * The second layer's headers: a Content-Security-Policy built from the same signed policy the
 * verifier enforces, so that the browser refuses at run time what an allowed script tries to do
 * (inject a form posting elsewhere, fetch a foreign host, load a script the page never named).
 * A pure function of the policy and the route: no I/O, no clock. The proxy adds the result to
 * every inspected document; docs/second-layer.md shows it for every route of policies/example.yaml.
 */
import { LIMITS } from '../limits.js';
import { firstPartyScriptSources } from './first-party.js';
import type { AllowKind, CspMode, Policy, Route, RouteMode } from './model.js';

/** The Reporting API endpoint name payguard's headers declare (Reporting-Endpoints, report-to). */
export const REPORT_GROUP = 'payguard-csp';

/** Block and rewrite routes enforce by default; report routes (and unmatched paths) only report. */
export function cspModeOf(route: Route | undefined, mode: RouteMode): CspMode {
  if (route?.csp) return route.csp;
  return mode === 'report' ? 'report-only' : 'enforce';
}

/**
 * The CSP directives for one route. Every host-source is an exact origin or URL, never `'self'`:
 * CSP3 §6.7.2.8 lets `'self'` on http://shop match https://shop too (and ws/wss), and the
 * policy's `site` is one exact origin. `base-uri 'self'` is the exception, as the issue asks:
 * a `<base>` can only move relative URLs, and the verifier already refuses a foreign one.
 */
export function cspDirectives(policy: Policy, route: Route | undefined, reportUrl: string): string[] {
  const strictDynamic = route?.strictDynamic === true;
  const scriptEval = route?.scriptEval === true;
  const reportingApi = usesReportingApi(policy);
  const inline = inlineHashSources(policy);
  const script = [
    ...scriptSources(policy),
    ...inline,
    // Hashes must also match event handlers and javascript: URLs the policy allows by hash
    // (CSP3 §6.7.3.3 "does element match source list": handlers need 'unsafe-hashes').
    ...(inline.length > 0 ? ["'unsafe-hashes'"] : []),
    ...(strictDynamic ? ["'strict-dynamic'"] : []),
    // Only where the policy says so: eval is how injected strings become code, and real checkouts
    // that need it (Magento 2: Knockout, mage/template) say so in their own CSP too.
    ...(scriptEval ? ["'unsafe-eval'"] : []),
    // CSP hash reporting (w3c/webappsec-csp#693, Chromium 133+): the browser reports the sha256 of
    // every external script it loads to report-to, which payguard compares with what it served.
    ...(reportingApi ? ["'report-sha256'"] : []),
  ];
  return [
    // Complete mediation (issue 17): every fetch the browser can make falls under a directive built
    // from a list, and whatever no directive below names (a destination added to browsers later,
    // prefetch, fenced frames through frame-src) falls back to nothing.
    "default-src 'none'",
    `script-src ${script.join(' ')}`,
    // 'unsafe-inline' keeps the inline <style> and style="" every real shop has. Safe once every
    // fetch CSS can make is governed: @import by this host list, url() by img-src, @font-face by
    // font-src; CSS runs no script in any current browser (docs/second-layer.md "Styles").
    `style-src ${sourcesFor(policy, 'style').join(' ')} 'unsafe-inline'`,
    // data: images and fonts come from the page itself and reach no host (the verifier allows them too).
    `img-src ${sourcesFor(policy, 'image').join(' ')} data:`,
    `font-src ${sourcesFor(policy, 'font').join(' ')} data:`,
    `media-src ${sourcesFor(policy, 'media').join(' ')}`,
    `manifest-src ${sourcesFor(policy, 'manifest').join(' ')}`,
    `form-action ${sourcesFor(policy, 'form').join(' ')}`,
    `frame-src ${sourcesFor(policy, 'frame').join(' ')}`,
    `connect-src ${sourcesFor(policy, 'connect').join(' ')}`,
    // Service workers and dedicated workers: only the site's own scripts (docs/vectors.md S-11, S-16).
    `worker-src ${hostSource(policy.site)}`,
    "base-uri 'self'",
    "object-src 'none'",
    // report-uri for browsers without the Reporting API; report-to wins where both are understood.
    `report-uri ${reportUrl}`,
    ...(reportingApi ? [`report-to ${REPORT_GROUP}`] : []),
  ];
}

export function cspValue(policy: Policy, route: Route | undefined, reportUrl: string): string {
  return cspDirectives(policy, route, reportUrl).join('; ');
}

/**
 * The headers payguard adds to an inspected document on this route: the CSP (or its report-only
 * form), the Reporting API endpoint it reports to, and Integrity-Policy-Report-Only (SRI §
 * "Integrity-Policy", Chrome 138+) so every script loaded without integrity metadata is reported.
 * An upstream CSP is left in place as its own header line: a document with several policies
 * enforces each of them (CSP3 §4.1), so the result is never looser than payguard's.
 */
export function cspHeaders(policy: Policy, route: Route | undefined, mode: RouteMode, reportUrl: string): [string, string][] {
  const cspMode = cspModeOf(route, mode);
  if (cspMode === 'off') return [];
  const name = cspMode === 'enforce' ? 'content-security-policy' : 'content-security-policy-report-only';
  const csp: [string, string] = [name, cspValue(policy, route, reportUrl)];
  if (!usesReportingApi(policy)) return [csp];
  return [
    csp,
    ['reporting-endpoints', `${REPORT_GROUP}="${reportUrl}"`],
    ['integrity-policy-report-only', `blocked-destinations=(script), endpoints=(${REPORT_GROUP})`],
  ];
}

/**
 * The Reporting API (report-to, Reporting-Endpoints, Integrity-Policy reports, hash reports) only
 * for an https site. Reporting §2.2 delivers only to potentially trustworthy endpoints, and Chromium
 * ignores report-uri once report-to is present, so on an http site report-to would silence every
 * report; there payguard sends report-uri alone (observed with Chromium 156: test/second-layer).
 */
export function usesReportingApi(policy: Policy): boolean {
  return new URL(policy.site).protocol === 'https:';
}

/**
 * The site's exact origin, then each entry of `allow[kind]` as a CSP source expression. A URL
 * entry on an origin already listed whole adds nothing to what the browser allows and is left out.
 */
function sourcesFor(policy: Policy, kind: Exclude<AllowKind, 'inline'>): string[] {
  const origins = [hostSource(policy.site)];
  for (const entry of policy.allow[kind]) {
    if (entry.type === 'origin' && !origins.includes(hostSource(entry.origin))) origins.push(hostSource(entry.origin));
  }
  const urls: string[] = [];
  for (const entry of policy.allow[kind]) {
    if (entry.type !== 'url' || origins.includes(new URL(entry.url).origin)) continue;
    const source = urlSource(entry.url);
    if (!urls.includes(source)) urls.push(source);
  }
  return [...origins, ...urls];
}

/**
 * script-src's host sources. With a release manifest (first-party.ts) the site's origin is not
 * listed whole: the manifest's paths are, and the allow.script url entries on the site (pins).
 */
function scriptSources(policy: Policy): string[] {
  const firstParty = firstPartyScriptSources(policy, LIMITS.cspFirstPartyPaths);
  const sources = sourcesFor(policy, 'script');
  if (!firstParty) return sources;
  const site = hostSource(policy.site);
  const sitePins = policy.allow.script.flatMap((e) => (e.type === 'url' && new URL(e.url).origin === site ? [urlSource(e.url)] : []));
  return [...new Set([...firstParty, ...sitePins, ...sources.filter((source) => source !== site)])];
}

/**
 * An origin as a host-source with its scheme (CSP3 §2.3.1). An `https:` source never matches
 * plain http, so the scheme the policy names is kept exactly.
 */
function hostSource(origin: string): string {
  return new URL(origin).origin;
}

/**
 * A URL entry as a host-source with a path-part: an exact path matches only that path, a path
 * ending in `/` matches everything under it (CSP3 §6.7.2.12 "path-part matching"), which is what
 * the policy's exact and prefix entries mean. A query cannot be expressed in CSP and is left out
 * (the verifier still checks the full URL); `;` and `,` must be percent-encoded in a source (§2.3.1).
 * After a redirect CSP ignores paths (§6.7.2.12), a documented gap.
 */
function urlSource(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/;/g, '%3B').replace(/,/g, '%2C');
  return parsed.origin + path;
}

/** `allow.inline` hashes as CSP hash sources; the `sha…-...` draft placeholder can never match and is left out. */
function inlineHashSources(policy: Policy): string[] {
  const sources: string[] = [];
  for (const entry of policy.allow.inline) {
    if (entry.type === 'hash' && !entry.hash.endsWith('-...')) sources.push(`'${entry.hash}'`);
  }
  return sources;
}
