import { describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { parseDeclarativeRefresh, verifyHeaders } from '../../src/verify/index.js';
import { PAGE_URL, testPolicy, verifyHtml } from './policy.js';

describe('meta refresh parsed by the spec\'s algorithm (N-02)', () => {
  it.each([
    ['0;url=//evil.example/a', '//evil.example/a'],
    ['0,https://evil.example/b', 'https://evil.example/b'],
    ["0 url = 'https://evil.example/c' junk", 'https://evil.example/c'],
    ['0;https://evil.example/d', 'https://evil.example/d'],
    ['5; URL="https://evil.example/e"', 'https://evil.example/e'],
    ['.5 ; url=https://evil.example/f', 'https://evil.example/f'],
    ['0; urx=https://evil.example/g', 'urx=https://evil.example/g'],
    ['0; url https://evil.example/h', 'url https://evil.example/h'],
  ])('content="%s" navigates to %s', (content, url) => {
    expect(parseDeclarativeRefresh(content)?.url).toBe(url);
  });

  it.each(['', 'x;url=https://evil.example/', '0x;url=https://evil.example/'])('content="%s" is not a refresh', (content) => {
    expect(parseDeclarativeRefresh(content)).toBeUndefined();
  });

  it('a refresh with only a time reloads the same document (no target)', () => {
    expect(parseDeclarativeRefresh('30')).toEqual({ seconds: 30, url: undefined });
  });

  it('every refresh meta is checked, in head or body, and resolved against the base', async () => {
    const v = await verifyHtml('<meta http-equiv=refresh content="600"><meta http-equiv="REFRESH" content="0;url=/thanks"><p><meta http-equiv=refresh content="1,https://evil.example/x">');
    expect(v.findings.map((f) => [f.kind, f.url, f.allowed])).toEqual([
      ['meta-refresh', 'https://shop.example/thanks', true],
      ['meta-refresh', 'https://evil.example/x', false],
    ]);
  });

  it('a refresh to the allowlisted 3-D Secure origin is allowed by allow.navigate', async () => {
    const v = await verifyHtml('<meta http-equiv=refresh content="0;url=https://pay.gateway.example/3ds">');
    expect(v.findings[0]).toMatchObject({ allowed: true, entry: { why: '3-D Secure redirect' } });
  });
});

describe('header findings (N-01, N-03, H-07..H-11)', () => {
  const policy = testPolicy();

  it('Location resolves against the page URL with the URL parser (N-01)', () => {
    const findings = verifyHeaders([['location', '/\\evil.example/pay']], PAGE_URL, policy);
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'location-header', element: 'header:location', url: 'https://evil.example/pay', allowed: false, reason: 'foreign-navigation', line: 0, col: 0 }),
    ]);
    expect(verifyHeaders([['location', '/checkout/done']], PAGE_URL, policy)[0]?.allowed).toBe(true);
  });

  it('several differing Location headers are refused as ambiguous; identical ones are fine', () => {
    expect(() => verifyHeaders([['location', '/a'], ['location', '/b']], PAGE_URL, policy)).toThrow(VerifyRefusal);
    expect(verifyHeaders([['location', '/a'], ['location', '/a']], PAGE_URL, policy)).toHaveLength(2);
  });

  it('the Refresh header uses the same parser (N-03)', () => {
    const [f] = verifyHeaders([['refresh', '0; url=https://evil.example/']], PAGE_URL, policy);
    expect(f).toMatchObject({ kind: 'refresh-header', url: 'https://evil.example/', allowed: false });
  });

  it('Link: preload as=script and modulepreload are script loads, prefetch a navigation, stylesheet a style load (H-10)', () => {
    const findings = verifyHeaders(
      [['link', '<https://evil.example/a.js>; rel=preload; as=script, </style.css>; rel=stylesheet, <https://evil.example/m.js>; rel="ModulePreload"'], ['link', '<https://evil.example/next>; rel=prefetch']],
      PAGE_URL,
      policy,
    );
    expect(findings.map((f) => [f.list, f.url, f.reason])).toEqual([
      ['script', 'https://evil.example/a.js', 'foreign-link-header'],
      // Judged against allow.style since issue 17 class 2 (link-relations.ts); the site's own, so allowed.
      ['style', 'https://shop.example/style.css', undefined],
      ['script', 'https://evil.example/m.js', 'foreign-link-header'],
      ['navigate', 'https://evil.example/next', 'foreign-link-header'],
    ]);
  });

  it('Speculation-Rules header rule sets outside the site are violations (S-12)', () => {
    const findings = verifyHeaders([['speculation-rules', '"/rules.json", "https://evil.example/r.json"']], PAGE_URL, policy);
    expect(findings.map((f) => f.allowed)).toEqual([true, false]);
  });

  it('verifyDocument includes header findings', async () => {
    const v = await verifyHtml('<p>hi', { headers: [['content-type', 'text/html'], ['refresh', '0;url=//evil.example/']] });
    expect(v.violations.map((f) => f.kind)).toEqual(['refresh-header']);
  });
});
