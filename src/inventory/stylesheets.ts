/**
 * What the crawled pages' stylesheets load in turn (issue 17 class 2): a theme's CSS file pulls
 * its fonts (`@font-face`), background images (`url()`) and further sheets (`@import`) from hosts
 * the page's markup never names. The CSP governs those fetches by font-src, img-src and style-src,
 * so a draft that left them out would break the shop's fonts and images on the first protected
 * page. Each sheet is fetched once (same-site ones from where the pages are fetched, as scripts
 * are), read with the verifier's CSS tokenizer, and its URLs become findings of every page that
 * loads it, resolved against the sheet's own URL (CSS Values 4 §4.5.1: a URL in a style sheet is
 * relative to the sheet).
 */
import type { Policy } from '../policy/model.js';
import { cssUrls, type CssUrlDestination } from '../verify/css-syntax.js';
import { makeFinding, resolveUrl } from '../verify/judge.js';
import { isInertDataUrl, isSameDocumentReference, judgePassive, type PassiveTarget } from '../verify/passive-judge.js';
import type { Finding } from '../verify/types.js';
import { FetchFailure, fetchBounded, shown, type FetchLimits } from './fetch.js';

/** Bound on sheets fetched per crawl (the @import chain included): a draft, not a mirror. */
export const MAX_STYLESHEETS = 100;

const TARGETS: Record<CssUrlDestination, PassiveTarget> = {
  image: { list: 'image', reason: 'foreign-image' },
  style: { list: 'style', reason: 'foreign-style' },
  font: { list: 'font', reason: 'foreign-font' },
};

export interface StylesheetLoads {
  /** Page (as listed in the crawl) → the findings of the sheets it loads, @imports followed. */
  readonly byPage: ReadonlyMap<string, readonly Finding[]>;
  readonly problems: readonly string[];
}

/**
 * `pages` maps each crawled page to its findings. Stylesheets are the `style` findings with an
 * http(s) URL: `<link rel=stylesheet>`, `preload as=style`, `@import` in inline CSS, Link headers.
 */
export async function stylesheetLoads(
  pages: readonly { readonly page: string; readonly findings: readonly Finding[] }[],
  policy: Policy,
  fetchOrigin: string,
  limits: FetchLimits,
): Promise<StylesheetLoads> {
  const sheetsOf = new Map<string, Set<string>>();
  for (const { page, findings } of pages) {
    for (const f of findings) if (f.list === 'style' && f.url !== undefined && /^https?:/.test(f.url)) addTo(sheetsOf, page, withoutFragment(f.url));
  }
  const loadsOf = new Map<string, Finding[]>();
  const problems: string[] = [];
  const fetched = new Set<string>();
  // One sheet at a time, breadth-first over @import; every page that loads a sheet loads what it imports.
  const queue = [...new Set([...sheetsOf.values()].flatMap((s) => [...s]))];
  while (queue.length > 0 && fetched.size < MAX_STYLESHEETS) {
    const sheet = queue.shift()!;
    if (fetched.has(sheet)) continue;
    fetched.add(sheet);
    const text = await readSheet(sheet, policy.site, fetchOrigin, limits, problems);
    if (text === undefined) continue;
    const found: Finding[] = [];
    for (const u of cssUrls(text)) {
      const target = TARGETS[u.destination];
      if (isInertDataUrl(target.list, u.url) || isSameDocumentReference(u.url)) continue;
      const url = resolveUrl(u.url, sheet);
      // A custom property's string is an image only as an http(s) URL (css-syntax.ts CssUrl.customProperty).
      if (u.customProperty && !(url && /^https?:$/.test(url.protocol))) continue;
      found.push(makeFinding({ kind: 'css-url', list: target.list, element: `stylesheet ${shown(sheet)}`, raw: u.url, line: 0, col: 0 }, judgePassive(policy, 'report', target, url, u.url)));
      if (u.destination === 'style' && url && /^https?:$/.test(url.protocol)) {
        const imported = withoutFragment(url.href);
        for (const [page, sheets] of sheetsOf) if (sheets.has(sheet)) addTo(sheetsOf, page, imported);
        queue.push(imported);
      }
    }
    loadsOf.set(sheet, found);
  }
  if (queue.some((s) => !fetched.has(s))) problems.push(`more than ${MAX_STYLESHEETS} stylesheets: the rest were not read, and what they load is not listed`);
  const byPage = new Map<string, Finding[]>();
  for (const [page, sheets] of sheetsOf) byPage.set(page, [...sheets].flatMap((s) => loadsOf.get(s) ?? []));
  return { byPage, problems };
}

async function readSheet(sheet: string, site: string, fetchOrigin: string, limits: FetchLimits, problems: string[]): Promise<string | undefined> {
  const target = new URL(sheet).origin === site ? fetchOrigin + sheet.slice(site.length) : sheet;
  try {
    const fetched = await fetchBounded(target, limits, 'text/css,*/*;q=0.1');
    if (fetched.status !== 200) {
      problems.push(`${shown(sheet)}: stylesheet HTTP ${fetched.status}, what it loads is not listed`);
      return undefined;
    }
    // URLs in CSS are ASCII in practice; a sheet in another @charset keeps its ASCII bytes under UTF-8.
    return new TextDecoder('utf-8').decode(fetched.bytes);
  } catch (err) {
    if (!(err instanceof FetchFailure)) throw err;
    problems.push(`${err.message} (stylesheet; what it loads is not listed)`);
    return undefined;
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function withoutFragment(url: string): string {
  const u = new URL(url);
  u.hash = '';
  return u.href;
}
