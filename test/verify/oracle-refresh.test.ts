/**
 * The Refresh oracle (issue 17, class 1; docs/vectors.md N-02, N-03): Chromium's reading of
 * `<meta http-equiv=refresh>` and of the `Refresh` header departs from the HTML Standard's shared
 * declarative refresh steps, and payguard must judge the URL Chromium navigates to. Every page here
 * is served from 127.0.0.1 and opened in a real Chromium; the refresh it schedules is read from the
 * DevTools protocol (Page.frameScheduledNavigation, sent when the refresh is scheduled, so no test
 * waits for a delay to run out). payguard's reading is the verifier's own: the meta-refresh finding
 * of verifyDocument, and the refresh-header finding of verifyHeaders.
 *
 * Generated spellings (fast-check) cover both quote kinds, nested and unbalanced quotes, whitespace
 * (tabs, newlines, form feeds, vertical tabs, Unicode spaces), `;` and `,` separators and none,
 * `url=` case and spacing and `url` without `=`, times such as `0`, `.5`, `1.`, `-1`, `+1`, huge and
 * missing, and character references in the meta's content. A failure prints the seed and path:
 * replay with ORACLE_SEED=<seed> ORACLE_PATH=<path>; ORACLE_RUNS sets the number of pages.
 */
import fc from 'fast-check';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/model.js';
import { headerRefresh, parseDeclarativeRefresh, verifyDocument, verifyHeaders } from '../../src/verify/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { testPolicy } from './policy.js';

/** Pages per generated property; small by default (2 shared cores), raise it to explore. */
const RUNS = Number(process.env.ORACLE_RUNS ?? 30);
/** Bounds every wait on the browser. */
const LOAD_TIMEOUT_MS = 20_000;
/** Upper bound of the round trip that flushes DevTools events (see chromiumReading). */
const SETTLE_LIMIT_MS = 3_000;

let server: StaticServer;
let browser: Browser;
let context: BrowserContext;
let policy: Policy;
let pageCount = 0;

beforeAll(async () => {
  server = await startStaticServer();
  policy = testPolicy({ site: server.origin, routes: [{ path: '/**', mode: 'block' }] });
  browser = await launchChromium();
  context = await browser.newContext();
  // Nothing leaves the machine: a refresh that fires is aborted, and so is anything not on loopback.
  await context.route('**/*', (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.origin === server.origin && !(request.isNavigationRequest() && url.pathname.startsWith('/after/'))) return route.continue();
    return route.abort('aborted');
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

/** What a page's refresh does: the URL Chromium scheduled, or 'none'. */
type Reading = { readonly url: string } | 'none';

/**
 * Opens a page and returns the refresh Chromium scheduled for it. A refresh scheduled while parsing
 * (meta) or at commit (header) is reported before the load event; the round trip on the same
 * DevTools session after `load` makes sure its event has arrived.
 */
async function chromiumReading(headers: readonly (readonly [string, string])[], body: string): Promise<Reading> {
  const path = `/page/${pageCount++}`;
  server.set(path, { headers: [['content-type', 'text/html; charset=utf-8'], ...headers], body: new TextEncoder().encode(body) });
  const page = await context.newPage();
  try {
    const cdp = await context.newCDPSession(page);
    const scheduled: string[] = [];
    cdp.on('Page.frameScheduledNavigation', (e) => {
      if (e.reason === 'metaTagRefresh' || e.reason === 'httpHeaderRefresh') scheduled.push(e.url);
    });
    await cdp.send('Page.enable');
    await page.goto(server.origin + path, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS }).catch(() => undefined);
    // A round trip on the same session, so that every event sent before it has arrived. Bounded:
    // after a refresh to a URL that does not parse, Chromium 156 never answers it (the renderer is
    // left mid-navigation), and the events came before the load all the same.
    await Promise.race([cdp.send('Runtime.evaluate', { expression: '0' }), new Promise((resolve) => setTimeout(resolve, SETTLE_LIMIT_MS))]);
    // HttpRefreshScheduler keeps the earliest refresh; with one refresh per page there is at most one.
    const last = scheduled.at(-1);
    return last === undefined ? 'none' : { url: comparable(last) };
  } finally {
    // Bounded like the round trip above: closing a page left mid-navigation must not hang the suite.
    await Promise.race([page.close(), new Promise((resolve) => setTimeout(resolve, SETTLE_LIMIT_MS))]);
  }
}

/**
 * A URL as both sides can be compared: Chromium's URL parser percent-encodes `'` in userinfo and
 * the WHATWG parser does not (a URL-parser difference, not a Refresh one; the origin is the same),
 * so userinfo is left out.
 */
function comparable(url: string): string {
  if (!URL.canParse(url)) return '(unparsable)';
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/** payguard's reading of a meta refresh: the verifier's meta-refresh finding on the same page. */
function payguardMeta(body: string, pageUrl: string): Reading {
  const verified = verifyDocument({ bytes: new TextEncoder().encode(body), url: pageUrl, headers: [['content-type', 'text/html; charset=utf-8']], policy, mode: 'block' });
  const refresh = verified.findings.filter((f) => f.kind === 'meta-refresh');
  if (refresh.length === 0) return { url: pageUrl };
  const url = refresh.at(-1)?.url;
  return { url: url === undefined ? '(unparsable)' : comparable(url) };
}

/** payguard's reading of Refresh header lines: the verifier's refresh-header finding. */
function payguardHeader(lines: readonly string[], pageUrl: string): Reading {
  const findings = verifyHeaders(lines.map((v) => ['refresh', v] as const), pageUrl, policy).filter((f) => f.kind === 'refresh-header');
  if (findings.length === 0) return { url: pageUrl };
  const url = findings.at(-1)?.url;
  return { url: url === undefined ? '(unparsable)' : comparable(url) };
}

/**
 * payguard reports a finding only for a refresh that names a URL; a refresh with no URL reloads the
 * page itself, which is what its reading `{ url: pageUrl }` above stands for. So the comparison
 * needs to know whether payguard thinks a refresh happens at all: parseDeclarativeRefresh says.
 */
function payguardMetaReading(content: string, body: string, pageUrl: string): Reading {
  if (parseDeclarativeRefresh(content, 'meta') === undefined) return 'none';
  return payguardMeta(body, pageUrl);
}

function payguardHeaderReading(lines: readonly string[], pageUrl: string): Reading {
  if (headerRefresh(lines.map((v) => ['refresh', v] as const)) === undefined) return 'none';
  return payguardHeader(lines, pageUrl);
}

/** The page a meta content is served in (the content escaped into a double-quoted attribute). */
function metaPage(attribute: string): string {
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="${attribute}"><title>r</title></head><body><p>checkout</p></body></html>\n`;
}

function escapeAttribute(content: string): string {
  return content.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
}

function nextUrl(): string {
  return `${server.origin}/page/${pageCount}`;
}

/** The meta's reading by both, for a content string (escaped plainly). */
async function bothMeta(content: string): Promise<{ chromium: Reading; payguard: Reading }> {
  const body = metaPage(escapeAttribute(content));
  const pageUrl = nextUrl();
  return { chromium: await chromiumReading([], body), payguard: payguardMetaReading(content, body, pageUrl) };
}

async function bothHeader(lines: readonly string[]): Promise<{ chromium: Reading; payguard: Reading }> {
  const pageUrl = nextUrl();
  const body = '<!DOCTYPE html><title>r</title><p>checkout</p>';
  return { chromium: await chromiumReading(lines.map((v) => ['refresh', v] as const), body), payguard: payguardHeaderReading(lines, pageUrl) };
}

describe('departures from the spec: Chromium decides (each is cited in src/verify/refresh.ts)', () => {
  it('a quoted URL ends at the last matching quote, not the first', async () => {
    // Spec: https:  (then "https:" fails to parse on an http page: no refresh at all).
    const { chromium, payguard } = await bothMeta("0; url='https:'x@evil.example/'");
    expect(chromium).toEqual({ url: 'https://evil.example/' });
    expect(payguard).toEqual(chromium);
  });

  it('an unbalanced opening quote takes the rest of the content', async () => {
    const { chromium, payguard } = await bothMeta('0; url="http://evil.example/open');
    expect(chromium).toEqual({ url: 'http://evil.example/open' });
    expect(payguard).toEqual(chromium);
  });

  it('the URL is stripped of Unicode whitespace (the URL parser keeps U+2000: a path, not a host)', async () => {
    const { chromium, payguard } = await bothMeta('0;url=\u2000//evil.example/ws');
    expect(chromium).toEqual({ url: 'http://evil.example/ws' });
    expect(payguard).toEqual(chromium);
  });

  it('the time is stripped of Unicode whitespace (\\v and U+3000 before the digits)', async () => {
    for (const content of ['\v0;url=//evil.example/vt', '\u30000;url=//evil.example/ideographic']) {
      const { chromium, payguard } = await bothMeta(content);
      expect(chromium, content).not.toBe('none');
      expect(payguard, content).toEqual(chromium);
    }
  });

  it('time spellings: fractions are times, signs and exponents are not', async () => {
    const expected: Record<string, boolean> = { '0': true, '.5': true, '1.': true, '0.5.5': true, '00': true, '-1': false, '+1': false, '1e2': false, '.': false, '': false };
    for (const [time, scheduled] of Object.entries(expected)) {
      const { chromium, payguard } = await bothMeta(`${time};url=//evil.example/t`);
      expect(chromium !== 'none', `time "${time}"`).toBe(scheduled);
      expect(payguard, `time "${time}"`).toEqual(chromium);
    }
  });

  it('a delay above 2147483 s is never scheduled', async () => {
    // The delay is whole seconds: 2147483.9 is 2147483, still scheduled.
    for (const [time, scheduled] of [['2147483', true], ['2147483.9', true], ['2147484', false], ['2147484.0', false], ['99999999999', false]] as const) {
      const { chromium, payguard } = await bothMeta(`${time};url=//evil.example/late`);
      expect(chromium !== 'none', `time ${time}`).toBe(scheduled);
      expect(payguard, `time ${time}`).toEqual(chromium);
    }
  });

  it('the header separates with space and tab only; a form feed there is part of the time', async () => {
    const { chromium, payguard } = await bothHeader(['0 ;\turl = http://evil.example/h']);
    expect(chromium).toEqual({ url: 'http://evil.example/h' });
    expect(payguard).toEqual(chromium);
  });

  it('a URL the parser rejects is still scheduled by Chromium (and goes nowhere); payguard reports it as unparsable', async () => {
    // A delay, so the page is closed before the refresh fires: what is asserted is what Chromium
    // schedules, and a page left mid-navigation to a URL that does not parse can hang DevTools.
    const { chromium, payguard } = await bothMeta('5;url=http://[bad');
    expect(chromium).toEqual({ url: '(unparsable)' });
    expect(payguard).toEqual(chromium);
  });

  it('two Refresh lines that each name no URL make one refresh that does', async () => {
    const { chromium, payguard } = await bothHeader(['0', 'url=http://evil.example/joined']);
    expect(chromium).toEqual({ url: 'http://evil.example/joined' });
    expect(payguard).toEqual(chromium);
  });
});

/** Building blocks of a refresh spelling. */
const WHITESPACE_META = [' ', '\t', '\n', '\f', '\r', '\v', '\u2000', '\u3000', '\u00a0'];
const WHITESPACE_HEADER = [' ', '\t', '\u00a0'];
const TIMES = ['0', '1', '00', '.5', '1.', '0.5.5', '..5', '.', '-1', '+1', '1e2', '0x', '', '2147483', '2147484', '99999999999'];
const SEPARATORS = ['', ';', ',', ';;', ',;', ' '];
const URL_WORDS = ['', 'url', 'URL', 'Url', 'uRl', 'ur', 'urlx', 'u'];
const EQUALS = ['', '=', '==', ' = '];
const QUOTES = ['', '"', "'"];
const TARGETS = [
  'http://evil.example/a',
  '//evil.example/b',
  '/local/c',
  'evil.example/d',
  '',
  'http://evil.example/"q',
  "http://evil.example/'q",
  "https:'x@evil.example/e",
  'https:"x@evil.example/f',
  '\\\\evil.example/g',
  'http://[bad',
  ' http://evil.example/sp ',
];
const TAILS = ['', '"', "'", ' junk', '" junk', "' junk", '"x"', "'x'", "' 'http://evil.example/tail'", '" "//evil.example/tail2"'];

function spelling(whitespace: readonly string[]): fc.Arbitrary<string> {
  const ws = fc.array(fc.constantFrom(...whitespace), { maxLength: 2 }).map((a) => a.join(''));
  return fc
    .tuple(ws, fc.constantFrom(...TIMES), ws, fc.constantFrom(...SEPARATORS), ws, fc.constantFrom(...URL_WORDS), ws, fc.constantFrom(...EQUALS), ws, fc.constantFrom(...QUOTES), fc.constantFrom(...TARGETS), fc.constantFrom(...TAILS), ws)
    .map((parts) => parts.join(''));
}

/** The content written into the attribute, some characters as character references (decoded by the tokenizer). */
function withReferences(content: string, picks: readonly number[]): string {
  const REFERENCES: Record<string, readonly string[]> = {
    ';': ['&#59;', '&semi;', '&#x3b;'],
    ',': ['&#44;', '&comma;'],
    '=': ['&#61;', '&equals;'],
    '"': ['&quot;', '&#34;', '&QUOT;'],
    "'": ['&#39;', '&apos;'],
    '\t': ['&Tab;', '&#9;'],
    '\n': ['&NewLine;', '&#10;'],
    '\r': ['&#13;'],
    u: ['&#117;'],
    '/': ['&sol;', '&#47;'],
  };
  let out = '';
  [...content].forEach((c, i) => {
    const choices = REFERENCES[c];
    const pick = picks[i % Math.max(1, picks.length)] ?? 0;
    if (choices && (pick % 3 !== 0 || c === '\r')) out += choices[pick % choices.length]!;
    else out += c === '&' ? '&amp;' : c === '"' ? '&quot;' : c;
  });
  return out;
}

function assertOptions(): fc.Parameters<unknown> {
  const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
  return {
    numRuns: RUNS,
    ...(seed === undefined ? {} : { seed }),
    ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}),
  };
}

describe('generated spellings: payguard judges the URL Chromium navigates to', () => {
  it('meta refresh: for every generated content (character references included) payguard\'s URL is Chromium\'s', async () => {
    const property = fc.asyncProperty(spelling(WHITESPACE_META), fc.array(fc.nat(20), { minLength: 1, maxLength: 8 }), async (content, picks) => {
      const body = metaPage(withReferences(content, picks));
      const pageUrl = nextUrl();
      const chromium = await chromiumReading([], body);
      // The tokenizer decodes the references back to `content` (a CR is always written as one: a raw
      // CR in markup becomes LF before tokenizing).
      const payguard = payguardMetaReading(content, body, pageUrl);
      expect(payguard, `content ${JSON.stringify(content)} written as ${JSON.stringify(withReferences(content, picks))}`).toEqual(chromium);
    });
    await fc.assert(property, assertOptions());
  }, 600_000);

  it('Refresh header, one to three lines: payguard judges the lines\' combination as Chromium does', async () => {
    const lines = fc.array(spelling(WHITESPACE_HEADER), { minLength: 1, maxLength: 3 });
    const property = fc.asyncProperty(lines, async (values) => {
      const { chromium, payguard } = await bothHeader(values);
      expect(payguard, `lines ${JSON.stringify(values)}`).toEqual(chromium);
    });
    await fc.assert(property, assertOptions());
  }, 600_000);
});
