/**
 * The unit lane's view of docs/headers.md: payguard's readings of Content-Encoding, Content-Type and
 * the storefront's report endpoints, each row one that a Chromium oracle established
 * (test/proxy/oracle-codings.test.ts, test/verify/oracle-headers.test.ts, which run in the whole
 * suite). These fail fast, without a browser, when a reading drifts.
 */
import { describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { checkDecodable, contentCodings } from '../../src/proxy/document/content-coding.js';
import { chromiumEssence, classifyResponse, typeDecision } from '../../src/proxy/document/type.js';
import { verifyHeaders } from '../../src/verify/index.js';
import { PAGE_URL, testPolicy } from '../verify/policy.js';

function codingsOf(...lines: string[]): string[] | string {
  try {
    const codings = contentCodings(lines.map((l) => ['content-encoding', l] as const));
    checkDecodable(codings);
    return codings;
  } catch (err) {
    if (err instanceof VerifyRefusal) return err.reason;
    throw err;
  }
}

describe('Content-Encoding: decoded as Chromium decodes, or refused', () => {
  it.each([
    [['gzip'], ['gzip']],
    [['GZIP'], ['gzip']],
    [['X-Gzip'], ['x-gzip']],
    [['\tgzip ', ' br'], ['gzip', 'br']],
    [['deflate, gzip'], ['deflate', 'gzip']],
    [['identity'], []],
    [[''], []],
    [['identity, ,'], []],
  ])('%j → %j (every item a coding Chromium knows, or none at all)', (lines, expected) => {
    expect(codingsOf(...lines)).toEqual(expected);
  });

  it.each([
    [['gzip, identity']],
    [['identity, gzip']],
    [['gzip', 'identity']],
    [['gzip,']],
    [[', gzip']],
    [['gzip', '']],
    [['gzip, compress']],
    [['gzip\u00a0']],
    [['gzip;q=1']],
    [['compress']],
    [['zstd, zstd, zstd']],
    [['gzip, gzip, gzip']],
  ])('%j is refused: Chromium renders the raw bytes (or fails), other readers decode', (lines) => {
    expect(codingsOf(...lines)).toBe('unsupported-content-coding');
  });
});

describe('Content-Type: a document if either Fetch or Chromium reads one', () => {
  const type = (...lines: string[]) => classifyResponse(lines.map((l) => ['content-type', l] as const));

  it.each([
    ['text/html garbage', 'text/html'],
    ['text/html (x)', 'text/html'],
    ['TEXT/HTML\t; charset=utf-8', 'text/html'],
    ['text/html;x="a,text/plain"', 'text/html'],
    ['text/plain;x="a,text/html"', 'text/plain'],
    ['text/html, text/plain', 'text/plain'],
    ['text/html;, application/json', 'application/json'],
    ['*/*', undefined],
    ['text/html/x', 'text/html/x'],
    ['text/html\u00a0', 'text/html\u00a0'],
  ])("Chromium's reading of %j is %j", (line, essence) => {
    expect(chromiumEssence([['content-type', line]])).toBe(essence);
  });

  it('inspects what Chromium renders as HTML though Fetch finds no type', () => {
    expect(type('text/html garbage')).toMatchObject({ kind: 'html', essence: 'text/html' });
    expect(type('text/plain', 'text/html (x)')).toMatchObject({ kind: 'html' });
  });

  it('refuses what Chromium renders as an XML document though Fetch finds no type', () => {
    expect(type('application/xhtml+xml junk')).toMatchObject({ kind: 'xml-document', essence: 'application/xhtml+xml' });
    expect(typeDecision(type('image/svg+xml (x)'), 200)).toMatchObject({ kind: 'refuse', refusal: { reason: 'unsupported-document-type' } });
  });

  it('keeps the readings that agree', () => {
    expect(type('text/html; charset=shift_jis')).toEqual({ kind: 'html', essence: 'text/html', charset: 'shift_jis' });
    expect(type('image/png')).toEqual({ kind: 'other', essence: 'image/png' });
    expect(type()).toEqual({ kind: 'sniff', essence: undefined });
    expect(typeDecision(type('text/html'), 206)).toMatchObject({ kind: 'refuse', refusal: { reason: 'partial-content' } });
    expect(typeDecision(type('image/png'), 200)).toEqual({ kind: 'not-a-document' });
  });
});

describe("the storefront's report endpoints are judged against allow.connect", () => {
  const policy = testPolicy();
  const violations = (headers: [string, string][]) => verifyHeaders(headers, PAGE_URL, policy).filter((f) => f.kind === 'report-header' && !f.allowed).map((f) => f.url);

  it('every report-uri of every CSP line and policy, enforced or report-only', () => {
    expect(
      violations([
        ['content-security-policy', "img-src 'none'; report-uri https://evil.example/a /local"],
        ['content-security-policy-report-only', "default-src 'self'; report-uri /r, img-src 'none'; REPORT-URI https://evil.example/b"],
      ]),
    ).toEqual(['https://evil.example/a', 'https://evil.example/b']);
  });

  it('every endpoint of Reporting-Endpoints and Report-To', () => {
    expect(
      violations([
        ['reporting-endpoints', 'default="https://evil.example/d", csp="/csp"'],
        ['report-to', '{"group":"nel","max_age":60,"endpoints":[{"url":"https://evil.example/nel"}]}'],
      ]),
    ).toEqual(['https://evil.example/d', 'https://evil.example/nel']);
  });

  it('the site\'s own endpoints are allowed', () => {
    expect(violations([['content-security-policy', "default-src 'self'; report-uri /csp-report"], ['reporting-endpoints', 'main="/reports"']])).toEqual([]);
  });
});
