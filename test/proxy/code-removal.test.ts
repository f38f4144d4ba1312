/**
 * Issue 18 item 5: a rewrite that knows what it removed. On a rewrite route, a page whose rewrite
 * would neutralise code it runs (the shop's own unlisted inline script: EverShop's cart became a
 * blank page that was counted a successful rewrite) is blocked by default (`rewrite-removes-code`),
 * or served where the route says `codeRemoval: serve`; either way the metric and the log line say
 * code was removed. A rewrite that removes no code (a foreign image) is served as before.
 * Pages: test/proxy/pages/code-removal/.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { Scrape } from '../observe/prom.js';
import { startHarness, type Harness } from './support.js';

const page = (name: string) => ({ headers: [['content-type', 'text/html; charset=utf-8']] as const, body: readFileSync(new URL(`./pages/code-removal/${name}`, import.meta.url)) });

const POLICY = `schema: 1
serial: 1
site: https://shop.example
routes:
  - { path: /strict/**, mode: rewrite }
  - { path: /lenient/**, mode: rewrite, codeRemoval: serve }
  - { path: /**, mode: report }
allow: {}
`;

describe('a rewrite that removes code is blocked by default, or served and said to be', () => {
  let storefront: Storefront;
  let harness: Harness;
  const get = async (path: string) => {
    const response = await request(`${harness.payguard.publicUrl}${path}`);
    return { status: response.statusCode, body: await response.body.text() };
  };
  const metrics = async () => new Scrape(await (await request(`${harness.payguard.adminUrl}/metrics`)).body.text());

  beforeAll(async () => {
    storefront = await startStorefront({
      '/strict/cart': page('unlisted-inline.html'),
      '/lenient/cart': page('unlisted-inline.html'),
      '/strict/image': page('foreign-image.html'),
    });
    harness = await startHarness(storefront, { policyYaml: POLICY });
  });
  afterAll(async () => {
    await harness?.stop();
    await storefront?.close();
  });

  it('default (codeRemoval: block): blocked with rewrite-removes-code, counted and logged as code removed', async () => {
    const served = await get('/strict/cart');
    expect(served.status).toBe(502);
    const scrape = await metrics();
    expect(scrape.sum('payguard_code_removed_total', { route: '/strict/**', action: 'blocked' })).toBe(1);
    expect(scrape.sum('payguard_blocked_responses_total', { route: '/strict/**', reason: 'rewrite-removes-code' })).toBe(1);
    const line = harness.logLines().find((l) => l['event'] === 'violation' && l['route'] === '/strict/**');
    expect(line).toMatchObject({ verdict: 'blocked', codeRemoved: true });
  });

  it('codeRemoval: serve: served rewritten, the script neutralised, counted and logged as code removed', async () => {
    const served = await get('/lenient/cart');
    expect(served.status).toBe(200);
    expect(served.body).toContain('<h1>Your cart</h1>');
    expect(served.body).not.toMatch(/<script>window\.cart/);
    const scrape = await metrics();
    expect(scrape.sum('payguard_code_removed_total', { route: '/lenient/**', action: 'served' })).toBe(1);
    expect(scrape.sum('payguard_responses_total', { route: '/lenient/**', verdict: 'rewritten' })).toBe(1);
    const line = harness.logLines().find((l) => l['event'] === 'violation' && l['route'] === '/lenient/**');
    expect(line).toMatchObject({ verdict: 'rewritten', codeRemoved: true });
  });

  it('a rewrite that removes no code (a foreign image) is served rewritten, with no code-removal count', async () => {
    const served = await get('/strict/image');
    expect(served.status).toBe(200);
    expect(served.body).not.toContain('beacon.attacker.example');
    const scrape = await metrics();
    expect(scrape.sum('payguard_code_removed_total', { route: '/strict/**', action: 'served' })).toBe(0);
    const line = harness.logLines().find((l) => l['event'] === 'violation' && l['route'] === '/strict/**' && l['verdict'] === 'rewritten');
    expect(line).toBeDefined();
    expect(line?.['codeRemoved']).toBeUndefined();
  });
});
