/**
 * Issue 4: "a verification over its time limit is a block on protected routes", and the verifier
 * pool recovers (the stuck worker is terminated and replaced). Also: 1xx Early Hints are not
 * forwarded (evasion-vectors H-09).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, rawRequest, startHarness, type Harness } from './support.js';

const HTML = [['content-type', 'text/html; charset=utf-8']] as const;

describe('verification time limit', () => {
  let storefront: Storefront;
  let harness: Harness;
  beforeAll(async () => {
    // ~6 MB of forms: far more than a 1 ms verification budget allows.
    const heavy = '<!DOCTYPE html><body>' + '<form action="/cart"><input name=q><button>go</button></form>\n'.repeat(100_000);
    storefront = await startStorefront({
      '/checkout/heavy': { headers: HTML, body: heavy },
      '/report/heavy': { headers: HTML, body: heavy },
    });
    harness = await startHarness(storefront, { verifyTimeoutMs: 1 });
  });
  afterAll(async () => {
    await harness.stop();
    await storefront.close();
  });

  it('blocks a page whose verification runs over the limit on a protected route, and keeps serving', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(`${harness.payguard.publicUrl}/checkout/heavy`, { headers: NAVIGATION });
      await res.body.dump();
      expect(res.statusCode).toBe(502);
      const line = harness.logLines().find((l) => l.requestId === res.headers['x-request-id'] && l.event === 'refusal');
      expect(line?.reason).toBe('inspection-timeout');
    }
  });

  it('serves the original on a report route and logs the refusal', async () => {
    const res = await request(`${harness.payguard.publicUrl}/report/heavy`, { headers: NAVIGATION });
    const body = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(body.length).toBeGreaterThan(6_000_000);
  });
});

describe('1xx responses', () => {
  let storefront: Storefront;
  let harness: Harness;
  beforeAll(async () => {
    storefront = await startStorefront({
      '/checkout/hints': (_req, res) => {
        res.writeEarlyHints({ link: '<https://skimmer.attacker.example/s.js>; rel=preload; as=script' });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page('clean-checkout.html'));
      },
      '/checkout/truncated': { raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<!DOCTYPE html><form action=' },
    });
    harness = await startHarness(storefront);
  });
  afterAll(async () => {
    await harness.stop();
    await storefront.close();
  });

  it('does not forward 103 Early Hints', async () => {
    const response = await rawRequest(harness.payguard.publicUrl, 'GET /checkout/hints HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    expect(response.slice(0, 12)).toBe('HTTP/1.1 200');
    // The status line, not any '103' (a random request id can contain those digits).
    expect(response).not.toMatch(/^HTTP\/1\.1 103/m);
    expect(response).not.toContain('skimmer.attacker.example');
  });

  it('refuses a body cut off mid-way as an upstream error', async () => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/truncated`, { headers: NAVIGATION });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    const line = harness.logLines().find((l) => l.requestId === res.headers['x-request-id'] && l.event === 'refusal');
    expect(line?.reason).toBe('upstream-error');
  });
});
