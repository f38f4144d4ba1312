/**
 * Issue 17 class 4 for the release manifest's JSON files (docs/vectors.md N-06): a same-origin JSON
 * file the shop's scripts read is data like a `data-*` attribute. Released with a foreign URL in it
 * (an intruder who could also re-run the release job, or a mistake), it is refused on a protected
 * route with `unlisted-url`, and served but logged on a report route. Real HTTP: a static file
 * server with the build on disk, payguard in front, the manifest made by `payguard pin`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinDirectory } from '../../src/cli/commands/pin.js';
import { unlistedUrlsInJson } from '../../src/verify/finders/carried-urls.js';
import { FOREIGN_VALUES } from '../verify/carried-world.js';
import { testPolicy } from '../verify/policy.js';
import { getExact, policyWithManifest, startBuildServer, type BuildServer } from './first-party-world.js';
import { startHarness, type Harness } from './support.js';

const SITE = 'https://shop.example';
const ROUTES = `  - path: /static/checkout/**
    mode: block
  - path: /**
    mode: report`;

const FILES: Record<string, string> = {
  '/static/checkout/app.js': 'fetch("/static/checkout/config.json").then((r) => r.json()).then((c) => { location.href = c.payment.redirect; });',
  '/static/checkout/config.json': JSON.stringify({ payment: { redirect: 'https:\\/\\/evil.example/pay' }, shop: '/' }).replace('\\\\/\\\\/', '\\/\\/'),
  '/static/checkout/ok.json': JSON.stringify({ home: '/', next: '/checkout/pay', gateway: 'https://pay.gateway.example/3ds' }),
  '/static/catalogue/links.json': JSON.stringify({ share: 'https://social.evil.example/share' }),
};

describe('URLs in the manifest\'s JSON files (issue 17 class 4)', () => {
  let build: BuildServer;
  let harness: Harness;

  beforeAll(async () => {
    build = await startBuildServer();
    for (const [path, body] of Object.entries(FILES)) build.write(path, body);
    const { release } = await pinDirectory(`${build.root}/static`, '/static/');
    const extra = `  navigate: [{ origin: https://pay.gateway.example, why: 3-D Secure }]\n`;
    harness = await startHarness(undefined, { upstream: build.origin, policyYaml: policyWithManifest(SITE, release, ROUTES).replace('allow:\n', `allow:\n${extra}`) });
  });
  afterAll(async () => {
    await harness?.stop();
    await build?.close();
  });

  it('refuses a released JSON file carrying a foreign URL on a protected route (unlisted-url), whatever the request says it is for', async () => {
    for (const dest of ['empty', 'json', undefined]) {
      const res = await getExact(harness.payguard.publicUrl, '/static/checkout/config.json', dest);
      expect(res.status, String(dest)).toBe(502);
    }
    const line = harness.logLines().find((l) => l['event'] === 'first-party-data-url');
    expect(line).toMatchObject({ origin: 'https://evil.example', list: 'navigate', path: '/static/checkout/config.json' });
    expect(harness.logLines().filter((l) => l['event'] === 'first-party-data-url' && l['path'] === '/static/checkout/config.json')).toHaveLength(3);
  });

  it('serves a JSON file naming only the site and the policy\'s origins', async () => {
    const res = await getExact(harness.payguard.publicUrl, '/static/checkout/ok.json', 'empty');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(FILES['/static/checkout/ok.json']);
  });

  it('serves it on a report route and logs the origin with the list it would need', async () => {
    const res = await getExact(harness.payguard.publicUrl, '/static/catalogue/links.json', 'empty');
    expect(res.status).toBe(200);
    const line = harness.logLines().find((l) => l['event'] === 'first-party-data-url' && l['path'] === '/static/catalogue/links.json');
    expect(line).toMatchObject({ origin: 'https://social.evil.example', list: 'navigate' });
  });

  it('finds every generated spelling of a foreign URL in a JSON file, as JSON.parse gives it to the code', () => {
    const policy = testPolicy();
    fc.assert(
      fc.property(fc.constantFrom(...FOREIGN_VALUES.filter((v) => !/^https:evil/.test(v))), fc.constantFrom('url', 'image', '@context'), fc.boolean(), (value, key, escapeSlashes) => {
        let json = JSON.stringify({ data: [{ [key]: value }] });
        if (escapeSlashes) json = json.replace(/\//g, '\\/');
        const found = unlistedUrlsInJson(policy, json);
        expect(found.some((f) => new URL(f.url).hostname.endsWith('evil.example')), `${key}: ${JSON.stringify(value)}`).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
