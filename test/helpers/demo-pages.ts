/**
 * The demo storefront's pages, clean and every tampered variant, fetched over real HTTP on
 * 127.0.0.1: real pages for the verifier's differential and property tests.
 */
import { startStorefront } from '../../src/demo/storefront.js';
import { VARIANT_NAMES } from '../../src/demo/variants.js';

export interface FetchedPage {
  /** The request path, e.g. `/checkout?variant=iframe`. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

export async function fetchDemoPages(): Promise<FetchedPage[]> {
  const site = await startStorefront({
    listen: { host: '127.0.0.1', port: 0 },
    publicOrigin: 'https://shop.example',
    gatewayOrigin: 'https://pay.gateway.example',
    attackerOrigin: 'https://pay.gateway-example.com',
  });
  try {
    const paths = ['/', '/product/sencha', '/cart', '/checkout', '/demo', ...VARIANT_NAMES.map((v) => `/checkout?variant=${v}`)];
    const pages: FetchedPage[] = [];
    for (const path of paths) {
      const res = await fetch(site.url + path, { redirect: 'manual' });
      pages.push({ path, bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'text/html' });
    }
    return pages;
  } finally {
    await site.close();
  }
}
