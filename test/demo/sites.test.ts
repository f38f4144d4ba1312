/**
 * The demo's attacks must really work when nothing protects the shop, or the demo proves nothing.
 * A real Chromium checks out on the storefront direct, for the clean checkout and each variant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { startAttacker, type RunningAttacker } from '../../src/demo/attacker.js';
import { startGateway } from '../../src/demo/gateway.js';
import type { RunningSite } from '../../src/demo/http.js';
import { startStorefront } from '../../src/demo/storefront.js';
import { launchChromium } from '../helpers/chromium.js';

let gateway: RunningSite;
let attacker: RunningAttacker;
let storefront: RunningSite;
let browser: Browser;

beforeAll(async () => {
  const listen = { host: '127.0.0.1', port: 0 };
  gateway = await startGateway({ listen });
  attacker = await startAttacker({ listen, gatewayOrigin: gateway.url });
  storefront = await startStorefront({
    listen,
    publicOrigin: 'http://127.0.0.1:1', // payguard is not part of this test
    gatewayOrigin: gateway.url,
    attackerOrigin: attacker.url,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([storefront?.close(), attacker?.close(), gateway?.close()]);
});

async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await fn(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Waits (bounded) until the attacker has captured `count` cards in all. */
async function capturedReaches(count: number): Promise<number> {
  for (let i = 0; i < 100 && attacker.loot.captured < count; i++) await new Promise((r) => setTimeout(r, 50));
  return attacker.loot.captured;
}

describe('demo sites without payguard', () => {
  it('walks the clean shop: product, cart, checkout, and the gateway accepts the payment', async () => {
    const before = attacker.loot.captured;
    await withPage(async (page) => {
      await page.goto(`${storefront.url}/`);
      await page.click('text=Shizuoka sencha');
      await page.click('button:has-text("Add to cart")');
      expect(new URL(page.url()).pathname).toBe('/cart');
      await page.click('text=Go to checkout');
      await Promise.all([page.waitForURL(`${gateway.url}/pay`), page.click('button:has-text("Pay")')]);
      expect(await page.textContent('h1')).toBe('Payment accepted');
    });
    expect(attacker.loot.captured).toBe(before);
  });

  it('fake-form-2019: the card goes to the look-alike host, which shows an error and forwards to the real gateway', async () => {
    const before = attacker.loot.captured;
    await withPage(async (page) => {
      await page.goto(`${storefront.url}/checkout?variant=fake-form-2019`);
      await Promise.all([page.waitForURL(`${attacker.url}/pay`), page.click('button:has-text("Pay")')]);
      expect(await page.textContent('h1')).toBe('An error occurred');
      await page.waitForURL(`${gateway.url}/pay?amount=1800`, { timeout: 15_000 });
    });
    expect(attacker.loot.captured).toBe(before + 1);
    expect(attacker.loot.lastFour[0]).toBe('1111');
  });

  for (const variant of ['skimmer-script', 'inline-skimmer', 'skimmed-bundle'] as const) {
    it(`${variant}: the payment succeeds and the attacker gets a copy of the card`, async () => {
      const before = attacker.loot.captured;
      await withPage(async (page) => {
        await page.goto(`${storefront.url}/checkout?variant=${variant}`);
        await Promise.all([page.waitForURL(`${gateway.url}/pay`), page.click('button:has-text("Pay")')]);
        expect(await page.textContent('h1')).toBe('Payment accepted');
      });
      expect(await capturedReaches(before + 1)).toBe(before + 1);
    });
  }

  it("redirect-302: paying on the gateway's page lands on the attacker's copy of it", async () => {
    await withPage(async (page) => {
      await page.goto(`${storefront.url}/checkout/pay?variant=redirect-302`);
      expect(page.url()).toBe(`${attacker.url}/pay?amount=1800`);
      expect(await page.textContent('h1')).toBe('Secure payment');
    });
    const clean = await request(`${storefront.url}/checkout/pay`);
    expect(clean.statusCode).toBe(302);
    expect(clean.headers.location).toBe(`${gateway.url}/pay?amount=1800`);
    await clean.body.dump();
  });

  it('meta-refresh: the checkout moves itself to the attacker after two seconds', async () => {
    await withPage(async (page) => {
      await page.goto(`${storefront.url}/checkout?variant=meta-refresh`);
      await page.waitForURL(`${attacker.url}/pay?amount=1800`, { timeout: 15_000 });
    });
  });

  it('serves the demo control page with a link for each variant, and 404 for the rest', async () => {
    const res = await request(`${storefront.url}/demo`);
    const html = await res.body.text();
    for (const name of ['fake-form-2019', 'skimmer-script', 'redirect-302', 'inline-skimmer', 'meta-refresh']) {
      expect(html).toContain(`?variant=${name}`);
    }
    const missing = await request(`${storefront.url}/admin`);
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
  });
});
