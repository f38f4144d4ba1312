/**
 * Oversize headers. Requests: over Node's header limit (16 KiB, `--max-http-header-size`) is a 431
 * from the parser before any handler runs; payguard keeps serving. Responses: a storefront whose
 * headers pass undici's limit (the same 16 KiB) is an upstream failure, so a protected route fails
 * closed with `upstream-error` and no upstream byte reaches the browser.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream, startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, startHarness, SUBRESOURCE, type Harness } from '../proxy/support.js';
import { exchange } from './hostile/raw-client.js';

const KIB = 1024;

describe('oversize request headers', () => {
  let upstream: RecordingUpstream;
  let harness: Harness;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    harness = await startHarness(undefined, { upstream: upstream.origin });
  });
  afterAll(async () => {
    await harness?.stop();
    await upstream?.close();
  });

  const head = 'GET /report/a HTTP/1.1\r\nHost: shop.example\r\nSec-Fetch-Dest: script\r\n';

  it.each([
    ['one huge cookie (17 KiB)', `Cookie: session=${'a'.repeat(17 * KIB)}\r\n`],
    ['many small headers (20 KiB in all)', Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${'v'.repeat(12)}\r\n`).join('')],
    ['a huge request target', ''],
  ])('%s: 431 from the parser, nothing forwarded, and the next request is served', async (name, headers) => {
    upstream.reset();
    const start = name.startsWith('a huge request target') ? `GET /report/${'p'.repeat(17 * KIB)} HTTP/1.1\r\nHost: shop.example\r\n` : head;
    const { statuses } = await exchange(harness.payguard.publicUrl, `${start}${headers}\r\n`);
    expect(statuses).toEqual([431]);
    expect(upstream.requests).toEqual([]);
    const next = await exchange(harness.payguard.publicUrl, `${head}Connection: close\r\n\r\n`);
    expect(next.statuses).toEqual([200]);
  });

  it('a cookie just under the limit (15 KiB) is forwarded whole', async () => {
    upstream.reset();
    const cookie = `session=${'b'.repeat(15 * KIB)}`;
    const { statuses } = await exchange(harness.payguard.publicUrl, `${head}Cookie: ${cookie}\r\nConnection: close\r\n\r\n`);
    expect(statuses).toEqual([200]);
    expect(upstream.requests.map((r) => r.headers.find(([n]) => n === 'cookie')?.[1])).toEqual([cookie]);
  });

  it('more than 2000 header lines (Node keeps the first 2000): a Content-Length past them does not desynchronise the storefront', async () => {
    upstream.reset();
    const many = Array.from({ length: 2100 }, (_, i) => `X${i}: 1\r\n`).join('');
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: shop.example\r\n\r\n';
    const { statuses } = await exchange(harness.payguard.publicUrl, `POST /report/a HTTP/1.1\r\nHost: shop.example\r\n${many}Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
    expect(upstream.requests.flatMap((r) => r.ambiguities)).toEqual([]);
    expect(upstream.requests.map((r) => r.target)).not.toContain('/smuggled');
    expect(upstream.requests.length).toBe(statuses.filter((s) => s < 400).length);
  });
});

describe('oversize upstream response headers', () => {
  let storefront: Storefront;
  let harness: Harness;
  /** The body is a marker that must never reach the client. */
  const huge = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: big=${'c'.repeat(20 * KIB)}\r\nContent-Length: 5\r\n\r\nUPSTR`;
  const many = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n${Array.from({ length: 1500 }, (_, i) => `X-Upstream-${i}: ${'v'.repeat(8)}\r\n`).join('')}Content-Length: 5\r\n\r\nUPSTR`;

  beforeAll(async () => {
    storefront = await startStorefront({
      '/checkout/huge': { raw: huge },
      '/checkout/many': { raw: many },
      '/report/huge': { raw: huge },
      '/checkout/app.js': { raw: huge },
      '/checkout/ok': { headers: [['content-type', 'text/html']], body: page('clean-checkout.html') },
    });
    harness = await startHarness(storefront);
  });
  afterAll(async () => {
    await harness?.stop();
    await storefront?.close();
  });

  it.each(['/checkout/huge', '/checkout/many'])('%s on a protected route: 502 block page, no upstream byte', async (path) => {
    const res = await request(`${harness.payguard.publicUrl}${path}`, { headers: NAVIGATION });
    const body = await res.body.text();
    expect(res.statusCode).toBe(502);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(body).not.toContain('UPSTR');
    const refusal = harness.logLines().find((l) => l['event'] === 'refusal' && l['path'] === path);
    expect(refusal?.['reason']).toBe('upstream-error');
  });

  it('on a report route there is nothing whole to serve either: 502', async () => {
    const res = await request(`${harness.payguard.publicUrl}/report/huge`, { headers: NAVIGATION });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
  });

  it('on the pass-through path: 502, not a crash', async () => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/app.js`, { headers: SUBRESOURCE });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
  });

  it('keeps serving and counts the failures', async () => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/ok`, { headers: NAVIGATION });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const metrics = await (await request(`${harness.payguard.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/payguard_blocked_responses_total\{route="\/checkout\/\*\*",reason="upstream-error"\} [2-9]/);
    expect(metrics).toMatch(/payguard_upstream_errors_total\{kind="protocol"\} [3-9]/);
  });
});
