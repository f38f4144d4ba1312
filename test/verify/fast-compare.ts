/**
 * The fast path's differential harness: one document through both paths (the fast scanner when it
 * does not bail, and parse5 forced), with everything a finding carries and every rewrite edit, so a
 * test can demand they are equal. Also the real pages the differential tests start from.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { categoryPage } from '../../bench/pages/catalog.js';
import { checkoutPage, FIXED_CHECKOUT, randomCart } from '../../bench/pages/checkout.js';
import { seededRandom } from '../../bench/pages/random.js';
import { VerifyRefusal } from '../../src/errors.js';
import type { Policy, RouteMode } from '../../src/policy/model.js';
import { analyseDocument } from '../../src/verify/document.js';
import { fastParse } from '../../src/verify/fast/index.js';
import type { Sighting } from '../../src/verify/scan.js';
import type { HeaderList } from '../../src/verify/types.js';
import { loadCorpus } from '../corpus/cases.js';
import { fetchDemoPages } from '../helpers/demo-pages.js';
import { PAGE_URL, SITE, testPolicy } from './policy.js';

export interface Page {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly headers: HeaderList;
  readonly url: string;
  readonly policy: Policy;
  readonly mode: RouteMode;
}

export type Outcome = { readonly sightings: readonly Sighting[] } | { readonly refused: string };

export interface BothPaths {
  /** The default path (fast when the scanner does not bail). */
  readonly auto: Outcome;
  /** parse5 forced. */
  readonly full: Outcome;
  /** The scanner's bail reason on the decoded text, or undefined when the fast path was taken. */
  readonly bail: string | undefined;
}

export function bothPaths(page: Page): BothPaths {
  const input = { bytes: page.bytes, url: page.url, headers: page.headers, policy: page.policy, mode: page.mode };
  let bail: string | undefined = 'undecodable';
  const auto = outcome(() => {
    const analysed = analyseDocument(input);
    const fast = fastParse(analysed.decoded.text, new WeakMap());
    bail = fast.bail;
    return analysed.sightings;
  });
  const full = outcome(() => analyseDocument(input, { parser: 'full' }).sightings);
  return { auto, full, bail };
}

function outcome(run: () => readonly Sighting[]): Outcome {
  try {
    return { sightings: run() };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { refused: err.code };
    throw err;
  }
}

const TEST_DIR = fileURLToPath(new URL('../', import.meta.url));
const UTF8: HeaderList = [['content-type', 'text/html; charset=utf-8']];

export function htmlPage(name: string, html: string, mode: RouteMode = 'block', policy: Policy = testPolicy()): Page {
  return { name, bytes: new TextEncoder().encode(html), headers: UTF8, url: PAGE_URL, policy, mode };
}

/** Every .html file under a test directory (recursively), served as UTF-8 unless its bytes say otherwise. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else if (entry.endsWith('.html')) out.push(full);
  }
  return out;
}

/** The corpus, the verifier's and the proxy's test pages, and the bench pages. */
export function filePages(): Page[] {
  // Corpus cases as the corpus serves them: their own headers (charsets included) and paths.
  const corpus = loadCorpus().map((c): Page => ({
    name: `corpus/${c.name}`,
    bytes: c.bytes,
    headers: c.headers.length > 0 ? c.headers : UTF8,
    url: SITE + c.path,
    policy: testPolicy(),
    mode: 'block',
  }));
  const files = ['verify/fixtures', 'proxy/pages', 'second-layer/pages'].flatMap((dir) => {
    try {
      return filesUnder(join(TEST_DIR, dir));
    } catch {
      return [];
    }
  });
  const pages = files.map((file) => ({
    name: file.slice(TEST_DIR.length),
    bytes: new Uint8Array(readFileSync(file)),
    headers: [['content-type', 'text/html']] as HeaderList,
    url: PAGE_URL,
    policy: testPolicy(),
    mode: 'block' as RouteMode,
  }));
  return [...corpus, ...pages, ...benchPages()];
}

export function benchPages(): Page[] {
  return [
    htmlPage('bench/checkout', checkoutPage(FIXED_CHECKOUT)),
    htmlPage('bench/checkout-unique', checkoutPage({ csrfToken: 'a'.repeat(32), orderId: 'ORD-2026-000000002', cart: randomCart(seededRandom(7)) })),
    htmlPage('bench/checkout-tampered', checkoutPage(FIXED_CHECKOUT, { foreignFormAction: true, foreignScript: true })),
    htmlPage('bench/category-10k', categoryPage(10 * 1024)),
    htmlPage('bench/category-1m', categoryPage(1024 * 1024)),
  ];
}

/** The demo storefront's pages (clean and every tampered variant), fetched over real HTTP on 127.0.0.1. */
export async function demoPages(): Promise<Page[]> {
  const fetched = await fetchDemoPages();
  return fetched.map(({ path, bytes, contentType }) => ({ name: `demo${path}`, bytes, headers: [['content-type', contentType]], url: PAGE_URL, policy: testPolicy(), mode: 'block' }));
}
