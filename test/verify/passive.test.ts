/**
 * Passive loads (issue 17 class 2; docs/vectors.md X-01, S-14): every image, stylesheet, font,
 * media file, manifest and preconnect a page or its headers make the browser fetch is judged
 * against its destination's list, and neutralised on rewrite routes. Chromium's own reading of the
 * generated spellings is checked in oracle-passive.test.ts; here the invariants are checked over
 * many more variants, in-process.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cssUrls, tokenizeCss } from '../../src/verify/css-syntax.js';
import { rewriteDocument, verifyDocument, verifyHeaders } from '../../src/verify/index.js';
import { srcsetUrls } from '../../src/verify/srcset.js';
import type { Finding } from '../../src/verify/types.js';
import { cssEscapeSpelling, srcsetShape } from './passive-spellings.js';
import { htmlInput, PAGE_URL, testPolicy } from './policy.js';

const page = (body: string, head = ''): string => `<!doctype html><html><head><meta charset=utf-8>${head}</head><body>${body}</body></html>`;
/** Class 4's carried-URL findings (carried-urls.ts) judge the same text as data; this file is about loads. */
const loads = (findings: readonly Finding[]): Finding[] => findings.filter((f) => f.kind !== 'carried-url');
const violations = (html: string): Finding[] => loads(verifyDocument(htmlInput(html)).violations);
const summary = (f: Finding): string => `${f.reason} ${f.url}`;

/** Markup → the one violation it must give (EVIL is foreign to every list of testPolicy). */
const EVIL = 'https://evil.example/b';
const MARKUP: [string, string, string?][] = [
  ['img src', `<img src="${EVIL}">`],
  ['img srcset', `<img srcset="/a.png 1x, ${EVIL} 2x">`],
  ['picture source srcset', `<picture><source srcset="${EVIL} 100w" media="(min-width: 1px)"><img src="/a.png"></picture>`],
  ['video poster', `<video poster="${EVIL}"></video>`, 'foreign-image'],
  ['video src', `<video src="${EVIL}"></video>`, 'foreign-media'],
  ['audio src', `<audio src="${EVIL}"></audio>`, 'foreign-media'],
  ['video source src', `<video><source src="${EVIL}" type="video/mp4"></video>`, 'foreign-media'],
  ['track src', `<video><track kind=captions src="${EVIL}"></video>`, 'foreign-media'],
  ['input type=image', `<input type=image src="${EVIL}">`],
  ['input type=IMAGE spelled oddly', `<input type=" IMAGE" src="${EVIL}">`],
  ['table background', `<table background="${EVIL}"><tr><td>x</td></tr></table>`],
  ['td background', `<table><tr><td background="${EVIL}">x</td></tr></table>`],
  ['link stylesheet', `<link rel=stylesheet href="${EVIL}">`, 'foreign-style'],
  ['link alternate stylesheet', `<link rel="alternate stylesheet" title=x href="${EVIL}">`, 'foreign-style'],
  ['link icon', `<link rel="shortcut icon" href="${EVIL}">`],
  ['link apple-touch-icon', `<link rel=apple-touch-icon href="${EVIL}">`],
  ['link manifest', `<link rel=manifest href="${EVIL}">`, 'foreign-manifest'],
  ['preload as=image', `<link rel=preload as=image href="${EVIL}">`],
  ['preload as=image imagesrcset', `<link rel=preload as=image imagesrcset="${EVIL} 2x">`],
  ['preload as=style', `<link rel=preload as=style href="${EVIL}">`, 'foreign-style'],
  ['preload as=font', `<link rel=preload as=font crossorigin href="${EVIL}">`, 'foreign-font'],
  ['preload as=fetch', `<link rel=preload as=fetch href="${EVIL}">`, 'foreign-connect'],
  ['preload as=track', `<link rel=preload as=track href="${EVIL}">`, 'foreign-media'],
  ['preload as unknown', `<link rel=preload as=bogus href="${EVIL}">`, 'foreign-connect'],
  ['prefetch', `<link rel=prefetch href="${EVIL}">`, 'speculation-rules'],
  ['preconnect', `<link rel=preconnect href="${EVIL}">`, 'foreign-preconnect'],
  ['dns-prefetch', `<link rel=dns-prefetch href="${EVIL}">`, 'foreign-preconnect'],
  ['link in svg', `<svg><link rel=stylesheet href="${EVIL}"/></svg>`, 'foreign-style'],
  // A foreign element to the tree builder, fetched by Chromium's preload scanner all the same (oracle-passive).
  ['input type=image in svg', `<svg width="1" height="1"><input type="image" src="${EVIL}"></svg>`],
  ['video poster in math', `<math><video poster="${EVIL}"></video></math>`],
  ['style url()', `<style>body{background:url(${EVIL})}</style>`],
  ['style url("")', `<style>body{background:url( "${EVIL}" )}</style>`],
  ['style image-set', `<style>body{background:image-set("${EVIL}" 1x)}</style>`],
  ['style -webkit-image-set url', `<style>body{background:-webkit-image-set(url(${EVIL}) 1x)}</style>`],
  ['style @import string', `<style>@import "${EVIL}";</style>`, 'foreign-style'],
  ['style @import url', `<style>@import url(${EVIL}) screen;</style>`, 'foreign-style'],
  ['style @font-face', `<style>@font-face{font-family:x;src:url(${EVIL}) format("woff2")}</style>`, 'foreign-font'],
  ['style cursor', `<style>a{cursor:url(${EVIL}),auto}</style>`],
  ['style attribute', `<div style="background-image:url('${EVIL}')">x</div>`],
  ['style attribute on svg', `<svg><rect style="fill:url(${EVIL}#g)"/></svg>`],
  ['svg presentation attribute', `<svg><rect width=1 height=1 fill="url(${EVIL}#g)"/></svg>`],
  ['svg style element', `<svg><style>rect{fill:url(${EVIL}#g)}</style></svg>`],
  ['svg image href', `<svg><image href="${EVIL}"/></svg>`],
  ['svg image xlink:href', `<svg><image xlink:href="${EVIL}"/></svg>`],
  ['svg feImage', `<svg><filter id=f><feImage href="${EVIL}"/></filter></svg>`],
  ['svg use', `<svg><use href="${EVIL}#sprite"/></svg>`],
];

const DEFAULT_REASON = 'foreign-image';

describe('passive loads in markup', () => {
  it.each(MARKUP)('%s to a foreign host is a violation', (_name, markup, reason = DEFAULT_REASON) => {
    const found = violations(page(markup));
    expect(found.map((f) => f.reason)).toContain(reason);
    // Every violation names the foreign URL (with or without the sprite/gradient fragment).
    for (const f of found) expect(f.url?.startsWith(EVIL), summary(f)).toBe(true);
  });

  it.each(MARKUP)('%s is allowed when its list names the host', (_name, markup) => {
    // A policy whose every list names evil.example: nothing is left to report.
    const base = testPolicy();
    const everywhere = { type: 'origin' as const, origin: 'https://evil.example', why: 'test' };
    const allow = Object.fromEntries(Object.entries(base.allow).map(([k, v]) => [k, k === 'inline' ? v : [...v, everywhere]])) as unknown as typeof base.allow;
    const policy = testPolicy({ allow });
    expect(verifyDocument(htmlInput(page(markup), { policy })).violations).toEqual([]);
  });

  it.each(MARKUP)('%s is neutralised on rewrite routes and the result re-verifies clean', (_name, markup) => {
    const input = htmlInput(page(markup), { mode: 'rewrite' });
    const result = rewriteDocument(input, verifyDocument(input), { sinkPath: '/_payguard/sink' });
    expect(result.verified.violations).toEqual([]);
    // An SVG <style> is made inert whole (type="payguard/blocked"), its text kept; everything else loses the URL.
    if (!markup.includes('<svg><style>')) expect(new TextDecoder().decode(result.bytes)).not.toContain('evil.example');
    else expect(new TextDecoder().decode(result.bytes)).toContain('<style type="payguard/blocked">');
  });

  it('the body background is judged and neutralised (a second <body> tag merges attributes that cannot be rewritten: refused)', () => {
    const own = `<!doctype html><html><head></head><body background="${EVIL}"></body></html>`;
    expect(violations(own).map(summary)).toEqual([`foreign-image ${EVIL}`]);
    const input = htmlInput(own, { mode: 'rewrite' });
    expect(rewriteDocument(input, verifyDocument(input), { sinkPath: '/_payguard/sink' }).verified.violations).toEqual([]);
    const merged = htmlInput(page(`<body background="${EVIL}">`), { mode: 'rewrite' });
    expect(violations(page(`<body background="${EVIL}">`)).map(summary)).toEqual([`foreign-image ${EVIL}`]);
    expect(() => rewriteDocument(merged, verifyDocument(merged), { sinkPath: '/_payguard/sink' })).toThrow(/rewrite-unverifiable/);
  });

  it('a <style> of another type creates no style sheet; text/css in any case does', () => {
    for (const type of ['payguard/blocked', 'text/css ', 'text/less']) expect(violations(page(`<style type="${type}">a{background:url(${EVIL})}</style>`))).toEqual([]);
    for (const type of ['', 'TEXT/CSS', 'text/css']) expect(violations(page(`<style type="${type}">a{background:url(${EVIL})}</style>`)).map(summary)).toEqual([`foreign-image ${EVIL}`]);
  });

  it('the site, allowed hosts, data: images and same-document references are not violations', () => {
    const html = page(
      '<img src="/a.png" srcset="https://img.cdn.example/a.png 2x, data:image/png;base64,AAAA 3x">' +
        '<svg><use href="#icon"/><rect fill="url(#g)"/><image href="data:image/svg+xml,%3Csvg%3E"/></svg>' +
        '<div style="background:url(data:image/gif;base64,R0lGOD)"></div><video poster="https://img.cdn.example/p.jpg" src="https://media.example/v.mp4"></video>',
      '<link rel=stylesheet href="https://fonts.example/css"><style>@font-face{font-family:x;src:url(https://fonts.example/x.woff2)}</style>',
    );
    expect(violations(html)).toEqual([]);
  });

  it('a data: stylesheet is a violation (what it loads is hidden from the verifier)', () => {
    expect(violations(page('<link rel=stylesheet href="data:text/css,@import%20%22https://evil.example/x%22">')).map((f) => f.reason)).toEqual(['data-url-code']);
  });

  it('a URL string in a custom property is an image (image-set(var(--x)) fetches it, from any rule or element)', () => {
    expect(violations(page(`<style>:root{--hero:"${EVIL}"}</style><div style="background:image-set(var(--hero) 1x)">x</div>`)).map(summary)).toEqual([`foreign-image ${EVIL}`]);
    expect(violations(page(`<div style="--hero: '${EVIL}'">x</div>`)).map(summary)).toEqual([`foreign-image ${EVIL}`]);
    expect(violations(page(`<style>a{--x:{b:"${EVIL}"}; color:red}</style>`)).map(summary)).toEqual([`foreign-image ${EVIL}`]);
    // Strings that are no http(s) URL fetch nothing; strings outside custom properties (content) are text.
    expect(violations(page(`<div style="--note: 'Note: free shipping'; --font: 'Inter'">x</div><style>a::after{content:"${EVIL}"}</style>`))).toEqual([]);
  });

  it('@namespace strings fetch nothing and are not findings', () => {
    expect(violations(page(`<style>@namespace svg "${EVIL}"; @namespace url(${EVIL});</style>`))).toEqual([]);
  });
});

describe('passive loads in Link headers (every relation)', () => {
  const LINKS: [string, string][] = [
    [`<${EVIL}>; rel=preload; as=image`, 'image'],
    [`<${EVIL}>; rel=preload; as=style`, 'style'],
    [`<${EVIL}>; rel=preload; as=font; crossorigin`, 'font'],
    [`<${EVIL}>; rel=preload; as=fetch`, 'connect'],
    [`<${EVIL}>; rel=stylesheet`, 'style'],
    [`<${EVIL}>; rel="shortcut icon"`, 'image'],
    [`<${EVIL}>; rel=manifest`, 'manifest'],
    [`<${EVIL}>; rel=preconnect`, 'connect'],
    [`<${EVIL}>; rel=dns-prefetch`, 'connect'],
    [`</a.png>; rel=preload; as=image; imagesrcset="${EVIL} 2x"`, 'image'],
  ];
  it.each(LINKS)('Link: %s is a violation against allow.%s', (value, list) => {
    const found = verifyHeaders([['link', value]], PAGE_URL, testPolicy()).filter((f) => !f.allowed);
    expect(found.map((f) => `${f.reason} ${f.list} ${f.url}`)).toEqual([`foreign-link-header ${list} ${EVIL}`]);
  });

  it('Link headers to allowed hosts are not violations', () => {
    const headers: [string, string][] = [
      ['link', '<https://fonts.example/x.woff2>; rel=preload; as=font, <https://img.cdn.example/h.webp>; rel=preload; as=image'],
      ['link', '<https://fonts.example>; rel=preconnect, </site.webmanifest>; rel=manifest, <https://shop.example/canonical>; rel=canonical'],
    ];
    expect(verifyHeaders(headers, PAGE_URL, testPolicy()).filter((f) => !f.allowed)).toEqual([]);
  });
});

describe('CSS escapes, decoded as CSS decodes them (CSS Syntax 3 §4.3.7)', () => {
  it('never reports clean when a foreign url() is written with any escape spelling, in <style> or style=""', () => {
    fc.assert(
      fc.property(cssEscapeSpelling('url'), cssEscapeSpelling(EVIL), fc.constantFrom('none', 'single', 'double'), fc.boolean(), (fn, url, quote, inAttribute) => {
        const q = quote === 'single' ? "'" : quote === 'double' ? '"' : '';
        // Unquoted, quotes in the escaped URL would make a bad url; escape spellings never produce bare ones.
        const css = `background:${fn}(${q}${url}${q})`;
        const html = inAttribute ? page(`<div style="${css.replace(/"/g, '&quot;')}">x</div>`) : page(`<style>div{${css}}</style>`);
        const found = violations(html);
        // `u\72l("…")` is a function token named url (§4.3.4 only makes a url token from an unescaped-quote-free `url(`).
        expect(found.map(summary)).toEqual([`foreign-image ${EVIL}`]);
      }),
      { numRuns: 400 },
    );
  });

  it('tokenizes the generated spelling of a url to exactly the decoded URL', () => {
    fc.assert(
      fc.property(cssEscapeSpelling(EVIL), (url) => {
        expect(cssUrls(`a{b:url(${url})}`).map((u) => u.url)).toEqual([EVIL]);
        expect(tokenizeCss(`"${url}"`)[0]).toMatchObject({ type: 'string', value: EVIL });
      }),
      { numRuns: 300 },
    );
  });

  it('@import with an escaped at-keyword is a stylesheet', () => {
    fc.assert(
      fc.property(cssEscapeSpelling('import'), cssEscapeSpelling(EVIL), (keyword, url) => {
        expect(violations(page(`<style>@${keyword} "${url}";</style>`)).map(summary)).toEqual([`foreign-style ${EVIL}`]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('srcset shapes (HTML §4.8.4.3.10)', () => {
  it('every candidate the splitter yields is judged: odd commas, descriptors, parentheses', () => {
    fc.assert(
      fc.property(srcsetShape(EVIL), ({ value, urls }) => {
        expect(srcsetUrls(value)).toEqual(urls);
        const found = violations(page(`<img srcset="${value}">`)).map(summary);
        expect(found).toEqual(urls.filter((u) => u === EVIL).map(() => `foreign-image ${EVIL}`));
      }),
      { numRuns: 400 },
    );
  });
});
