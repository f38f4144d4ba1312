/**
 * The test storefront for inventory: the pages in fixtures/shop served on 127.0.0.1, plus a
 * second server standing in for a third-party CDN. `{{CDN}}` in the pages becomes its origin.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';

const FIXTURES = new URL('./fixtures/shop/', import.meta.url);

export const SCRIPT_BODIES = {
  '/assets/app.js': 'console.log("shop");\n',
  '/lib/analytics.js': 'window.analytics = { track() {} };\n',
  '/sdk/pay.js': 'window.Pay = { mount() {} };\n',
};

export interface TestShop {
  readonly shop: Storefront;
  readonly cdn: Storefront;
  readonly expected: {
    pages: string[];
    forms: string[];
    scripts: Record<string, string[]>;
    frames: string[];
    inline: string[];
    blockRoutes: string[];
  };
  close(): Promise<void>;
}

export function sri(body: string): string {
  return `sha384-${createHash('sha384').update(body).digest('base64')}`;
}

export async function startTestShop(): Promise<TestShop> {
  const cdn = await startStorefront({
    '/lib/analytics.js': { headers: [['content-type', 'text/javascript']], body: SCRIPT_BODIES['/lib/analytics.js'] },
    '/sdk/pay.js': { headers: [['content-type', 'text/javascript']], body: SCRIPT_BODIES['/sdk/pay.js'] },
  });
  const page = async (name: string) => ({
    headers: [['content-type', 'text/html; charset=utf-8']] as [string, string][],
    body: (await readFile(new URL(name, FIXTURES), 'utf8')).replaceAll('{{CDN}}', cdn.origin.origin),
  });
  const shop = await startStorefront({
    '/': await page('index.html'),
    '/products/1': await page('product.html'),
    '/cart/': await page('cart.html'),
    '/checkout/': await page('checkout.html'),
    '/assets/app.js': { headers: [['content-type', 'text/javascript']], body: SCRIPT_BODIES['/assets/app.js'] },
  });
  const expected = JSON.parse((await readFile(new URL('expected.json', FIXTURES), 'utf8')).replaceAll('{{CDN}}', cdn.origin.origin)) as TestShop['expected'];
  return { shop, cdn, expected, close: async () => void (await Promise.all([shop.close(), cdn.close()])) };
}
