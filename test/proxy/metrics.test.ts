/**
 * Issue 4 "Done when": /metrics values after a known sequence of requests, read with a real
 * Prometheus text-format parser.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { Scrape } from '../observe/prom.js';
import { NAVIGATION, page, startHarness, SUBRESOURCE, type Harness } from './support.js';

const HTML = [['content-type', 'text/html; charset=utf-8']] as const;

describe('/metrics after a known sequence', () => {
  let storefront: Storefront;
  let harness: Harness;
  beforeAll(async () => {
    storefront = await startStorefront({
      '/checkout/clean': { headers: HTML, body: page('clean-checkout.html') },
      '/checkout/fake': { headers: HTML, body: page('fake-payment-form.html') },
      '/rewrite/fake': { headers: HTML, body: page('fake-payment-form.html') },
      '/report/fake': { headers: HTML, body: page('fake-payment-form.html') },
      '/checkout/coded': { headers: [...HTML, ['content-encoding', 'compress']], body: 'x' },
      '/static/shop.js': { headers: [['content-type', 'text/javascript']], body: 'void 0;' },
    });
    harness = await startHarness(storefront);
  });
  afterAll(async () => {
    await harness.stop();
    await storefront.close();
  });

  async function hit(path: string, headers: Record<string, string> = NAVIGATION): Promise<number> {
    const res = await request(`${harness.payguard.publicUrl}${path}`, { headers });
    await res.body.dump();
    return res.statusCode;
  }

  it('counts each verdict, block reason, violation and inspection exactly', async () => {
    expect(await hit('/checkout/clean')).toBe(200);
    expect(await hit('/checkout/clean')).toBe(200);
    expect(await hit('/checkout/fake')).toBe(502);
    expect(await hit('/rewrite/fake')).toBe(200);
    expect(await hit('/report/fake')).toBe(200);
    expect(await hit('/checkout/coded')).toBe(502);
    expect(await hit('/static/shop.js', SUBRESOURCE)).toBe(200);

    const res = await request(`${harness.payguard.adminUrl}/metrics`);
    const scrape = new Scrape(await res.body.text());
    const responses = (route: string, verdict: string): number => scrape.value('payguard_responses_total', { route, verdict });
    expect(responses('/checkout/**', 'clean')).toBe(2);
    expect(responses('/checkout/**', 'blocked')).toBe(2);
    expect(responses('/rewrite/**', 'rewritten')).toBe(1);
    expect(responses('/report/**', 'reported')).toBe(1);
    expect(responses('/**', 'passed')).toBe(1);
    expect(scrape.sum('payguard_responses_total')).toBe(7);

    expect(scrape.value('payguard_blocked_responses_total', { route: '/checkout/**', reason: 'foreign-form-action' })).toBe(1);
    expect(scrape.value('payguard_blocked_responses_total', { route: '/checkout/**', reason: 'unsupported-content-coding' })).toBe(1);
    // One look-alike form on each of the three fake pages (blocked, rewritten, reported).
    expect(scrape.sum('payguard_violations_total', { origin: 'https://pay-gateway.example.net' })).toBe(3);

    const inspection = scrape.family('payguard_inspection_duration_seconds').metrics[0]!;
    // Documents verified: 2 clean + 3 fake (the refused coding never reached the verifier).
    expect(Number(inspection.count)).toBe(5);
    expect(scrape.value('payguard_policy_info', { serial: '1' })).toBe(1);
  });

  it('serves nothing of the admin port on the public port', async () => {
    const res = await request(`${harness.payguard.publicUrl}/metrics`, { headers: SUBRESOURCE });
    const body = await res.body.text();
    expect(body).not.toContain('payguard_responses_total');
  });
});
