/**
 * The inventory crawl: fetch the given pages and same-origin links breadth-first, up to
 * `maxPages`, run the verifier on each (and on its Link headers), then fetch every script once to
 * hash it and every stylesheet once to list what it loads (stylesheets.ts).
 * Pages are fetched from `fetchOrigin` (the storefront or a running payguard) but verified as
 * served at the policy's public `site`, so "self" and relative URLs resolve as customers see them.
 */
import { createHash } from 'node:crypto';
import { VerifyRefusal } from '../errors.js';
import type { Policy } from '../policy/model.js';
import { verifyDocument, verifyHeaders } from '../verify/index.js';
import type { Finding } from '../verify/types.js';
import { FetchFailure, fetchBounded, shown, type FetchLimits } from './fetch.js';
import { sameSiteLinks } from './links.js';
import { stylesheetLoads } from './stylesheets.js';
import { runSteps, ShopperSession, type Step } from './session.js';
import type { InlineSample } from './templates.js';
import { inlineCodeOf } from '../verify/inline-code.js';

/** The response headers whose URLs the draft lists (verify/headers.ts judges each against a list). */
const DRAFTED_HEADERS: ReadonlySet<string> = new Set(['link', 'content-security-policy', 'content-security-policy-report-only', 'reporting-endpoints', 'report-to']);

export interface CrawlOptions {
  readonly startUrls: readonly string[];
  readonly maxPages: number;
  readonly limits: FetchLimits;
  /** The policy to verify against (a synthetic empty one when drafting). */
  readonly policy: Policy;
  /** Shopper sessions, each with its own cookie jar and the steps run first (default 1, no steps). */
  readonly sessions?: number;
  readonly steps?: readonly Step[];
  /** Fetches of each page per session, to see which inline literals vary (default 1). */
  readonly renderings?: number;
}

export interface PageFindings {
  /** The page as customers see it: site origin + path (no query). */
  readonly page: string;
  readonly status: number;
  readonly findings: readonly Finding[];
}

export interface CrawlResult {
  readonly pages: readonly PageFindings[];
  /** Script URL (as the page names it) → its SRI sha384, or the reason it could not be hashed. */
  readonly scriptHashes: ReadonlyMap<string, { sri?: string; problem?: string }>;
  readonly problems: readonly string[];
  /** Every inline script and handler of every rendering, whole, for learning templates (templates.ts). */
  readonly inlineSamples: readonly InlineSample[];
}

export async function crawl(options: CrawlOptions): Promise<CrawlResult> {
  const fetchOrigin = new URL(options.startUrls[0]!).origin;
  const problems: string[] = [];
  const inlineSamples: InlineSample[] = [];
  let pages: PageFindings[] = [];
  let crawled: string[] = [];
  for (let s = 0; s < Math.max(1, options.sessions ?? 1); s++) {
    const session = new ShopperSession();
    if (options.steps) problems.push(...(await runSteps(options.steps, fetchOrigin, session, options.limits)).map((p) => `session ${s + 1}: ${p}`));
    if (s === 0) {
      // The first session discovers the pages; the others fetch the same ones, in their own session.
      const first = await crawlPages(options, session, inlineSamples, problems);
      pages = first.pages;
      crawled = first.fetchUrls;
      for (let r = 1; r < (options.renderings ?? 1); r++) await renderAgain(crawled, options, session, inlineSamples, problems);
    } else {
      for (let r = 0; r < (options.renderings ?? 1); r++) await renderAgain(crawled, options, session, inlineSamples, problems);
    }
  }
  const scriptHashes = await hashScripts(pages, options.policy.site, fetchOrigin, options.limits);
  const sheets = await stylesheetLoads(pages, options.policy, fetchOrigin, options.limits);
  problems.push(...sheets.problems);
  const withSheets = pages.map((p) => ({ ...p, findings: [...p.findings, ...(sheets.byPage.get(p.page) ?? [])] }));
  return { pages: withSheets, scriptHashes, problems, inlineSamples };
}

/** Another rendering of pages already crawled: only their inline code is kept (the places they load are the first rendering's). */
async function renderAgain(fetchUrls: readonly string[], options: CrawlOptions, session: ShopperSession, samples: InlineSample[], problems: string[]): Promise<void> {
  for (const fetchUrl of fetchUrls) {
    try {
      const fetched = await fetchBounded(fetchUrl, options.limits, 'text/html', { session });
      samples.push(...inlineCodeOf(fetched.bytes, fetched.headers, options.policy.defaultCharset).map((c) => ({ ...c, page: shown(asPublic(fetchUrl, options.policy.site)) })));
    } catch (err) {
      if (!(err instanceof FetchFailure || err instanceof VerifyRefusal)) throw err;
      problems.push(`${shown(fetchUrl)}: ${err.message}`);
    }
  }
}

async function crawlPages(options: CrawlOptions, session: ShopperSession, samples: InlineSample[], problems: string[]): Promise<{ pages: PageFindings[]; fetchUrls: string[] }> {
  const fetchOrigins = new Set(options.startUrls.map((u) => new URL(u).origin));
  const queue = [...new Set(options.startUrls.map(withoutFragment))];
  const seen = new Set(queue);
  const pages: PageFindings[] = [];
  const fetchUrls: string[] = [];
  while (queue.length > 0 && pages.length < options.maxPages) {
    const fetchUrl = queue.shift()!;
    const publicUrl = asPublic(fetchUrl, options.policy.site);
    try {
      const fetched = await fetchBounded(fetchUrl, options.limits, 'text/html', { session });
      samples.push(...inlineCodeOf(fetched.bytes, fetched.headers, options.policy.defaultCharset).map((c) => ({ ...c, page: shown(publicUrl) })));
      fetchUrls.push(fetchUrl);
      const verified = verifyDocument({ bytes: fetched.bytes, url: publicUrl, headers: fetched.headers, policy: options.policy, mode: 'report' });
      // Link headers load too (preload, stylesheet, icon, preconnect…), and the storefront's own
      // reporting endpoints (CSP report-uri, Reporting-Endpoints, Report-To) receive the browser's
      // reports: the draft needs their lists, or serve would refuse the shop's own headers.
      const loadingHeaders = verifyHeaders(fetched.headers.filter(([name]) => DRAFTED_HEADERS.has(name)), publicUrl, options.policy);
      pages.push({ page: shown(publicUrl), status: fetched.status, findings: [...verified.findings, ...loadingHeaders] });
      const html = decodeForLinks(fetched.bytes, verified.encoding);
      for (const link of nextPages(html, fetchUrl, fetched.headers, fetchOrigins)) {
        if (!seen.has(link)) {
          seen.add(link);
          queue.push(link);
        }
      }
    } catch (err) {
      if (!(err instanceof FetchFailure || err instanceof VerifyRefusal)) throw err;
      problems.push(`${shown(fetchUrl)}: ${err.message}`);
    }
  }
  return { pages, fetchUrls };
}

/** Same-origin links, and a same-origin redirect target (it is a page too). */
function nextPages(html: string, fetchUrl: string, headers: readonly (readonly [string, string])[], origins: ReadonlySet<string>): string[] {
  const links = sameSiteLinks(html, fetchUrl, origins);
  const location = headers.find(([n]) => n === 'location')?.[1];
  if (location !== undefined && URL.canParse(location, fetchUrl)) {
    const target = new URL(location, fetchUrl);
    if (origins.has(target.origin)) links.unshift(withoutFragment(target.href));
  }
  return links;
}

/** Script bodies are hashed as the browser would get them: same-site ones from where we fetch pages. */
async function hashScripts(pages: readonly PageFindings[], site: string, fetchOrigin: string, limits: FetchLimits): Promise<Map<string, { sri?: string; problem?: string }>> {
  const hashes = new Map<string, { sri?: string; problem?: string }>();
  for (const url of new Set(pages.flatMap((p) => p.findings.filter(isExternalScript).map((f) => f.url!)))) {
    const target = new URL(url).origin === site ? fetchOrigin + url.slice(site.length) : url;
    try {
      const fetched = await fetchBounded(target, limits, '*/*');
      if (fetched.status !== 200) hashes.set(url, { problem: `HTTP ${fetched.status}` });
      else hashes.set(url, { sri: `sha384-${createHash('sha384').update(fetched.bytes).digest('base64')}` });
    } catch (err) {
      if (!(err instanceof FetchFailure)) throw err;
      hashes.set(url, { problem: err.message });
    }
  }
  return hashes;
}

export function isExternalScript(f: Finding): boolean {
  return f.list === 'script' && f.url !== undefined && /^https?:/.test(f.url);
}

function asPublic(fetchUrl: string, site: string): string {
  const u = new URL(fetchUrl);
  return site + u.pathname + u.search;
}

function withoutFragment(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.href;
}

/** Links only need the text; an encoding Node's decoder lacks falls back to UTF-8 (links are ASCII). */
function decodeForLinks(bytes: Uint8Array, encoding: string): string {
  try {
    return new TextDecoder(encoding).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
