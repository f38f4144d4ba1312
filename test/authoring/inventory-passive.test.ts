/**
 * Issue 17 class 2: `payguard inventory` drafts the passive lists (image, style, font, media,
 * manifest) from what the crawled pages load, in markup, in Link headers and in the stylesheets
 * they load (@import followed, URLs resolved against the sheet), so a shop's own images, fonts and
 * stylesheets keep working under the CSP built from the draft. Real HTTP on 127.0.0.1: a shop and
 * a second server standing in for a font/stylesheet CDN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithPolicy } from '../../src/inventory/compare.js';
import { crawl } from '../../src/inventory/crawl.js';
import { draftPolicyYaml } from '../../src/inventory/draft.js';
import { buildInventory, type InventoryItem } from '../../src/inventory/inventory.js';
import { findTodoJustifications } from '../../src/policy/lint.js';
import type { AllowEntry, Policy } from '../../src/policy/model.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { emptyPolicy } from '../helpers/policies.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';

const LIMITS = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };
const HTML = [['content-type', 'text/html; charset=utf-8']] as const;
const CSS = [['content-type', 'text/css']] as const;

let shop: Storefront;
let cdn: Storefront;
let site: string;
let items: InventoryItem[];
let problems: readonly string[];
let policy: Policy;

beforeAll(async () => {
  cdn = await startStorefront({
    // Relative to the sheet, not to the page: the font is on the CDN.
    '/fonts.css': { headers: CSS, body: '@font-face{font-family:Brand;src:url(files/brand.woff2) format("woff2")}' },
  });
  const c = cdn.origin.origin;
  shop = await startStorefront({
    '/checkout/': {
      headers: [
        ...HTML,
        ['link', '<https://preload.example/hero.webp>; rel=preload; as=image'],
        // The storefront's own reporting endpoints: the browser posts its reports there.
        ['content-security-policy-report-only', 'img-src *; report-uri https://reports.example/csp'],
        ['reporting-endpoints', 'default="https://nel.example/r"'],
      ],
      body: `<!doctype html><html><head><meta charset=utf-8>
<link rel=stylesheet href="/static/theme.css">
<link rel=stylesheet href="${c}/fonts.css">
<link rel=preconnect href="${c}">
<link rel=dns-prefetch href="https://unrelated.example">
<link rel=manifest href="/site.webmanifest">
<link rel=icon href="https://icons.example/favicon.ico">
</head><body>
<img src="https://img.example/p/1.jpg" srcset="https://img.example/p/1@2x.jpg 2x" alt="">
<video poster="https://img.example/poster.jpg"><source src="https://media.example/v.mp4"></video>
<div style="background:url(https://bg.example/a.png)"></div>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
</body></html>`,
    },
    '/static/theme.css': { headers: CSS, body: '@import url(/static/base.css);\nbody{background:url(https://img.example/bg.png)}\n@font-face{font-family:x;src:url(https://fonts.example/x.woff2)}' },
    '/static/base.css': { headers: CSS, body: 'h1{background-image:\\75 rl(https\\3a //deco.example/h.png)}' },
  });
  site = shop.origin.origin;
  const result = await crawl({ startUrls: [`${site}/checkout/`], maxPages: 1, limits: LIMITS, policy: emptyPolicy({ site }) });
  problems = result.problems;
  items = buildInventory(result, site);
  policy = parsePolicyText(draftPolicyYaml(items, site, result.pages.map((p) => p.page)), 'draft.yaml');
});
afterAll(async () => {
  await shop?.close();
  await cdn?.close();
});

const origins = (entries: readonly AllowEntry[]): string[] => entries.map((e) => (e.type === 'origin' ? e.origin : e.type)).sort();

describe('payguard inventory drafts the passive lists', () => {
  it('reads every stylesheet once, the @import chain included, with no problem', () => {
    expect(problems).toEqual([]);
    expect(shop.requestsFor('/static/theme.css')).toHaveLength(1);
    expect(shop.requestsFor('/static/base.css')).toHaveLength(1);
    expect(cdn.requestsFor('/fonts.css')).toHaveLength(1);
  });

  it('lists images from markup, CSS in the page, stylesheets (escapes decoded) and Link headers', () => {
    expect(origins(policy.allow.image)).toEqual(['https://bg.example', 'https://deco.example', 'https://icons.example', 'https://img.example', 'https://preload.example']);
  });

  it('lists stylesheets and fonts, a font in a foreign sheet resolved against the sheet', () => {
    expect(origins(policy.allow.style)).toEqual([cdn.origin.origin]);
    expect(origins(policy.allow.font)).toEqual([cdn.origin.origin, 'https://fonts.example'].sort());
    expect(items.find((i) => i.list === 'font' && i.address === `${cdn.origin.origin}/files/brand.woff2`)?.pages).toEqual([`${site}/checkout/`]);
  });

  it('lists media; the site and data: URLs need no entry', () => {
    expect(origins(policy.allow.media)).toEqual(['https://media.example']);
    expect(policy.allow.manifest).toEqual([]);
    expect(items.some((i) => i.address.startsWith('data:'))).toBe(false);
  });

  it("drafts connect for the storefront's reporting endpoints, and for a preconnect only when no other list names its origin", () => {
    expect(origins(policy.allow.connect)).toEqual(['https://nel.example', 'https://reports.example', 'https://unrelated.example']);
  });

  it('every drafted entry says why: TODO, and the draft allows everything the crawl saw', () => {
    const entries = (['image', 'style', 'font', 'media', 'manifest', 'connect'] as const).flatMap((k) => policy.allow[k]);
    const todo = findTodoJustifications(policy);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.why.toUpperCase().startsWith('TODO'))).toBe(true);
    expect(todo.length).toBeGreaterThanOrEqual(entries.length);
    expect(compareWithPolicy(items, policy).new).toEqual([]);
  });
});
