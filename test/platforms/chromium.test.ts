/**
 * Issue 18 item 6, with the browser as the judge: each platform's page (WooCommerce classic and
 * blocks, Magento 2.4, EC-CUBE 4, Shopify Dawn, Next.js App Router, EverShop), rendered with fresh
 * per-request and per-session values, opened in a real Chromium through payguard in block mode:
 * 25 requests in each of two sessions (browser contexts with their own cookies). Every load is
 * served (not blocked) and nothing inline is refused by the browser under the enforced CSP: no
 * `securitypolicyviolation` for script-src. A page the storefront renders anew for each request,
 * so no static list of hashes could pass this.
 */
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { listenOnLoopback } from '../helpers/upstreams.js';
import { startHarness, type Harness } from '../proxy/support.js';
import { GATEWAY, SITE, startInternet, type Internet } from '../second-layer/internet.js';
import { platformPolicyYaml } from './policies.js';
import { PLATFORM_SEED, PLATFORMS, platformModel, renderPlatformPage, type Platform } from './render.js';

const REQUESTS_PER_SESSION = 25;

/** Collects the page's securitypolicyviolation events into `globalThis.__refused`. */
const RECORD_REFUSALS = `
  globalThis.__refused = [];
  addEventListener('securitypolicyviolation', (e) => globalThis.__refused.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + e.sample));
`;
const ORIGINS = { site: SITE, gateway: GATEWAY };

/** The storefront of one platform: its page at its path, a session per cookie, each request a new rendering. */
async function startPlatformShop(platform: Platform): Promise<{ origin: string; close(): Promise<void> }> {
  const requests = new Map<number, number>();
  let nextSession = 1;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== platformModel(platform).path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let session = Number(/(?:^|;\s*)visitor=(\d+)/.exec(req.headers.cookie ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' };
    if (!requests.has(session)) {
      session = nextSession++;
      requests.set(session, 0);
      headers['set-cookie'] = `visitor=${session}; Path=/; HttpOnly`;
    }
    const request = requests.get(session)!;
    requests.set(session, request + 1);
    res.writeHead(200, headers).end(renderPlatformPage(platform, { ...ORIGINS, session, request }));
  });
  const origin = await listenOnLoopback(server);
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe(`real-shaped platform pages through payguard in block mode, in Chromium (seed ${PLATFORM_SEED})`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each(PLATFORMS.map((p) => [p] as const))('%s: 2 sessions × 25 fresh renderings, 0 blocked, 0 refused by the browser', async (platform) => {
    const shop = await startPlatformShop(platform);
    let harness: Harness | undefined;
    let internet: Internet | undefined;
    try {
      harness = await startHarness(undefined, { policyYaml: platformPolicyYaml(platform, ORIGINS), upstream: new URL(shop.origin) });
      internet = await startInternet(harness.payguard.publicUrl);
      const proxied = await launchChromium({ proxy: internet.proxyUrl });
      try {
        const statuses: number[] = [];
        const refused: string[] = [];
        for (const session of [1, 2]) {
          const context = await proxied.newContext();
          // Recorded in the page before any of its scripts run (a DevTools init script, outside the CSP).
          await context.addInitScript(RECORD_REFUSALS);
          const page = await context.newPage();
          for (let i = 0; i < REQUESTS_PER_SESSION; i++) {
            const response = await page.goto(`${SITE}${platformModel(platform).path}`, { waitUntil: 'load' });
            statuses.push(response?.status() ?? 0);
            const seen = (await page.evaluate('globalThis.__refused')) as string[];
            refused.push(...seen.filter((s) => s.startsWith('script-src')).map((s) => `session ${session} request ${i}: ${s}`));
          }
          await context.close();
        }
        expect(statuses.filter((s) => s !== 200), `statuses (seed ${PLATFORM_SEED})`).toEqual([]);
        expect(statuses).toHaveLength(2 * REQUESTS_PER_SESSION);
        expect(refused, `refused by Chromium (seed ${PLATFORM_SEED})`).toEqual([]);
        // Every load was judged by the route in block mode (no verdict other than clean).
        const blocked = harness.logLines().filter((l) => l['event'] === 'violation' || l['event'] === 'refusal');
        expect(blocked, JSON.stringify(blocked.slice(0, 3))).toEqual([]);
      } finally {
        await proxied.close();
      }
    } finally {
      await internet?.close();
      await harness?.stop();
      await shop.close();
    }
  }, 300_000);
});
