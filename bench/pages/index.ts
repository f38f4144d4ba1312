/**
 * The bench's page set: what the upstream serves at which path, and how a browser would ask for
 * it. payguard picks its document path from the request (Fetch §3.2 `Sec-Fetch-Dest`), so each
 * request carries the header Chromium sends for that kind of load.
 */
export type PageId =
  | 'checkout'
  | 'checkout-gzip'
  | 'checkout-unique'
  | 'checkout-unique-gzip'
  | 'page-10k'
  | 'page-1m'
  | 'asset-js'
  | 'asset-css'
  | 'asset-image'
  | 'checkout-tampered';

/** Fetch's request destination for the load (Fetch §2.2.5), as sent in `Sec-Fetch-Dest`. */
export type Destination = 'document' | 'script' | 'style' | 'image';

export interface BenchPage {
  readonly id: PageId;
  readonly path: string;
  readonly destination: Destination;
  /** Ask for gzip (`Accept-Encoding: gzip`); otherwise the upstream sends identity. */
  readonly gzip: boolean;
  readonly description: string;
  /** The page every payguard row measures must be rewritten (rewrite-mode policy) rather than clean. */
  readonly mustBeRewritten: boolean;
  /** The upstream makes a new body for every request (no two responses are byte-identical). */
  readonly uniquePerRequest: boolean;
}

export const BENCH_PAGES: readonly BenchPage[] = [
  page('checkout', '/checkout/repeated', 'document', false, '100 KB checkout, byte-identical every time'),
  page('checkout-gzip', '/checkout/repeated', 'document', true, '100 KB checkout, identical, gzip'),
  page('checkout-unique', '/checkout/unique', 'document', false, '100 KB checkout, new CSRF token and cart per request'),
  page('checkout-unique-gzip', '/checkout/unique', 'document', true, '100 KB checkout, unique per request, gzip'),
  page('page-10k', '/c/teaware-10k', 'document', false, '10 KB category page'),
  page('page-1m', '/c/teaware-1m', 'document', false, '1 MB category page'),
  page('asset-js', '/assets/shop.js', 'script', false, '50 KB script'),
  page('asset-css', '/assets/shop.css', 'style', false, '50 KB stylesheet'),
  page('asset-image', '/assets/hero.png', 'image', false, '50 KB PNG image'),
  { ...page('checkout-tampered', '/checkout/tampered', 'document', false, '100 KB checkout with a look-alike form action and a foreign script'), mustBeRewritten: true },
];

function page(id: PageId, path: string, destination: Destination, gzip: boolean, description: string): BenchPage {
  return { id, path, destination, gzip, description, mustBeRewritten: false, uniquePerRequest: path === '/checkout/unique' };
}

/** The request headers Chromium 156 sends for this kind of load (the ones payguard reads). */
export function browserRequestHeaders(page: BenchPage): Record<string, string> {
  const headers: Record<string, string> = {
    'sec-fetch-dest': page.destination,
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': page.destination === 'document' ? 'navigate' : 'no-cors',
    accept: ACCEPT[page.destination],
  };
  if (page.gzip) headers['accept-encoding'] = 'gzip';
  return headers;
}

const ACCEPT: Record<Destination, string> = {
  document: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  script: '*/*',
  style: 'text/css,*/*;q=0.1',
  image: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
};

export function pageById(id: string): BenchPage | undefined {
  return BENCH_PAGES.find((p) => p.id === id);
}
