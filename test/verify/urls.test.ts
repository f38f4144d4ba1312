import { describe, expect, it } from 'vitest';
import { verifyHtml } from './policy.js';

// evasion-vectors §3, with the page at https://shop.example/checkout/.
const CROSS_ORIGIN: [string, string, string][] = [
  ['U-01', '//evil.example/x', 'https://evil.example'],
  ['U-02', '/\\evil.example', 'https://evil.example'],
  ['U-03', '\\\\evil.example', 'https://evil.example'],
  ['U-04', 'https:\\\\evil.example', 'https://evil.example'],
  ['U-05', '///evil.example', 'https://evil.example'],
  ['U-06', '&#1; https://evil.example', 'https://evil.example'],
  ['U-07', 'ht&Tab;tps://ev&NewLine;il.example/', 'https://evil.example'],
  ['U-08', 'https://shop.example@evil.example/', 'https://evil.example'],
  ['U-09', 'https://ｅｖｉｌ.example/', 'https://evil.example'],
  ['U-09b', 'https://evil。example/', 'https://evil.example'],
  ['U-10', 'https://shop.example%2eevil.example/', 'https://shop.example.evil.example'],
  ['U-11', 'http:evil.example', 'http://evil.example'],
];

describe('every URL pitfall U-01..U-12 resolves cross-origin', () => {
  it.each(CROSS_ORIGIN)('%s %s', async (_id, value, origin) => {
    const v = await verifyHtml(`<form action="${value}"></form>`);
    expect(v.violations[0]).toMatchObject({ origin, allowed: false });
  });

  it('U-11b: https:evil.example stays same-origin on an https page', async () => {
    const v = await verifyHtml('<form action="https:evil.example"></form>');
    expect(v.findings[0]).toMatchObject({ url: 'https://shop.example/checkout/evil.example', allowed: true });
  });

  it('U-11c: on an http page the two swap', async () => {
    const v = await verifyHtml('<form action="https:evil.example"></form><form action="http:evil.example"></form>', { url: 'http://shop.example/checkout/' });
    expect(v.findings.map((f) => f.url)).toEqual(['https://evil.example/', 'http://shop.example/checkout/evil.example']);
  });

  it('U-12: java\\tscript: is a javascript: URL', async () => {
    const v = await verifyHtml('<a href="java&#9;script:alert(1)">x</a>');
    expect(v.violations[0]?.reason).toBe('javascript-url');
  });

  it('default ports and case are normalised before matching', async () => {
    const v = await verifyHtml('<form action="HTTPS://PAY.GATEWAY.EXAMPLE:443/charge"></form>');
    expect(v.findings[0]).toMatchObject({ url: 'https://pay.gateway.example/charge', allowed: true });
  });

  it('an unparsable form URL is a violation on a protected page', async () => {
    const v = await verifyHtml('<form action="https://exa mple.com/"></form>');
    expect(v.violations[0]?.reason).toBe('unparsable-url');
  });
});
