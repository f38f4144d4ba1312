/**
 * The real pages the verifier properties start from: every corpus page, the bench's checkout and
 * category pages, the proxy's and the verifier's test pages, and the demo storefront's pages as
 * its server sends them. Each is decoded once (as the verifier would) so mutators can work on text
 * and re-encode it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { categoryPage } from '../../../bench/pages/catalog.js';
import { checkoutPage, FIXED_CHECKOUT } from '../../../bench/pages/checkout.js';
import { VerifyRefusal } from '../../../src/errors.js';
import { decodeDocument } from '../../../src/verify/index.js';
import type { HeaderList } from '../../../src/verify/types.js';
import { loadCorpus } from '../../corpus/cases.js';
import { fetchDemoPages } from '../../helpers/demo-pages.js';

export interface SeedPage {
  /** Where it came from, for failure messages: `corpus/forms/f05-…`, `bench/checkout`, … */
  readonly name: string;
  /** The page as the browser decodes it. */
  readonly text: string;
}

const TEST_DIR = fileURLToPath(new URL('../../', import.meta.url));
const UTF8: HeaderList = [['content-type', 'text/html; charset=utf-8']];

/**
 * Bench pages are cut to about 24 KB: the properties run hundreds of pages per test, and the
 * structure (head, forms, product cards, footer) is all there well before 100 KB.
 */
const BENCH_PAGE_BYTES = 24 * 1024;

export function filePages(): SeedPage[] {
  const corpus = loadCorpus().flatMap((c) => decoded(`corpus/${c.name}`, c.bytes, c.headers));
  const plain = ['proxy/pages', 'verify/fixtures', 'second-layer/pages'].flatMap((dir) =>
    readdirSync(join(TEST_DIR, dir))
      .filter((f) => f.endsWith('.html'))
      .sort()
      .flatMap((f) => decoded(`${dir}/${f}`, new Uint8Array(readFileSync(join(TEST_DIR, dir, f))), [['content-type', 'text/html']])),
  );
  const bench: SeedPage[] = [
    { name: 'bench/checkout', text: checkoutPage(FIXED_CHECKOUT, undefined, BENCH_PAGE_BYTES) },
    { name: 'bench/category-10k', text: categoryPage(10 * 1024) },
  ];
  return [...corpus, ...plain, ...bench];
}

/** The demo storefront's pages (clean and every tampered variant), fetched over real HTTP on 127.0.0.1. */
export async function demoPages(): Promise<SeedPage[]> {
  const fetched = await fetchDemoPages();
  return fetched.flatMap(({ path, bytes, contentType }) => decoded(`demo${path}`, bytes, [['content-type', contentType]]));
}

/** Pages the verifier cannot decode at all (a replacement-encoding corpus case) cannot be mutated as text. */
function decoded(name: string, bytes: Uint8Array, headers: HeaderList): SeedPage[] {
  try {
    return [{ name, text: decodeDocument(bytes, headers.length > 0 ? headers : UTF8, 'windows-1252').text }];
  } catch (err) {
    if (err instanceof VerifyRefusal) return [];
    throw err;
  }
}
