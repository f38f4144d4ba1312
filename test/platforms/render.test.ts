/**
 * The platform fixtures themselves (issue 18 item 6), without the verifier: every placeholder is
 * filled, values vary the way the platform's do (per session, per request), a seed replays, and
 * every inline script of every rendering is JavaScript a browser would run (acorn), every data
 * block JSON. Replay a failure with the seed printed at the start: PLATFORM_SEED=<n>.
 */
import { parse } from 'acorn';
import { beforeAll, describe, expect, it } from 'vitest';
import { inlineCodeOf, placeholderNames } from './page-text.js';
import { pageFill, PLATFORM_SEED, PLATFORMS, platformModel, platformPage, renderPlatformPage, sessionCart, tamperedVariants, type Platform } from './render.js';

const ORIGINS = { site: 'https://shop.example', gateway: 'https://pay.gateway.example' };
const SESSIONS = 12;

beforeAll(() => {
  console.log(`platform fixtures: PLATFORM_SEED=${PLATFORM_SEED}`);
});

/** The JavaScript a browser compiles from one piece of inline code, parsed as it would be. */
function parseInline(code: { text: string; sourceType: 'script' | 'module' | 'json'; kind: 'script' | 'handler' }): void {
  if (code.sourceType === 'json') {
    JSON.parse(code.text);
    return;
  }
  // An on* value is a function body (HTML §8.1.8.1): `return` is allowed, as in the browser.
  parse(code.text, { ecmaVersion: 'latest', sourceType: code.sourceType, allowReturnOutsideFunction: code.kind === 'handler' });
}

/** The sessions (of the first 200) whose cart holds product 112, the one named with a literal </script>. */
function sessionWithScriptEndInCart(platform: Platform): number {
  for (let session = 0; session < 200; session++) {
    if (sessionCart(platform, { ...ORIGINS, session }).lines.some((l) => l.product.id === 112)) return session;
  }
  throw new Error('no cart with product 112 in 200 sessions');
}

/**
 * How each platform writes `Sticker pack: <script>, </script> & <style>` where a script carries it:
 * PHP json_encode's `<\/script>`, Magento's JSON_HEX_TAG, Shopify's json filter, jsesc's script
 * context. EC-CUBE carries the cart in markup only, and Next.js inside the flight stream, whose
 * pieces may be cut anywhere (checked decoded, below).
 */
const SCRIPT_END_SPELLING: Partial<Record<Platform, string>> = {
  'woocommerce-classic': 'Sticker pack: <script>, <\\/script> & <style>',
  'woocommerce-blocks': 'Sticker%20pack%3A%20%3Cscript%3E%2C%20%3C%5C%2Fscript%3E%20%26%20%3Cstyle%3E',
  magento: 'Sticker pack: \\u003Cscript\\u003E, \\u003C\\/script\\u003E & \\u003Cstyle\\u003E',
  'shopify-dawn': 'Sticker pack: \\u003cscript\\u003e, \\u003c\\/script\\u003e \\u0026 \\u003cstyle\\u003e',
  evershop: 'Sticker pack: <script>, <\\/script> & <style>',
};

describe.each(PLATFORMS)('%s', (platform) => {
  const model = platformModel(platform);
  const page = platformPage(platform);
  const render = (session: number, request: number, seed?: number): string =>
    renderPlatformPage(platform, { ...ORIGINS, session, request, ...(seed === undefined ? {} : { seed }) });

  it('the page file is a plausible size and names what it models', () => {
    expect(page.length).toBeGreaterThan(5_000);
    expect(page.length).toBeLessThan(41_000);
    expect(model.models.length).toBeGreaterThan(40);
  });

  it('every placeholder and section of the page is filled, for every session', () => {
    const { placeholders, sections } = placeholderNames(page);
    for (let session = 0; session < SESSIONS; session++) {
      const fill = pageFill(platform, { ...ORIGINS, session, request: 0 });
      for (const section of sections) expect(fill.sections[section], `frames for {{#${section}}}`).toBeDefined();
      const html = render(session, 0);
      expect(html).not.toMatch(/\{\{[#/]?\w+\}\}/);
    }
    expect(placeholders.size).toBeGreaterThan(3);
  });

  it('two requests of one session differ exactly in the per-request values', () => {
    const first = pageFill(platform, { ...ORIGINS, session: 3, request: 1 });
    const second = pageFill(platform, { ...ORIGINS, session: 3, request: 2 });
    const changed = [
      ...Object.keys(first.values).filter((k) => first.values[k] !== second.values[k]),
      ...Object.keys(first.sections).filter((k) => JSON.stringify(first.sections[k]) !== JSON.stringify(second.sections[k])),
    ].sort();
    expect(changed).toEqual([...model.perRequest].sort());
    if (model.perRequest.length === 0) expect(render(3, 2)).toBe(render(3, 1));
    else expect(render(3, 2)).not.toBe(render(3, 1));
  });

  it('two sessions differ in their per-session values', () => {
    const a = pageFill(platform, { ...ORIGINS, session: 4, request: 1 });
    const b = pageFill(platform, { ...ORIGINS, session: 5, request: 1 });
    const perSession = Object.keys(a.values).filter((k) => !model.perRequest.includes(k) && !(k in model.siteValues(ORIGINS)));
    expect(perSession.some((k) => a.values[k] !== b.values[k])).toBe(true);
    expect(render(5, 1)).not.toBe(render(4, 1));
  });

  it('the site values are the same for every visitor', () => {
    const site = model.siteValues(ORIGINS);
    for (const session of [0, 7]) {
      const fill = pageFill(platform, { ...ORIGINS, session, request: session });
      for (const [k, v] of Object.entries(site)) expect(fill.values[k]).toBe(v);
    }
  });

  it('a seed replays byte for byte; another seed renders another page', () => {
    const seed = PLATFORM_SEED ^ 0x5eed;
    expect(render(2, 9, seed)).toBe(render(2, 9, seed));
    expect(render(2, 9, seed)).not.toBe(render(2, 9, seed + 1));
  });

  it('every inline script and handler of every rendering is JavaScript the browser would run; every data block is JSON', () => {
    for (let session = 0; session < SESSIONS; session++) {
      for (const request of [0, 1]) {
        const { code, dataBlocks } = inlineCodeOf(render(session, request));
        expect(code.length).toBeGreaterThan(0);
        for (const c of code) expect(() => parseInline(c), `${c.label} (session ${session}, request ${request})`).not.toThrow();
        for (const block of dataBlocks) {
          if (/json|x-magento-init/.test(block.type)) expect(() => JSON.parse(block.text), block.label).not.toThrow();
        }
      }
    }
  });

  it('the cart has 0 to 6 rows', () => {
    const sizes = new Set<number>();
    for (let session = 0; session < 200; session++) sizes.add(sessionCart(platform, { ...ORIGINS, session }).lines.length);
    expect([...sizes].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a cart item named with </script> is escaped as the platform escapes it', () => {
    const session = sessionWithScriptEndInCart(platform);
    const html = render(session, 0);
    const spelling = SCRIPT_END_SPELLING[platform];
    if (spelling !== undefined) expect(html).toContain(spelling);
    // The name never ends a script early: the parse test above would fail, and the scripts hold it whole.
    const { code } = inlineCodeOf(html);
    for (const c of code) expect(c.text).not.toMatch(/<\/script/i);
    if (platform === 'nextjs') {
      const flight = code.filter((c) => c.text.startsWith('self.__next_f.push([1,')).map((c) => (JSON.parse(c.text.slice('self.__next_f.push('.length, -1)) as [number, string])[1]);
      expect(flight.length).toBeGreaterThanOrEqual(8);
      expect(flight.length).toBeLessThanOrEqual(13);
      expect(flight.join('')).toContain('"title":"Sticker pack: <script>, </script> & <style>"');
    }
    if (platform === 'eccube') expect(html).toContain('Sticker pack: &lt;script&gt;, &lt;/script&gt; &amp; &lt;style&gt;');
  });

  it('every tampered variant applies to every rendering and changes it', () => {
    const variants = tamperedVariants(platform);
    expect(variants.length).toBeGreaterThanOrEqual(4);
    for (let session = 0; session < SESSIONS; session++) {
      const html = render(session, session);
      for (const variant of variants) expect(variant.tamper(html), variant.name).not.toBe(html);
    }
  });
});
