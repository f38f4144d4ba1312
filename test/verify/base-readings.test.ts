/**
 * URLs the parser meets before the effective <base> (test/verify/base-readings.ts): the verifier
 * reports the page-URL reading Chromium fetches as well as the base reading a later use makes, and
 * only for markup that precedes the base. The Chromium side of the same space is
 * oracle-base-readings.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { rewriteDocument, verifyDocument } from '../../src/verify/index.js';
import { allBaseReadingPages, type BaseReadingPage } from './base-readings.js';
import { htmlInput, PAGE_URL, verifyHtml } from './policy.js';

const readings = (page: BaseReadingPage) => ({
  pageUrl: new URL(page.spelling, PAGE_URL).href,
  baseUrl: new URL(page.spelling, new URL(page.base, PAGE_URL)).href,
});

const label = (page: BaseReadingPage): string => `${page.fetch.markup.replace('{U}', page.spelling)} · base ${page.base} · ${page.placement.name}`;

describe('URLs before the effective <base> are read against the page URL too (F-10)', () => {
  const pages = allBaseReadingPages();

  it.each(pages.filter((p) => p.placement.before).map((p) => [label(p), p] as const))('%s: reports the page-URL reading', async (_, page) => {
    const v = await verifyHtml(page.html);
    const urls = v.findings.filter((f) => f.kind === page.fetch.kind).map((f) => f.url);
    const { pageUrl, baseUrl } = readings(page);
    expect(urls).toContain(pageUrl);
    expect(urls).toContain(baseUrl);
  });

  it.each(pages.filter((p) => !p.placement.before).map((p) => [label(p), p] as const))('%s: only the base reading', async (_, page) => {
    const v = await verifyHtml(page.html);
    const { pageUrl, baseUrl } = readings(page);
    const urls = v.findings.filter((f) => f.kind === page.fetch.kind).map((f) => f.url);
    expect(urls).toContain(baseUrl);
    if (pageUrl !== baseUrl) expect(urls).not.toContain(pageUrl);
    expect(v.findings.filter((f) => f.context === 'before-base')).toEqual([]);
  });

  it('on a rewrite route, every page of the space is rewritten to one that verifies clean', () => {
    const dirty = pages.filter((page) => {
      const input = htmlInput(page.html, { mode: 'rewrite' });
      const verified = verifyDocument(input);
      if (verified.violations.length === 0) return false;
      const rewritten = rewriteDocument(input, verified, { sinkPath: '/_payguard/sink' });
      expect(rewritten.verified.violations, page.html).toEqual([]);
      return true;
    });
    // The space is mostly foreign: the check must have rewritten most of it.
    expect(dirty.length).toBeGreaterThan(pages.length / 2);
  });

  it('a first-party script before a same-origin base is judged by the path Chromium fetches (the release manifest)', async () => {
    const policy = parsePolicyText(
      'schema: 1\nserial: 1\nsite: https://shop.example\nroutes:\n  - { path: /checkout/**, mode: block }\nallow: {}\n' +
        `firstParty:\n  base: [/static/]\n  scripts:\n    /static/app.js: sha384-${'A'.repeat(64)}\n`,
      'policy.yaml',
    );
    const before = await verifyHtml('<!DOCTYPE html><head><script src="app.js"></script><base href="/static/"></head>', { policy });
    expect(before.violations.map((f) => [f.url, f.reason, f.context])).toEqual([['https://shop.example/checkout/app.js', 'unlisted-first-party-script', 'before-base']]);
    const after = await verifyHtml('<!DOCTYPE html><head><base href="/static/"><script src="app.js"></script></head>', { policy });
    expect(after.violations).toEqual([]);
  });
});
