/**
 * The release manifest as Chromium meets it (issue 17, class 3), through payguard in front of a real
 * static file server. The browser is the judge:
 * - a pinned module's static import `import './app.js?lang=en'` of a tampered file is fetched with
 *   Sec-Fetch-Dest script, refused by payguard, and the module graph does not run;
 * - the CSP payguard adds lists the manifest's paths, not the site's origin, so a same-origin script
 *   the manifest does not list is blocked by Chromium itself before any request leaves it, however
 *   a tampered script spells it; a listed script with any query still loads (CSP3 §6.7.2.12 path
 *   matching ignores the query).
 * The site is payguard's own address (http://127.0.0.1:PORT), so the CSP's sources are the origin
 * Chromium sees.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinDirectory } from '../../src/cli/commands/pin.js';
import { createPayguard, type RunningPayguard } from '../../src/proxy/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { signedPolicy, type SignedPolicy } from '../helpers/policies.js';
import { freePort } from '../helpers/upstreams.js';
import { policyWithManifest, startBuildServer, type BuildServer } from './first-party-world.js';

const APP = 'document.documentElement.dataset.app = "ran";\n';
const CHECKOUT = 'import "./app.js?lang=en";\ndocument.documentElement.dataset.checkout = "ran";\n';
const SKIM = 'document.documentElement.dataset.skim = "ran";\n';
const PAGE = '<!doctype html><html><head><title>Checkout</title><script type="module" src="/static/checkout.js?v=3"></script></head><body><form action="https://pay.gateway.example/pay" method="post"><input id="card"><button>Pay</button></form></body></html>';

describe('Chromium and the release manifest', () => {
  let build: BuildServer;
  let policy: SignedPolicy;
  let payguard: RunningPayguard;
  let browser: Browser;
  let site: string;

  beforeAll(async () => {
    build = await startBuildServer();
    build.write('/static/app.js', APP);
    build.write('/static/checkout.js', CHECKOUT);
    build.write('/static/vendor.js', 'window.vendor = 1;\n');
    const { release } = await pinDirectory(`${build.root}/static`, '/static/');
    // Files the intruder adds after the release: none is in the manifest.
    build.write('/static/checkout.7c1d2e.js', CHECKOUT + SKIM);
    build.write('/uploads/avatar.js', SKIM);
    build.dynamic.set('/checkout/', (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
    const port = await freePort();
    site = `http://127.0.0.1:${port}`;
    policy = signedPolicy(policyWithManifest(site, release, '  - { path: /checkout/**, mode: block }\n  - { path: /**, mode: report }'));
    payguard = await createPayguard({
      upstream: build.origin,
      listen: { host: '127.0.0.1', port },
      admin: { host: '127.0.0.1', port: 0 },
      policyFile: policy.policyFile,
      publicKeyFiles: [policy.publicKeyFile],
      stateDir: policy.stateDir,
      log: new PassThrough().resume(),
      maxInspectBytes: 8 * 1024 * 1024,
      upstreamTimeoutMs: 10_000,
      verifyTimeoutMs: 10_000,
      drainTimeoutMs: 2_000,
      trustedProxies: [],
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await payguard?.close();
    policy?.remove();
    await build?.close();
  });

  /** Opens the checkout in a fresh context (no cache) and returns the markers the scripts left. */
  async function openCheckout(): Promise<{ status: number | undefined; app?: string; checkout?: string }> {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      const response = await tab.goto(`${site}/checkout/`);
      // Module scripts are deferred: after `load`, the graph has run or failed.
      await tab.waitForLoadState('load');
      const markers = (await tab.evaluate('({ ...document.documentElement.dataset })')) as { app?: string; checkout?: string };
      return { status: response?.status(), ...markers };
    } finally {
      await context.close();
    }
  }

  it("runs the pinned module and its static import './app.js?lang=en' when the bytes are the released ones", async () => {
    expect(await openCheckout()).toEqual({ status: 200, app: 'ran', checkout: 'ran' });
    const imported = build.requests.filter((r) => r.target === '/static/app.js?lang=en');
    expect(imported.at(-1)?.dest).toBe('script');
  });

  it("does not run a pinned module whose static import './app.js?lang=en' was tampered with", async () => {
    build.write('/static/app.js', APP + SKIM);
    try {
      const opened = await openCheckout();
      expect(opened.status).toBe(200);
      // The import failed (payguard answered 502), so neither module of the graph ran.
      expect(opened.app).toBeUndefined();
      expect(opened.checkout).toBeUndefined();
    } finally {
      build.write('/static/app.js', APP);
    }
    expect((await openCheckout()).checkout).toBe('ran');
  });

  it('blocks, in the browser and before any request, a same-origin script the manifest does not list, however a script spells it', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    try {
      await tab.goto(`${site}/checkout/`);
      // Runs in the page (tsconfig.test.json has no DOM types, so it is written as page source).
      const LOAD = `(src) => new Promise((resolve) => {
        let violation;
        const onViolation = (e) => { if (e.effectiveDirective.startsWith('script-src')) violation = e.blockedURI; };
        document.addEventListener('securitypolicyviolation', onViolation);
        const script = document.createElement('script');
        script.src = src;
        // The violation event is queued as a task: let it fire before reporting.
        const done = (loaded) => setTimeout(() => {
          document.removeEventListener('securitypolicyviolation', onViolation);
          resolve({ loaded, violation });
        }, 0);
        script.onload = () => done(true);
        script.onerror = () => done(false);
        document.head.append(script);
      })`;
      const load = async (src: string): Promise<{ loaded: boolean; violation: string | undefined }> => {
        const result = (await tab.evaluate(`(${LOAD})(${JSON.stringify(src)})`)) as { loaded: boolean; violation?: string };
        return { loaded: result.loaded, violation: result.violation };
      };
      const unlisted = fc.tuple(
        fc.constantFrom('/static/checkout.7c1d2e.js', '/uploads/avatar.js', '/static/vendor.js/../checkout.7c1d2e.js', '/STATIC/app.js', '/static/app.js/', '/static//app.js', '/static/app.jsx'),
        fc.constantFrom('', '?v=3', '?lang=en', '#x'),
        fc.constantFrom('', `${site}`, `//127.0.0.1:${new URL(site).port}`),
      );
      const seen: string[] = [];
      await fc.assert(
        fc.asyncProperty(unlisted, async ([path, suffix, prefix]) => {
          const src = `${prefix}${path}${suffix}`;
          const before = build.requests.length;
          const result = await load(src);
          seen.push(src);
          expect(result.loaded, src).toBe(false);
          expect(result.violation, src).toBeDefined();
          // Chromium never asked for it: the CSP, not payguard's proxy, stopped it.
          expect(build.requests.slice(before).map((r) => r.target), src).toEqual([]);
        }),
        { numRuns: 25 },
      );
      expect(seen.length).toBe(25);
      // A listed script with any query loads, and the browser's own check let it through.
      expect(await load('/static/vendor.js?cache=2')).toEqual({ loaded: true, violation: undefined });
    } finally {
      await context.close();
    }
  });
});
