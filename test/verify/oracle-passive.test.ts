/**
 * The oracle for passive loads (issue 17 class 2): fast-check writes pages out of passive-load
 * markup (element × attribute × URL spelling × CSS escape spelling × srcset shape × parser
 * context, plus a Link header), a static server on 127.0.0.1 serves each, and Chromium opens it
 * while the DevTools protocol records every request it makes. Invariant: every request Chromium
 * made to another origin is a violation for payguard's verifier (same URL), under a policy whose
 * lists name no foreign host. A failure prints fast-check's seed and path; replay with
 * ORACLE_SEED=<seed> ORACLE_PATH=<path> (ORACLE_RUNS sets the number of pages).
 */
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOW_KINDS, type Policy } from '../../src/policy/model.js';
import { verifyDocument, verifyHeaders } from '../../src/verify/index.js';
import { probeCase } from '../corpus/chromium-probe.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { cssEscapeSpelling, srcsetShape } from './passive-spellings.js';
import { testPolicy } from './policy.js';

/** Each run is a real page load on 2 shared cores; each page holds up to four snippets. */
const RUNS = Number(process.env.ORACLE_RUNS ?? 30);

/** Foreign URL spellings (evasion-vectors §3, on an http page). */
const FOREIGN_URLS = [
  'https://evil.example/p',
  '//evil.example/p',
  '/\\evil.example/p',
  'https:evil.example/p',
  'HTTPS://EVIL.EXAMPLE:443/p',
  'https://shop.example@evil.example/p',
  '\thttps://evil.example/p\n',
  '&#x68;ttps://evil.example/p',
];

/** Markup whose attribute holds a URL: {U} is the URL as written in the attribute. */
const ATTRIBUTE_SNIPPETS = [
  '<img src="{U}" alt="">',
  '<video poster="{U}" width="10" height="10"></video>',
  '<video src="{U}" preload="auto"></video>',
  '<audio src="{U}" preload="auto"></audio>',
  '<video preload="auto"><source src="{U}"></video>',
  '<video src="/v.mp4"><track default kind="captions" src="{U}"></video>',
  '<input type="image" src="{U}" alt="Pay">',
  '<table background="{U}"><tr><td>x</td></tr></table>',
  '<link rel="stylesheet" href="{U}">',
  '<link rel="icon" href="{U}">',
  '<link rel="preload" as="image" href="{U}">',
  '<link rel="preload" as="style" href="{U}">',
  '<link rel="preload" as="font" crossorigin href="{U}">',
  '<link rel="preload" as="fetch" crossorigin href="{U}">',
  '<link rel="preload" as="track" href="{U}">',
  '<link rel="prefetch" href="{U}">',
  '<svg width="10" height="10"><image href="{U}" width="10" height="10"/></svg>',
  '<svg width="10" height="10"><image xlink:href="{U}" width="10" height="10"/></svg>',
  '<svg width="10" height="10"><filter id="f"><feImage href="{U}"/></filter><rect width="10" height="10" filter="url(#f)"/></svg>',
  '<svg width="10" height="10"><use href="{U}#s"/></svg>',
];

/** srcset-bearing markup: {S} is a generated srcset. */
const SRCSET_SNIPPETS = [
  '<img srcset="{S}" alt="">',
  '<img src="/a.png" srcset="{S}" sizes="10px" alt="">',
  '<picture><source srcset="{S}"><img src="/a.png" alt=""></picture>',
  '<link rel="preload" as="image" imagesrcset="{S}">',
];

/** CSS: {F} is `url` spelled with escapes, {C} the URL spelled with escapes, {T} a style type. */
const CSS_SNIPPETS = [
  '<style{T}>body{background-image:{F}({C})}</style>',
  '<style{T}>body{background-image:{F}("{C}")}</style>',
  "<div style=\"background-image:{F}('{C}')\">x</div>",
  '<ul style="list-style-image:{F}({C})"><li>x</li></ul>',
  '<style{T}>@import "{C}";</style>',
  '<style{T}>@import {F}({C}) screen;</style>',
  '<style{T}>@font-face{font-family:pgx;src:{F}({C})}body{font-family:pgx}</style>',
  '<style{T}>body{background:image-set("{C}" 1x)}</style>',
  '<svg width="10" height="10"><rect width="10" height="10" fill="{F}({C}#g)"/></svg>',
  '<svg width="10" height="10"><style>rect{fill:{F}({C}#g)}</style><rect width="10" height="10"/></svg>',
  // A custom property's string reaches image-set() through var(), in another rule or element.
  '<style{T}>:root{--pg:"{C}"}body{background-image:image-set(var(--pg) 1x)}</style>',
  "<div style=\"--pg:'{C}'\"><p style=\"background-image:image-set(var(--pg) 1x)\">x</p></div>",
];

/** HTML §4.2.6: only an absent, empty or "text/css" (any case) type makes a style sheet. */
const STYLE_TYPES = ['', ' type=""', ' type="TEXT/css"', ' type="text/css "', ' type="payguard/blocked"'];

/** Link header relations (Chromium honours preload and preconnect in headers). */
const LINK_HEADERS = ['<{U}>; rel=preload; as=image', '<{U}>; rel=preload; as=style', '<{U}>; rel=preload; as=font; crossorigin', '<{U}>; rel=preload; as=fetch; crossorigin', '<{U}>; rel=stylesheet', '<{U}>; rel=icon'];

/** In an attribute, a CSS spelling is HTML text: `"`, `&` and `<` must be written as entities. */
function inAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

const attributeSnippet = fc.tuple(fc.constantFrom(...ATTRIBUTE_SNIPPETS), fc.constantFrom(...FOREIGN_URLS)).map(([s, u]) => s.replaceAll('{U}', u));

const srcsetSnippet = fc
  .tuple(fc.constantFrom(...SRCSET_SNIPPETS), fc.constantFrom(...FOREIGN_URLS.filter((u) => !/\s/.test(u))))
  .chain(([s, u]) => srcsetShape(u).map((shape) => s.replace('{S}', shape.value)));

const cssSnippet = fc
  .tuple(fc.constantFrom(...CSS_SNIPPETS), fc.constantFrom(...FOREIGN_URLS.filter((u) => !/\s/.test(u))), fc.constantFrom(...STYLE_TYPES))
  .chain(([s, u, type]) =>
    fc.tuple(cssEscapeSpelling('url'), cssEscapeSpelling(u)).map(([f, c]) => {
      const attribute = !s.startsWith('<style') && !s.includes('<style>');
      const spell = (t: string) => (attribute ? inAttribute(t) : t);
      return s.replace('{T}', type).replace('{F}', spell(f)).replace('{C}', spell(c));
    }),
  );

/** Parser contexts a snippet is placed in ({S}): where the tree builder moves, drops or keeps markup. */
const CONTEXTS = [
  '{S}',
  '<table>{S}<tr><td>Total</td></tr></table>',
  '<select name="s">{S}<option>1</option></select>',
  '<svg width="1" height="1">{S}</svg>',
  '<math><mtext>{S}</mtext></math>',
  '<div><template shadowrootmode="open">{S}</template></div>',
  '<noscript>{S}</noscript>',
  '<p>Promo <b>{S}</b></p>',
];

const snippet = fc.tuple(fc.constantFrom(...CONTEXTS), fc.oneof(attributeSnippet, srcsetSnippet, cssSnippet)).map(([context, s]) => context.replace('{S}', s));

const linkHeader = fc.option(
  fc.tuple(fc.constantFrom(...LINK_HEADERS), fc.constantFrom(...FOREIGN_URLS.filter((u) => !/\s/.test(u)))).map(([h, u]) => h.replace('{U}', u)),
  { freq: 3 },
);

function generatedPage(snippets: readonly string[]): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Checkout</title>\n</head>\n<body>\n<h1>Checkout</h1>\n${snippets.join('\n')}\n<p>Total</p>\n</body>\n</html>\n`;
}

/** A policy whose lists name no foreign host: every foreign load must be a violation. */
function siteOnlyPolicy(site: string): Policy {
  const allow = Object.fromEntries(ALLOW_KINDS.map((k) => [k, []])) as unknown as Policy['allow'];
  return testPolicy({ site, allow, routes: [{ path: '/checkout/**', mode: 'block' }] });
}

/** What reaches the network: Chromium's request URL has no fragment and no userinfo (it sends credentials apart). */
function requested(url: string): string {
  const u = new URL(url);
  u.hash = '';
  u.username = '';
  u.password = '';
  return u.href;
}

let server: StaticServer;
let browser: Browser;
let policy: Policy;

beforeAll(async () => {
  server = await startStaticServer();
  policy = siteOnlyPolicy(server.origin);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('oracle over generated passive loads', () => {
  it('every foreign request Chromium makes for generated passive-load markup or a Link header is a violation for the verifier', async () => {
    let n = 0;
    let pagesWithForeignRequests = 0;
    let foreignRequests = 0;
    const property = fc.asyncProperty(fc.array(snippet, { minLength: 1, maxLength: 4 }), linkHeader, async (snippets, link) => {
      const html = generatedPage(snippets);
      const path = `/checkout/passive-${n++}`;
      const url = server.origin + path;
      const headers: [string, string][] = [['content-type', 'text/html; charset=utf-8'], ...(link === null ? [] : [['link', link] as [string, string]])];
      const bytes = new TextEncoder().encode(html);
      const verified = verifyDocument({ bytes, url, headers, policy, mode: 'block' });
      // Class 4's carried-URL findings flag any absolute URL as data: left out, so each load must be judged as a load.
      const judged = [...verified.violations, ...verifyHeaders(headers, url, policy).filter((f) => !f.allowed)]
        .filter((f) => f.kind !== 'carried-url' && f.url !== undefined && URL.canParse(f.url))
        .map((f) => requested(f.url!));
      server.set(path, { headers, body: bytes });
      const seen = await probeCase(browser, url, {});
      const foreign = seen.requests.map((r) => r.url).filter((u) => /^https?:/.test(u) && new URL(u).origin !== server.origin);
      if (foreign.length > 0) pagesWithForeignRequests++;
      foreignRequests += foreign.length;
      const missed = foreign.filter((u) => !judged.includes(requested(u)));
      expect(missed, `page (Link: ${link ?? 'none'}):\n${html}`).toEqual([]);
    });
    const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
    await fc.assert(property, {
      numRuns: RUNS,
      ...(seed === undefined ? {} : { seed }),
      ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}),
    });
    // The harness sees Chromium's requests at all (a broken probe would pass vacuously).
    expect(pagesWithForeignRequests).toBeGreaterThan(0);
    console.info(`oracle-passive: ${n} pages, ${pagesWithForeignRequests} with foreign requests, ${foreignRequests} foreign requests, each a violation`);
  }, 600_000);
});
