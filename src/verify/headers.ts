/**
 * Header-only findings (docs/vectors.md N-01, N-03, H-07..H-11): Location, Refresh, Link and
 * Speculation-Rules. They apply to every status, 304 and HEAD included, because Chromium copies
 * Refresh and Link from a 304 onto the cached entry.
 */
import { VerifyRefusal } from '../errors.js';
import type { AllowKind, Policy } from '../policy/model.js';
import { judgeUrl, makeFinding, resolveUrl } from './judge.js';
import { parseLinkHeader } from './link-header.js';
import { parseDeclarativeRefresh } from './refresh.js';
import type { Finding, FindingKind, HeaderList } from './types.js';

export function verifyHeaders(headers: HeaderList, url: string, policy: Policy): Finding[] {
  const findings: Finding[] = [];
  const locations = new Set<string>();
  for (const [name, value] of headers) {
    switch (name) {
      case 'location':
        locations.add(value);
        findings.push(headerFinding(policy, 'location-header', 'navigate', name, value, url, 'foreign-navigation'));
        break;
      case 'refresh': {
        const refresh = parseDeclarativeRefresh(value);
        if (refresh?.url !== undefined) {
          findings.push(headerFinding(policy, 'refresh-header', 'navigate', name, refresh.url, url, 'foreign-navigation', value));
        }
        break;
      }
      case 'link':
        findings.push(...linkFindings(policy, value, url));
        break;
      case 'speculation-rules':
        for (const ruleSetUrl of speculationRuleSetUrls(value)) {
          findings.push(headerFinding(policy, 'speculation-rules', 'navigate', name, ruleSetUrl, url, 'speculation-rules'));
        }
        break;
      default:
        break;
    }
  }
  // Several differing Location lines: which one a client follows is not defined (Node keeps the
  // first, Chromium fails the navigation); refuse rather than guess (docs/vectors.md N-01).
  if (locations.size > 1) throw new VerifyRefusal('ambiguous-header', `${locations.size} different Location headers`);
  return findings;
}

function linkFindings(policy: Policy, value: string, url: string): Finding[] {
  const findings: Finding[] = [];
  for (const link of parseLinkHeader(value)) {
    const list = linkList(link.rel, link.as);
    if (list) findings.push(headerFinding(policy, 'link-header', list, 'link', link.target, url, 'foreign-link-header', value));
  }
  return findings;
}

/** Which allowlist a Link relation falls under; undefined for relations that load nothing that matters here. */
function linkList(rel: readonly string[], as: string | undefined): Exclude<AllowKind, 'inline'> | undefined {
  if (rel.includes('modulepreload')) return 'script';
  if (rel.includes('preload') && (as === 'script' || as === 'worker' || as === 'sharedworker')) return 'script';
  if (rel.includes('prefetch') || rel.includes('prerender')) return 'navigate';
  return undefined;
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
