/**
 * routes[].scriptEval, with the browser as the judge: a checkout whose own code compiles strings at
 * run time (Magento 2's Knockout bindings and underscore templates) works only where the route
 * adds 'unsafe-eval'; everywhere else Chromium refuses `new Function` under payguard's CSP. A
 * release that turns it on is a loosening in `payguard policy diff`.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffPolicies } from '../../src/policy/diff.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { cspHashes } from '../../src/verify/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { startHarness, type Harness } from '../proxy/support.js';
import { SITE, startInternet, type Internet } from './internet.js';

// As Knockout's binding provider and mage/template do: a string compiled into a function.
const COMPILES = `var ran; try { ran = new Function('return "compiled"')(); } catch (e) { ran = 'refused'; } document.documentElement.dataset.evalRan = ran;`;
const PAGE = `<!DOCTYPE html><html><head><title>Checkout</title><script>${COMPILES}</script></head><body><p>checkout</p></body></html>`;

const policy = (evalOn: boolean) => `schema: 1
serial: 1
site: ${SITE}
routes:
  - { path: /checkout/**, mode: block${evalOn ? ', scriptEval: true' : ''} }
  - { path: /account/**, mode: block }
  - { path: /**, mode: report }
allow:
  inline:
    - hash: "${cspHashes(COMPILES)[0]}"
      why: the checkout's template compiler (stands in for Knockout and mage/template)
`;

describe('routes[].scriptEval (Chromium through payguard)', () => {
  let storefront: Storefront;
  let harness: Harness;
  let internet: Internet;
  let browser: Browser;

  beforeAll(async () => {
    const page = (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    };
    storefront = await startStorefront({ '/checkout/pay': page, '/account/orders': page });
    harness = await startHarness(storefront, { policyYaml: policy(true) });
    internet = await startInternet(harness.payguard.publicUrl);
    browser = await launchChromium({ proxy: internet.proxyUrl });
  });
  afterAll(async () => {
    await browser?.close();
    await internet?.close();
    await harness?.stop();
    await storefront?.close();
  });

  async function evalRan(path: string): Promise<{ status: number; ran: string | undefined; csp: string }> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`${SITE}${path}`);
      const ran = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { dataset: Record<string, string | undefined> } } }).document.documentElement.dataset['evalRan']);
      return { status: response?.status() ?? 0, ran, csp: (await response?.allHeaders())?.['content-security-policy'] ?? '' };
    } finally {
      await context.close();
    }
  }

  it("runs the shop's compiled code where the route says scriptEval, and the browser refuses it elsewhere", async () => {
    const checkout = await evalRan('/checkout/pay');
    expect(checkout).toMatchObject({ status: 200, ran: 'compiled' });
    expect(checkout.csp).toMatch(/script-src [^;]*'unsafe-eval'/);
    const account = await evalRan('/account/orders');
    expect(account).toMatchObject({ status: 200, ran: 'refused' });
    expect(account.csp).not.toContain('unsafe-eval');
  });

  it('turning it on is a loosening in policy diff', () => {
    const changes = diffPolicies(parsePolicyText(policy(false), 'old.yaml'), parsePolicyText(policy(true), 'new.yaml'));
    expect(changes).toContainEqual(expect.objectContaining({ change: 'loosened', where: 'routes', subject: '/checkout/**', detail: expect.stringContaining('unsafe-eval') }));
  });
});
