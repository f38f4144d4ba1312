import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startAdminServer, type AdminServer } from '../../src/observe/admin.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { Scrape } from './prom.js';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

async function get(path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(admin!.url + path, { method });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('admin server', () => {
  it('serves /metrics as Prometheus text that a real parser reads', async () => {
    const metrics = createMetrics();
    metrics.recordResponse('/checkout/**', 'blocked');
    metrics.recordBlocked('/checkout/**', 'foreign-script');
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics, isReady: () => true });
    expect(admin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(metrics.registry.contentType);
    const s = new Scrape(res.body);
    expect(s.value('payguard_blocked_responses_total', { route: '/checkout/**', reason: 'foreign-script' })).toBe(1);
    expect(s.value('payguard_responses_total', { route: '/checkout/**', verdict: 'blocked' })).toBe(1);
  });

  it('answers /readyz 200 only while isReady() says a verified policy is in force', async () => {
    let ready = false;
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), isReady: () => ready });
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    ready = false;
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('fails readiness closed when the check throws, and reports liveness from isLive', async () => {
    let live = true;
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      metrics: createMetrics(),
      isReady: () => {
        throw new Error('no policy loaded');
      },
      isLive: () => live,
    });
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/healthz')).status).toBe(200);
    live = false;
    expect((await get('/healthz')).status).toBe(503);
  });

  it('answers HEAD like GET without a body, 405 to other methods and 404 elsewhere', async () => {
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), isReady: () => true });
    const head = await get('/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    const post = await get('/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await get('/')).status).toBe(404);
    expect((await get('/metrics/../admin')).status).toBe(404);
    expect((await get('/readyz?verbose=1')).status).toBe(200);
  });

  it('rejects a port already in use with the listen error', async () => {
    admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), isReady: () => true });
    const port = Number(new URL(admin.url).port);
    await expect(
      startAdminServer({ host: '127.0.0.1', port, metrics: createMetrics(), isReady: () => true }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('closes promptly while a scraper holds a keep-alive connection', async () => {
    const server = await startAdminServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), isReady: () => true });
    const res = await request(server.url + '/healthz');
    await res.body.text();
    await server.close();
    await expect(request(server.url + '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
