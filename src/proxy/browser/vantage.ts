/**
 * Dual vantage (PCI DSS 11.6.1 wants changes detected as the consumer's browser receives the page):
 * payguard knows what it served, the browser knows what it ran. With `'report-sha256'` in the CSP
 * the browser reports the sha256 of every external script it loaded (CSP hash reporting,
 * w3c/webappsec-csp#693, Chromium 133+); a hash that differs from what payguard served for that
 * URL, or from the policy's pinned integrity, means the script changed after payguard (CDN, edge,
 * extension, transit) and is counted apart from ordinary violations.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { LIMITS } from '../../limits.js';
import { matchAllow } from '../../policy/allow.js';
import { entryIntegrity, type Policy } from '../../policy/model.js';

export type VantageOutcome = 'agrees' | 'differs-from-served' | 'differs-from-policy' | 'unknown';

export class BrowserVantage {
  readonly #served = new LRUCache<string, Set<string>>({ max: LIMITS.servedScriptUrls });

  /** Records the sha256 (as a CSP hash source) of a script body payguard served at this public URL. */
  served(url: string, body: Uint8Array): string {
    const hash = servedHashOf(body);
    this.recordServed(url, hash);
    return hash;
  }

  /** Records a served hash already known (the same bytes verified before: passthrough/verified-bytes.ts). */
  recordServed(url: string, hash: string): void {
    const key = withoutFragment(url);
    const known = this.#served.get(key) ?? new Set<string>();
    // A script legitimately changes across a deploy; keep the last few versions, not all of them.
    if (known.size >= 4) known.delete(known.values().next().value!);
    known.add(hash);
    this.#served.set(key, known);
  }

  /** Compares a hash the browser reported for `scriptUrl` with what payguard served and what the policy pins. */
  compare(policy: Policy, scriptUrl: string, reportedHash: string): VantageOutcome {
    const hash = normaliseHash(reportedHash);
    if (!hash || !URL.canParse(scriptUrl)) return 'unknown';
    const served = this.#served.get(withoutFragment(scriptUrl));
    if (served && !served.has(hash)) return 'differs-from-served';
    const pinned = pinnedHashes(policy, new URL(scriptUrl), hash.slice(0, hash.indexOf('-')));
    if (pinned.length > 0 && !pinned.includes(hash)) return 'differs-from-policy';
    return served || pinned.length > 0 ? 'agrees' : 'unknown';
  }
}

/** The sha256 of a script body as a CSP hash source: what the browser reports with 'report-sha256'. */
export function servedHashOf(body: Uint8Array): string {
  return `sha256-${createHash('sha256').update(body).digest('base64')}`;
}

/** The policy's integrity tokens for this script URL with the same algorithm (a sha384 pin cannot judge a sha256 report). */
function pinnedHashes(policy: Policy, url: URL, algorithm: string): string[] {
  const entry = exactScriptEntry(policy, url) ?? matchAllow(policy, 'script', url);
  const integrity = entry ? entryIntegrity(entry) : undefined;
  if (!integrity) return [];
  return integrity.filter((token) => token.startsWith(`${algorithm}-`));
}

/** matchAllow answers "self" first for the site's own origin; a pinned site URL entry is found here. */
function exactScriptEntry(policy: Policy, url: URL) {
  const href = withoutFragment(url.href);
  return policy.allow.script.find((e) => e.type === 'url' && (e.prefix ? href.startsWith(e.url) : href === e.url));
}

/** Reports carry `sha256-<base64>`; some agents drop the padding. */
function normaliseHash(value: string): string | undefined {
  const match = /^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+)=*$/.exec(value.trim());
  if (!match) return undefined;
  const digest = Buffer.from(match[2]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('base64');
  return `${match[1]}-${digest}`;
}

function withoutFragment(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}
