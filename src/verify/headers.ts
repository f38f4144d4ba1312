/**
 * Header-only findings (docs/vectors.md N-01, N-03, H-07..H-11): Location, Refresh, Link and
 * Speculation-Rules. They apply to every status, 304 and HEAD included, because Chromium copies
 * Refresh and Link from a 304 onto the cached entry.
 */
import { VerifyRefusal } from '../errors.js';
import type { AllowKind, Policy } from '../policy/model.js';
import { judgeUrl, makeFinding, resolveUrl } from './judge.js';
import { parseLinkHeader } from './link-header.js';
import { linkDestinations } from './link-relations.js';
import { isInertDataUrl, judgePassive } from './passive-judge.js';
import { srcsetUrls } from './srcset.js';
import { parseDeclarativeRefresh, refreshHeaderValue, type DeclarativeRefresh } from './refresh.js';
import type { Finding, FindingKind, HeaderList } from './types.js';
import { trimHttpWhitespace } from './mime.js';

export function verifyHeaders(headers: HeaderList, url: string, policy: Policy): Finding[] {
  const findings: Finding[] = [];
  const locations = new Set<string>();
  for (const [name, value] of headers) {
    if (name !== 'location') continue;
    // Chromium's network stack trims the line (space and tab) before comparing Location lines.
    locations.add(trimHttpWhitespace(value));
    findings.push(headerFinding(policy, 'location-header', 'navigate', name, value, url, 'foreign-navigation'));
  }
  // Several differing Location lines: Chromium fails the navigation
  // (ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION), Node keeps the first; refuse rather than guess
  // (docs/vectors.md N-01; docs/headers.md, oracle-headers "Location").
  if (locations.size > 1) throw new VerifyRefusal('ambiguous-header', `${locations.size} different Location headers`);
  // Refresh, Link and Speculation-Rules are read by Blink, which sees every line of a header joined
  // with ", " in order, and parses the combination once: two Refresh lines that each name no URL
  // can make one that does (docs/headers.md; test/verify/oracle-headers.test.ts).
  const refresh = headerRefresh(headers);
  if (refresh?.url !== undefined) {
    findings.push(headerFinding(policy, 'refresh-header', 'navigate', 'refresh', refresh.url, url, 'foreign-navigation', refresh.value));
  }
  const link = combinedHeader(headers, 'link');
  if (link !== undefined) findings.push(...linkFindings(policy, link, url));
  const speculationRules = combinedHeader(headers, 'speculation-rules');
  if (speculationRules !== undefined) {
    for (const ruleSetUrl of speculationRuleSetUrls(speculationRules)) {
      findings.push(headerFinding(policy, 'speculation-rules', 'navigate', 'speculation-rules', ruleSetUrl, url, 'speculation-rules'));
    }
  }
  findings.push(...reportEndpointFindings(policy, headers, url));
  return findings;
}

/**
 * Where the storefront's own reporting headers make the browser send reports: payguard adds its
 * CSP beside the storefront's and passes those on, and each report (a CSP violation, a deprecation,
 * an intervention) carries the page's URL to its endpoint, which no CSP directive governs
 * (connect-src does not). So every endpoint is judged against allow.connect, as a meta CSP's are
 * (docs/vectors.md S-13): the `report-uri` of every Content-Security-Policy(-Report-Only) line, each
 * line a comma-separated list of policies (CSP3 §2.2.1), and every URL of Reporting-Endpoints
 * (an RFC 8941 dictionary, repeated lines one dictionary) and of the legacy Report-To JSON.
 * Chromium posts report-uri reports at once (test/verify/oracle-headers.test.ts "report-uri").
 */
function reportEndpointFindings(policy: Policy, headers: HeaderList, url: string): Finding[] {
  const findings: Finding[] = [];
  for (const name of ['content-security-policy', 'content-security-policy-report-only']) {
    for (const line of headerLines(headers, name)) {
      for (const serialized of line.split(',')) {
        for (const directive of serialized.split(';')) {
          const [directiveName, ...values] = directive.trim().split(/[\t\n\f\r ]+/);
          if (directiveName?.toLowerCase() !== 'report-uri') continue;
          for (const endpoint of values) if (endpoint !== '') findings.push(headerFinding(policy, 'report-header', 'connect', name, endpoint, url, 'foreign-connect', line));
        }
      }
    }
  }
  for (const value of headerLines(headers, 'reporting-endpoints')) {
    for (const m of value.matchAll(/"((?:[^"\\]|\\.)*)"/g)) findings.push(headerFinding(policy, 'report-header', 'connect', 'reporting-endpoints', m[1]!.replace(/\\(.)/g, '$1'), url, 'foreign-connect', value));
  }
  for (const value of headerLines(headers, 'report-to')) {
    for (const m of value.matchAll(/"url"\s*:\s*"((?:[^"\\]|\\.)*)"/g)) findings.push(headerFinding(policy, 'report-header', 'connect', 'report-to', m[1]!.replace(/\\(.)/g, '$1'), url, 'foreign-connect', value));
  }
  return findings;
}

/**
 * The refresh Chromium schedules from a response's Refresh lines (undefined: none): the lines
 * joined with ", " and parsed once, with the header's separators.
 */
export function headerRefresh(headers: HeaderList): (DeclarativeRefresh & { readonly value: string }) | undefined {
  const value = refreshHeaderValue(headerLines(headers, 'refresh'));
  if (value === undefined) return undefined;
  const refresh = parseDeclarativeRefresh(value, 'header');
  return refresh && { ...refresh, value };
}

/** Every line of a header, trimmed of space and tab as Chromium's network stack stores it. */
function headerLines(headers: HeaderList, name: string): string[] {
  const lines: string[] = [];
  for (const [n, v] of headers) if (n === name) lines.push(trimHttpWhitespace(v));
  return lines;
}

/** A header as Blink reads it: every line, in order, joined with ", " (empty lines included). */
function combinedHeader(headers: HeaderList, name: string): string | undefined {
  const lines = headerLines(headers, name);
  return lines.length === 0 ? undefined : lines.join(', ');
}

/**
 * Every link of every relation that loads or connects (H-09, H-10): preload with any `as`
 * (and its `imagesrcset`), modulepreload, prefetch, prerender, stylesheet (Firefox honours it),
 * icons, manifest, preconnect, dns-prefetch. Each is judged against its destination's list
 * (linkDestinations), with the same table as `<link>` in markup (link-relations.ts).
 */
function linkFindings(policy: Policy, value: string, url: string): Finding[] {
  const findings: Finding[] = [];
  for (const link of parseLinkHeader(value)) {
    for (const destination of linkDestinations(link.rel, link.as)) {
      const targets = [link.target, ...(destination.list === 'image' && link.imagesrcset !== undefined ? srcsetUrls(link.imagesrcset) : [])];
      for (const target of targets) {
        if (isInertDataUrl(destination.list, target)) continue;
        // Headers have no route mode of their own: judged as on a protected page, as headerFinding does.
        const judgement = judgePassive(policy, 'block', { ...destination, reason: 'foreign-link-header' }, resolveUrl(target, url), target);
        findings.push(makeFinding({ kind: 'link-header', list: destination.list, element: 'header:link', raw: value, line: 0, col: 0 }, judgement));
      }
    }
  }
  return findings;
}

/** RFC 8941 list of strings (`"/rules.json", "/more.json"`); bare items are taken as well (over-approximation). */
function speculationRuleSetUrls(value: string): string[] {
  const quoted = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
  if (quoted.length > 0) return quoted;
  return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
}

function headerFinding(
  policy: Policy,
  kind: FindingKind,
  list: Exclude<AllowKind, 'inline'>,
  header: string,
  target: string,
  documentUrl: string,
  foreignReason: Parameters<typeof judgeUrl>[5],
  raw: string = target,
): Finding {
  const resolved = resolveUrl(target, documentUrl);
  // Headers have no route mode of their own: an unparsable Location is judged as on a protected page.
  const judgement = judgeUrl(policy, 'block', list, resolved, target, foreignReason);
  return makeFinding({ kind, list, element: `header:${header}`, raw, line: 0, col: 0 }, judgement);
}
