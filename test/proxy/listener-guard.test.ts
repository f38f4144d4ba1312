/**
 * Issue 16 item 4, "no process-wide crash from a listener": a throw inside any event listener
 * payguard registers (the server's request and upgrade handlers, http-proxy-3's proxyReq, proxyRes
 * and error, the CSP report and form-sink body readers) becomes one 502 (or a cut socket where no
 * response exists) and a counted internal error, and the next request is served. The throw is
 * injected through the ListenerFaults seam (src/proxy/http/listener-guard.ts): no real input makes
 * these listeners throw today. Were a throw to escape, it would end this test process (payguard
 * runs in-process here), and vitest reports an uncaught error as a failure.
 */
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUARDED_LISTENERS, type GuardedListener } from '../../src/proxy/http/listener-guard.js';
import { withoutGuard } from '../helpers/navigation-guard.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, startHarness, SUBRESOURCE, type Harness } from './support.js';

const HTML = [['content-type', 'text/html; charset=utf-8']] as const;
const CLEAN = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>ok</title></head><body><p>ok</p></body></html>';

/** Throws once, at the next call of the armed listener. */
class OneFault {
  armed: GuardedListener | undefined;
  inject(listener: GuardedListener): void {
    if (listener !== this.armed) return;
    this.armed = undefined;
    throw new Error(`injected fault in ${listener}`);
  }
}

let storefront: Storefront;
let harness: Harness;
const faults = new OneFault();

beforeAll(async () => {
  storefront = await startStorefront({
    '/shop/page': { headers: HTML, body: CLEAN },
    '/shop/app.js': { headers: [['content-type', 'text/javascript']], body: 'console.log(1);' },
    // The storefront drops the connection: http-proxy-3 emits 'error' on the pass-through path.
    '/shop/broken.js': (req) => req.socket.destroy(),
  });
  harness = await startHarness(storefront, { listenerFaults: faults });
});
afterAll(async () => {
  await harness.stop();
  await storefront.close();
});

async function internalErrors(route: string): Promise<number> {
  const metric = await harness.metrics.registry.getSingleMetric('payguard_blocked_responses_total')?.get();
  return metric?.values.find((v) => v.labels.route === route && v.labels.reason === 'internal-error')?.value ?? 0;
}

async function send(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  const res = await request(`${harness.payguard.publicUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.statusCode, text: await res.body.text() };
}

/** How each guarded listener is reached by a real request. */
const TRIGGERS: Record<Exclude<GuardedListener, 'upgrade'>, { path: string; headers: Record<string, string>; method?: string; body?: string; route: string }> = {
  request: { path: '/shop/page', headers: NAVIGATION, route: '/**' },
  'proxy-request': { path: '/shop/app.js', headers: SUBRESOURCE, route: '/**' },
  'proxy-response': { path: '/shop/app.js', headers: SUBRESOURCE, route: '/**' },
  'proxy-error': { path: '/shop/broken.js', headers: SUBRESOURCE, route: '/**' },
  'report-body': {
    path: '/.well-known/payguard/csp-report',
    headers: { 'content-type': 'application/csp-report' },
    method: 'POST',
    body: JSON.stringify({ 'csp-report': { 'document-uri': 'http://shop.test/', 'violated-directive': 'script-src', 'blocked-uri': 'https://evil.test/x.js' } }),
    route: '/**',
  },
  'sink-body': { path: '/.well-known/payguard/sink', headers: { 'content-type': 'application/x-www-form-urlencoded' }, method: 'POST', body: 'card=4111', route: '/**' },
};

describe('a throw inside a listener', () => {
  it('covers every guarded listener', () => {
    expect([...Object.keys(TRIGGERS), 'upgrade'].sort()).toEqual([...GUARDED_LISTENERS].sort());
  });

  for (const [listener, trigger] of Object.entries(TRIGGERS) as [Exclude<GuardedListener, 'upgrade'>, (typeof TRIGGERS)[keyof typeof TRIGGERS]][]) {
    it(`in ${listener}: one 502, a counted internal error, and the next request is served`, async () => {
      const before = await internalErrors(trigger.route);
      faults.armed = listener;
      const failed = await send(trigger.path, trigger.headers, trigger.method, trigger.body);
      expect(faults.armed).toBeUndefined(); // the fault did fire
      expect(failed.status).toBe(502);
      expect(failed.text).not.toContain('console.log');
      expect(await internalErrors(trigger.route)).toBe(before + 1);
      expect(harness.logLines().some((l) => l.event === 'request-failed' && JSON.stringify(l.error).includes(`injected fault in ${listener}`))).toBe(true);

      const next = await send('/shop/page', NAVIGATION);
      expect(next.status).toBe(200);
      // `/**` is a block route with its CSP: the page comes with the navigation guard first in <head>.
      expect(withoutGuard(Buffer.from(next.text)).toString()).toBe(CLEAN);
    });
  }

  it('in upgrade: the socket is cut, an internal error is counted, and the next request is served', async () => {
    const before = await internalErrors('/**');
    faults.armed = 'upgrade';
    const url = new URL(harness.payguard.publicUrl);
    const ended = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          'GET /shop/live HTTP/1.1\r\nHost: shop.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
      });
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(faults.armed).toBeUndefined();
    expect(ended).not.toContain('101');
    expect(await internalErrors('/**')).toBe(before + 1);
    const next = await send('/shop/page', NAVIGATION);
    expect(next.status).toBe(200);
  });
});
