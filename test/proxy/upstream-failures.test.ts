/**
 * Issue 4: "Upstream down: 502; slow: 504 after --upstream-timeout. A payguard error never crashes
 * the process and never serves an unverified document."
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, startHarness, SUBRESOURCE, type Harness } from './support.js';

describe('upstream failures', () => {
  let storefront: Storefront;
  let harness: Harness;

  beforeAll(async () => {
    storefront = await startStorefront({
      '/checkout/slow': { delayMs: 3_000, headers: [['content-type', 'text/html']], body: page('clean-checkout.html') },
      '/static/slow.js': { delayMs: 3_000, headers: [['content-type', 'text/javascript']], body: 'void 0;' },
      // Headers, then a body cut off mid-way: the connection closes before Content-Length bytes arrive.
      '/checkout/truncated': { raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<!DOCTYPE html><form action=' },
      // Both Content-Length and Transfer-Encoding: a request-smuggling shape llhttp refuses (H-05).
      '/checkout/desync': { raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
    });
    harness = await startHarness(storefront, { upstreamTimeoutMs: 500 });
  });
  afterAll(async () => {
    await harness.stop();
    await storefront.close();
  });

  it('answers 504 with the block page when the storefront is slower than --upstream-timeout', async () => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/slow`, { headers: NAVIGATION });
    const body = await res.body.text();
    expect(res.statusCode).toBe(504);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(body).toContain(String(res.headers['x-request-id']));
    expect(body).not.toContain('Card number');
  });

  it('answers 504 on the pass-through path too', async () => {
    const res = await request(`${harness.payguard.publicUrl}/static/slow.js`, { headers: SUBRESOURCE });
    await res.body.dump();
    expect(res.statusCode).toBe(504);
  });

  it('blocks a page whose body is cut off, never serving the part that arrived', async () => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/truncated`, { headers: NAVIGATION });
    const body = await res.body.text();
    expect(res.statusCode).toBe(502);
    expect(body).not.toContain('<form action=');
  });

  it('blocks a response with both Content-Length and Transfer-Encoding', async () => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/desync`, { headers: NAVIGATION });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
  });

  it('counts upstream errors by kind', async () => {
    const text = await (await request(`${harness.payguard.adminUrl}/metrics`)).body.text();
    expect(text).toMatch(/payguard_upstream_errors_total\{kind="timeout"\} [1-9]/);
  });
});

describe('storefront down', () => {
  let harness: Harness;

  beforeAll(async () => {
    // A port that was just free: nothing listens there.
    const port = await freePort();
    harness = await startHarness(undefined, { upstream: new URL(`http://127.0.0.1:${port}`) });
  });
  afterAll(async () => {
    await harness.stop();
  });

  it('answers 502 on both paths, and keeps serving', async () => {
    for (const headers of [NAVIGATION, SUBRESOURCE, NAVIGATION]) {
      const res = await request(`${harness.payguard.publicUrl}/checkout/`, { headers });
      const body = await res.body.text();
      expect(res.statusCode).toBe(502);
      expect(body).toContain('temporarily unavailable');
    }
    const blocked = harness.logLines().filter((l) => l.event === 'refusal');
    expect(blocked.some((l) => l.reason === 'upstream-unavailable')).toBe(true);
  });
});
