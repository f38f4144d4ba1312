/**
 * The browser is the judge: a real Chromium navigating through payguard. The page and its frame
 * take the document path (verified), its script the pass-through path; the tampered checkout shows
 * the block page and the card form never renders.
 */
import zlib from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { page, startHarness, type Harness } from './support.js';

const HTML = [['content-type', 'text/html; charset=utf-8']] as const;

describe('Chromium through payguard', () => {
  let storefront: Storefront;
  let harness: Harness;
  let browser: Browser;
  beforeAll(async () => {
    storefront = await startStorefront({
      '/checkout/': { headers: HTML, body: page('clean-checkout.html').toString('utf8').replace('https://cdn.shop.example/shop.js', '/static/shop.js') },
      '/checkout/fake': { headers: HTML, body: page('fake-payment-form.html') },
      '/static/shop.js': { headers: [['content-type', 'text/javascript']], body: 'document.documentElement.dataset.shopJs = "ran";' },
      '/static/shop.css': { headers: [['content-type', 'text/css']], body: 'h1 { color: green }' },
    });
    harness = await startHarness(storefront);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await harness.stop();
    await storefront.close();
  });

  it('renders the clean checkout, with its script loaded through the pass-through path', async () => {
    const tab = await browser.newPage();
    try {
      const response = await tab.goto(`${harness.payguard.publicUrl}/checkout/`);
      expect(response?.status()).toBe(200);
      expect(await tab.locator('form').getAttribute('action')).toBe('https://pay.gateway.example/pay');
      expect(await tab.evaluate('document.documentElement.dataset.shopJs')).toBe('ran');
      const navigation = storefront.requestsFor('/checkout/').at(-1)!;
      const script = storefront.requestsFor('/static/shop.js').at(-1)!;
      expect(navigation.headers['sec-fetch-dest']).toBe('document');
      expect(script.headers['sec-fetch-dest']).toBe('script');
      // The document path offers only what payguard decodes; the pass-through path leaves the browser's offer alone.
      const browserOffer = String(script.headers['accept-encoding']).split(/,\s*/);
      const decodable = ['gzip', 'deflate', 'br', ...('zstdDecompress' in zlib ? ['zstd'] : [])];
      expect(browserOffer).toContain('gzip');
      expect(String(navigation.headers['accept-encoding']).split(/,\s*/)).toEqual(browserOffer.filter((c) => decodable.includes(c)));
    } finally {
      await tab.close();
    }
  });

  it('shows the block page instead of the look-alike card form', async () => {
    const tab = await browser.newPage();
    try {
      const response = await tab.goto(`${harness.payguard.publicUrl}/checkout/fake`);
      expect(response?.status()).toBe(502);
      expect(await tab.locator('form').count()).toBe(0);
      expect(await tab.textContent('body')).toContain(response?.headers()['x-request-id'] ?? 'missing');
    } finally {
      await tab.close();
    }
  });
});
