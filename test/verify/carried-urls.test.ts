/**
 * Issue 17 class 4, the verifier alone: URLs carried in data (docs/vectors.md N-06). The cases are
 * generated (carriers × spellings × encodings, test/verify/carried-world.ts); which of them make
 * Chromium go to the attacker is the oracle's (test/verify/oracle-carried-urls.test.ts). Here the
 * invariants that need no browser: both parser paths agree, a rewrite leaves no foreign URL and
 * verifies clean, report routes list without blocking, legitimate data never breaks a page.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareWithPolicy } from '../../src/inventory/compare.js';
import { draftPolicyYaml } from '../../src/inventory/draft.js';
import type { InventoryItem } from '../../src/inventory/inventory.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { judgeCarriedUrl, neededList } from '../../src/verify/finders/carried-urls.js';
import { rewriteDocument, verifyDocument } from '../../src/verify/index.js';
import { urlReadings } from '../../src/verify/url-readings.js';
import { carriedCase, carriedPolicy, caseName, FOREIGN_VALUES, LEGIT_VALUES, page, TEXT_SPLIT_AFTER_SCHEME, type CarriedCase } from './carried-world.js';
import { htmlInput, SITE } from './policy.js';

const RUNS = Number(process.env.CARRIED_RUNS ?? 300);
const policy = carriedPolicy(SITE);
const input = (c: CarriedCase, mode: 'block' | 'rewrite' | 'report' = 'block') => htmlInput(page([c], false), { policy, mode });

/** The spellings that name evil.example whatever reads them (no decoding step or http-only quirk needed). */
const ALWAYS_FOREIGN = FOREIGN_VALUES.filter((v) => !v.includes('%') && !/^https:evil/.test(v));

describe('URLs carried in data (issue 17 class 4)', () => {
  it('never reports clean when a foreign URL is carried in data the shop code reads, on either parser path', () => {
    fc.assert(
      fc.property(carriedCase(ALWAYS_FOREIGN), (c) => {
        for (const parser of ['fast-when-unambiguous', 'full'] as const) {
          const verdict = verifyDocument(input(c), { parser });
          const foreign = verdict.violations.filter((f) => f.url !== undefined && new URL(f.url).hostname.endsWith('evil.example'));
          expect(foreign.length, `${caseName(c)} (${parser})`).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('on rewrite routes, neutralises every carried foreign URL and the rewritten page verifies clean', () => {
    fc.assert(
      fc.property(carriedCase(FOREIGN_VALUES), (c) => {
        const doc = input(c, 'rewrite');
        const verdict = verifyDocument(doc);
        if (verdict.violations.length === 0) return;
        const rewritten = rewriteDocument(doc, verdict, { sinkPath: '/.well-known/payguard/sink' });
        expect(rewritten.verified.violations, caseName(c)).toEqual([]);
        // No spelling of a URL on the attacker's host is left (a split text's tail, `mple.evil.example/pay`, is a relative path).
        expect(new TextDecoder().decode(rewritten.bytes), caseName(c)).not.toMatch(/(?:https?:|&#x68;ttps:|ht\ttps:|[/\\]{2}|&sol;&sol;)[^"'<>\s]*evil\.example/i);
      }),
      { numRuns: RUNS },
    );
  });

  it('on report routes, lists every carried foreign URL (for the inventory) without a violation', () => {
    fc.assert(
      fc.property(carriedCase(ALWAYS_FOREIGN), (c) => {
        const verdict = verifyDocument(input(c, 'report'));
        expect(verdict.violations.filter((f) => f.kind === 'carried-url'), caseName(c)).toEqual([]);
        // Listed as carried data, or by the finder that judges the same place as a load (a CSS string as an image).
        expect(verdict.findings.some((f) => f.url !== undefined && new URL(f.url).hostname.endsWith('evil.example')), caseName(c)).toBe(true);
      }),
      { numRuns: Math.floor(RUNS / 3) },
    );
  });

  it('never breaks a page for data naming the site, the policy, or no URL at all', () => {
    fc.assert(
      fc.property(carriedCase(LEGIT_VALUES), (c) => {
        // Read alone, the run after `https:<!---->` is scheme-relative: judged as such (see the oracle).
        fc.pre(!(c.carrier === 'element text' && c.variant === TEXT_SPLIT_AFTER_SCHEME));
        const verdict = verifyDocument(input(c));
        const dataFindings = verdict.violations.filter((f) => f.kind !== 'css-url');
        expect(dataFindings, caseName(c)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('names the list the URL would need: image for image data, navigate otherwise', () => {
    expect(['og:image', 'data-src', 'logo', 'thumbnailUrl', 'data-bg', 'image'].map(neededList)).toEqual(Array(6).fill('image'));
    expect(['data-pay-url', 'content', 'href', 'url', 'redirect', 'text'].map(neededList)).toEqual(Array(6).fill('navigate'));
  });

  it('allows any list naming the origin, and only http(s) URLs are judged', () => {
    const judge = (url: string) => judgeCarriedUrl(policy, 'block', new URL(url));
    expect(judge('https://img.cdn.example/a.png')).toMatchObject({ allowed: true, entry: { why: 'product images' } });
    expect(judge('https://js.gateway.example/x')).toMatchObject({ allowed: true });
    // A URL entry names its origin too (cdn.example/lib/ is a script prefix).
    expect(judge('https://cdn.example/other')).toMatchObject({ allowed: true });
    expect(judge('https://evil.example/')).toMatchObject({ allowed: false, reason: 'unlisted-url' });
    expect(judge('mailto:x@evil.example')).toMatchObject({ allowed: true });
    expect(judgeCarriedUrl(policy, 'report', new URL('https://evil.example/'))).toMatchObject({ allowed: true });
  });

  it('the inventory drafts the lists legitimate carried URLs need, and no entry for an origin another list names', () => {
    const carried = (list: 'navigate' | 'image', url: string): InventoryItem => ({
      list, kinds: ['carried-url'], address: url, origin: new URL(url).origin, hashes: undefined, sri: undefined, pages: [`${SITE}/checkout/`], self: false,
    });
    const items: InventoryItem[] = [
      carried('navigate', 'https://schema.org/'),
      carried('navigate', 'https://www.instagram.com/teashop'),
      carried('image', 'https://img.cdn.example/og.png'),
      // Named by the form list already: no navigate entry for it.
      carried('navigate', 'https://pay.gateway.example/3ds'),
      { list: 'form', kinds: ['form-action'], address: 'https://pay.gateway.example/charge', origin: 'https://pay.gateway.example', hashes: undefined, sri: undefined, pages: [`${SITE}/checkout/`], self: false },
    ];
    const draft = parsePolicyText(draftPolicyYaml(items, SITE, [`${SITE}/checkout/`]), 'draft.yaml');
    const origins = (list: 'navigate' | 'image') => draft.allow[list].map((e) => (e.type === 'origin' ? e.origin : ''));
    expect(origins('navigate')).toEqual(['https://schema.org', 'https://www.instagram.com']);
    expect(origins('image')).toEqual(['https://img.cdn.example']);
    // Compared with its own draft, nothing is new: a carried URL is satisfied by any list naming its origin.
    expect(compareWithPolicy(items, draft).new).toEqual([]);
    const verdict = verifyDocument(htmlInput(page([{ carrier: 'JSON-LD', value: 'https://www.instagram.com/teashop', variant: 0, decodes: false }], false), { policy: { ...draft, site: SITE } }));
    expect(verdict.violations.filter((f) => f.kind === 'carried-url')).toEqual([]);
  });

  // Regression, issue 18 item 7: EverShop inlines its Tailwind v4 sheet on every page, and the
  // escaped `group/name` classes (`.group-data-\[size\=sm\]\/alert-dialog-content\:grid`), read as
  // raw text, were 90 scheme-relative URLs (`//alert-dialog-content/:grid`) that blocked every page.
  it('reads CSS values only: no URL in a selector, an at-rule prelude or a comment between rules', () => {
    const sheet = [
      '/*! tailwindcss v4.3.5 | MIT License | https://tailwindcss.com */',
      ':is(:where(.group\\/alert-dialog-content)[data-size=sm] .group-data-\\[size\\=sm\\]\\/alert-dialog-content\\:grid){display:grid}',
      '.shadow-\\[0_0_0_\\/_12\\%\\]{--tw-shadow:0 0 #0000}',
      'a[href*="//instagram.example"]{color:red}',
      '@media (min-width:1px){.x\\/y:hover{color:red}}',
      '@supports (--x://evil.example){.z{color:red}}',
    ].join('\n');
    const carried = (html: string) => verifyDocument(htmlInput(html, { policy })).violations.filter((f) => f.kind === 'carried-url').map((f) => f.url);
    expect(carried(`<!doctype html><style>${sheet}</style><p>shop</p>`)).toEqual([]);
    // The same sheet with values that carry URLs: each is read, wherever it sits.
    const values = `${sheet}\n:root{.n{color:red} --a: //evil.example/a; content: "https://evil.example/b"}\n@media (min-width:1px){:root{--c: \\/\\/evil.example/c}}\n.d{--d://evil.example/d}`;
    expect(carried(`<!doctype html><style>${values}</style><p>shop</p>`)).toEqual(['https://evil.example/a', 'https://evil.example/b', 'https://evil.example/c', 'https://evil.example/d']);
    // A style attribute is a declaration list; a value written right after its colon is read too.
    expect(carried('<!doctype html><p style="--a:\\/\\/evil.example/a">shop</p>')).toEqual(['https://evil.example/a']);
  });

  it('reads a value as the code gets it: whole, tokens, percent-decoded once, JSON strings', () => {
    expect(urlReadings('https://evil.example/a')).toEqual(['https://evil.example/a']);
    expect(urlReadings('go to https://evil.example/a now')).toEqual(['https://evil.example/a']);
    expect(urlReadings('https%3A%2F%2Fevil.example%2Fa')).toEqual(['https://evil.example/a']);
    expect(urlReadings('{"u":"https:\\/\\/evil.example\\/a"}')).toEqual(['https://evil.example/a']);
    // JSON escapes are JSON's: `\/checkout\/next` is a path, not the host `checkout`.
    expect(urlReadings('{"u":"\\/checkout\\/next"}')).toEqual([]);
    expect(urlReadings('/checkout/next')).toEqual([]);
    expect(urlReadings('12:30')).toEqual([]);
  });
});
