/**
 * Both wire formats browsers post reports in, read defensively (reports are attacker-controllable),
 * and the browser-extension noise filter. Bodies are shaped as Chromium sends them.
 */
import { describe, expect, it } from 'vitest';
import { isExtensionNoise, parseBrowserReports } from '../../src/proxy/browser/report-parse.js';
import { loggable } from '../../src/proxy/browser/report-collector.js';

const LEGACY = JSON.stringify({
  'csp-report': {
    'document-uri': 'https://shop.example/checkout/pay?session=abc',
    referrer: '',
    'violated-directive': 'connect-src',
    'effective-directive': 'connect-src',
    'original-policy': "connect-src https://shop.example; report-uri /x",
    disposition: 'enforce',
    'blocked-uri': 'https://evil.example/collect?cc=4111111111111111',
    'status-code': 200,
    'source-file': 'https://cdn.shop.example/app.js',
  },
});

const REPORTING_API = JSON.stringify([
  {
    type: 'csp-violation',
    age: 10,
    url: 'https://shop.example/checkout/pay',
    user_agent: 'Chromium',
    body: { documentURL: 'https://shop.example/checkout/pay', blockedURL: 'https://evil.example/x', effectiveDirective: 'form-action', disposition: 'enforce', statusCode: 200 },
  },
  {
    type: 'csp-hash',
    age: 1,
    url: 'https://shop.example/checkout/pay',
    body: { documentURL: 'https://shop.example/checkout/pay', subresourceURL: 'https://cdn.shop.example/app.js', hash: 'sha256-AAAA', type: 'subresource', destination: 'script' },
  },
  { type: 'integrity-violation', url: 'https://shop.example/', body: { documentURL: 'https://shop.example/', blockedURL: 'https://cdn.shop.example/app.js', destination: 'script', reportOnly: true } },
  { type: 'deprecation', url: 'https://shop.example/', body: { id: 'x' } },
  'not a report',
]);

describe('parseBrowserReports', () => {
  it('reads a legacy application/csp-report body', () => {
    expect(parseBrowserReports('application/csp-report', LEGACY)).toEqual([
      {
        type: 'violation',
        directive: 'connect-src',
        blocked: 'https://evil.example/collect?cc=4111111111111111',
        documentUrl: 'https://shop.example/checkout/pay?session=abc',
        sourceFile: 'https://cdn.shop.example/app.js',
        disposition: 'enforce',
      },
    ]);
  });

  it('reads a Reporting API batch: violations, script hashes, integrity reports; skips other types', () => {
    const reports = parseBrowserReports('application/reports+json', REPORTING_API)!;
    expect(reports.map((r) => r.type)).toEqual(['violation', 'script-hash', 'integrity']);
    expect(reports[0]).toMatchObject({ directive: 'form-action', blocked: 'https://evil.example/x' });
    expect(reports[1]).toMatchObject({ scriptUrl: 'https://cdn.shop.example/app.js', hash: 'sha256-AAAA' });
  });

  it('refuses what is not a report: other content types, bad JSON, other shapes', () => {
    expect(parseBrowserReports('text/plain', LEGACY)).toBeUndefined();
    expect(parseBrowserReports(undefined, LEGACY)).toBeUndefined();
    expect(parseBrowserReports('application/csp-report', '{"csp-report":')).toBeUndefined();
    expect(parseBrowserReports('application/csp-report', '{"other":1}')).toBeUndefined();
  });

  it('bounds the directive name (it becomes a metrics label)', () => {
    const body = JSON.stringify({ 'csp-report': { 'violated-directive': 'script-src https://a https://b', 'blocked-uri': 'inline' } });
    expect(parseBrowserReports('application/csp-report', body)![0]).toMatchObject({ directive: 'script-src' });
    const junk = JSON.stringify({ 'csp-report': { 'effective-directive': 'x'.repeat(200) } });
    expect(parseBrowserReports('application/csp-report', junk)![0]).toMatchObject({ directive: 'unknown' });
  });
});

describe('isExtensionNoise', () => {
  it.each(['chrome-extension://abc/inject.js', 'moz-extension://abc/x.js', 'safari-extension://abc/x.js'])('drops reports about %s', (url) => {
    expect(isExtensionNoise({ type: 'violation', directive: 'script-src-elem', blocked: url, documentUrl: undefined, sourceFile: undefined, disposition: 'enforce' })).toBe(true);
    expect(isExtensionNoise({ type: 'violation', directive: 'connect-src', blocked: 'https://x.example/', documentUrl: undefined, sourceFile: url, disposition: 'enforce' })).toBe(true);
  });

  it('keeps reports about web origins', () => {
    expect(isExtensionNoise({ type: 'violation', directive: 'connect-src', blocked: 'https://evil.example/', documentUrl: undefined, sourceFile: 'https://shop.example/a.js', disposition: 'enforce' })).toBe(false);
  });
});

describe('loggable', () => {
  it('never keeps a query string or fragment (they may carry card data)', () => {
    expect(loggable('https://evil.example/collect?cc=4111111111111111#x')).toBe('https://evil.example/collect');
    expect(loggable('inline')).toBe('inline');
    expect(loggable('data:text/javascript,alert(1)')).toBe('data:');
    expect(loggable(undefined)).toBeUndefined();
  });
});
