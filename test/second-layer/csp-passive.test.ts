/**
 * Issue 17 class 2, the browser's half: a code path the verifier cannot see (an allowed inline
 * script, by hash) makes every kind of passive load to an attacker: `new Image().src`, a CSS
 * background set from script, `FontFace`, an injected stylesheet, a video, a fetch. Through real
 * payguard, the CSP built from `default-src 'none'` and the policy's lists (src/policy/csp.ts) makes
 * Chromium refuse every one, while the same loads to the CDN the lists name still happen. On a
 * route with the CSP switched off the same page reaches the attacker: the test can fail.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { listenOnLoopback, startStorefront, type Storefront } from '../helpers/upstreams.js';
import { startHarness, type Harness } from '../proxy/support.js';
import { fixture } from './world.js';

const SITE = 'http://shop.localhost';
const CDN = 'http://cdn.localhost';
const ATTACKER = 'http://evil.localhost';
/** The six loads the page's script makes to each host (passive-beacons.html). */
const LOADS = ['/image', '/background', '/font', '/stylesheet', '/media', '/fetch'];
/**
 * The effective directive Chromium reports for each load to the attacker (CSP3 §6.1; a <link
 * rel=stylesheet> is style-src-elem, which falls back to style-src; FontFace is font-src).
 */
const REFUSED: Record<string, string> = {
  '/image': 'img-src',
  '/background': 'img-src',
  '/font': 'font-src',
  '/stylesheet': 'style-src-elem',
  '/media': 'media-src',
  '/fetch': 'connect-src',
};

const PAGE = fixture('passive-beacons.html');
const INLINE = /<script>([\s\S]*?)<\/script>/.exec(PAGE.toString('utf8'))![1]!;
const INLINE_HASH = `sha256-${createHash('sha256').update(INLINE, 'utf8').digest('base64')}`;

const POLICY = `schema: 1
serial: 1
site: ${SITE}
routes:
  - path: /checkout/**
    mode: block
  - path: /plain/**
    mode: block
    csp: "off"
  - path: /**
    mode: report
allow:
  image: [{ origin: "${CDN}", why: product images CDN }]
  style: [{ origin: "${CDN}", why: theme stylesheet }]
  font: [{ origin: "${CDN}", why: web fonts }]
  media: [{ origin: "${CDN}", why: product video }]
  connect: [{ origin: "${CDN}", why: stock API }]
  inline: [{ hash: "${INLINE_HASH}", why: the page's own loader (test) }]
`;

interface TestNetwork {
  readonly proxyUrl: string;
  /** Paths each host received, by host name. */
  readonly received: Map<string, string[]>;
  close(): Promise<void>;
}

/** An HTTP forward proxy: shop.localhost → payguard; cdn and evil answer everything and record the path (never bodies). */
async function startNetwork(payguardUrl: string): Promise<TestNetwork> {
  const payguard = new URL(payguardUrl);
  const received = new Map<string, string[]>([['cdn.localhost', []], ['evil.localhost', []]]);
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', `http://${req.headers.host ?? 'unknown'}`);
    if (target.hostname === 'shop.localhost') {
      const upstream = http.request({ host: payguard.hostname, port: payguard.port, method: req.method, path: target.pathname + target.search, headers: { ...req.headers, connection: 'close' } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders.filter((_, i, all) => !['connection', 'keep-alive', 'transfer-encoding'].includes((i % 2 === 0 ? all[i] : all[i - 1])!.toLowerCase())));
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      return;
    }
    req.resume();
    const log = received.get(target.hostname);
    if (!log) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('no such host in the test network');
      return;
    }
    log.push(target.pathname);
    const type = target.pathname === '/stylesheet' ? 'text/css' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'access-control-allow-origin': '*', 'cache-control': 'no-store' });
    res.end(target.pathname === '/stylesheet' ? 'p{color:black}' : '');
  });
  const proxyUrl = await listenOnLoopback(server);
  return {
    proxyUrl,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls until `condition` holds, bounded: the assertion that follows says what was missing. */
async function until(condition: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

describe('the CSP governs every passive load (Chromium through payguard)', () => {
  let storefront: Storefront;
  let harness: Harness;
  let network: TestNetwork;
  let browser: Browser;

  beforeAll(async () => {
    const html = { headers: [['content-type', 'text/html; charset=utf-8']] as const, body: PAGE };
    storefront = await startStorefront({ '/checkout/beacons': html, '/plain/beacons': html });
    harness = await startHarness(storefront, { policyYaml: POLICY });
    network = await startNetwork(harness.payguard.publicUrl);
    browser = await launchChromium({ proxy: network.proxyUrl });
  });
  afterAll(async () => {
    await browser?.close();
    await network?.close();
    await harness?.stop();
    await storefront?.close();
  });

  const hostGot = (host: string): string[] => network.received.get(host)!;

  async function open(path: string): Promise<{ context: BrowserContext; blocked: () => Promise<string[]> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${SITE}${path}`);
    return { context, blocked: () => page.evaluate(() => (globalThis as unknown as { blockedDirectives: string[] }).blockedDirectives) };
  }

  it('without the CSP, the script reaches the attacker by every kind of load (the attack works)', async () => {
    const { context } = await open('/plain/beacons');
    try {
      await until(() => LOADS.every((l) => hostGot('evil.localhost').includes(l)));
      expect([...new Set(hostGot('evil.localhost'))].sort()).toEqual([...LOADS].sort());
    } finally {
      await context.close();
    }
  });

  it("with payguard's CSP, no load reaches the attacker and every load to the allowed CDN still happens", async () => {
    network.received.set('evil.localhost', []);
    network.received.set('cdn.localhost', []);
    const { context, blocked } = await open('/checkout/beacons');
    try {
      // Wait for both halves: the CDN has every load, and Chromium reported every directive it enforced.
      await until(async () => {
        const refused = await blocked();
        return LOADS.every((l) => hostGot('cdn.localhost').includes(l)) && refused.length >= LOADS.length;
      });
      const refusals = (await blocked()).map((r) => r.split('?')[0]!);
      expect([...new Set(hostGot('cdn.localhost'))].sort()).toEqual([...LOADS].sort());
      // Exactly one refusal per load to the attacker, each by the directive built from its list.
      expect([...refusals].sort()).toEqual(LOADS.map((l) => `${REFUSED[l]} ${ATTACKER}${l}`).sort());
      expect(hostGot('evil.localhost')).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the CSP payguard sends starts from default-src 'none' and names a directive per destination", async () => {
    const res = await fetch(`${harness.payguard.publicUrl}/checkout/beacons`, { headers: { host: 'shop.localhost' } });
    const csp = res.headers.get('content-security-policy') ?? '';
    await res.arrayBuffer();
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    for (const name of ['img-src', 'font-src', 'media-src', 'connect-src']) expect(directives.get(name), name).toContain(CDN);
    expect(directives.get('style-src')).toEqual([SITE, CDN, "'unsafe-inline'"]);
    for (const name of ['manifest-src', 'worker-src', 'frame-src', 'form-action', 'script-src', 'base-uri', 'object-src']) expect(directives.has(name), name).toBe(true);
    expect(directives.get('object-src')).toEqual(["'none'"]);
  });
});
