/**
 * Regression tests for bugs the verifier properties found, each named after its bug, each with its
 * page under test/robustness/verify/found/ (open it in a browser to see the case).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { rewriteDocument, verifyDocument } from '../../src/verify/index.js';
import { bomOf, encodeText } from './verify/encode.js';
import { documentInput, POLICY, utf8Input } from './verify/policy.js';
import { countWork, totalWork } from './verify/work.js';

function foundFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./verify/found/${name}`, import.meta.url)));
}

function foundPage(name: string): string {
  return new TextDecoder().decode(foundFile(name));
}

describe('verifier regressions found by the properties', () => {
  it('regression quadratic-base-candidates: distinct <base> hrefs × URL findings no longer make verification quadratic', () => {
    const html = foundPage('quadratic-base-candidates.html');
    const { work, result } = countWork(POLICY, (policy) => verifyDocument({ ...utf8Input(html), policy }));
    // Linear: each of the 800 bases and scripts resolved a few times. Before the fix: every script
    // against every base, 320,400 URL parses for this 20 KB page.
    expect(work.urlParses, JSON.stringify(work)).toBeLessThan(4 * 800);
    expect(totalWork(work), JSON.stringify(work)).toBeLessThan(10 * html.length);
    // Whatever the verdict, it is one: a refusal (blocked whole) or a verdict with findings.
    if (!(result instanceof VerifyRefusal)) {
      expect(result).not.toBeInstanceOf(Error);
      expect((result as ReturnType<typeof verifyDocument>).findings.length).toBeGreaterThan(0);
    }
  });

  it('regression utf16-rewrite-insertion: rewriting a UTF-16 page with an inserted attribute keeps the bytes UTF-16', () => {
    const le = foundFile('utf16-rewrite-insertion.html');
    const text = new TextDecoder('utf-16le').decode(le);
    const variants: [string, Uint8Array, string][] = [
      ['UTF-16LE with BOM (the file)', le, 'text/html'],
      ['UTF-16BE by header', encodeText(text, 'utf-16be'), 'text/html; charset=utf-16be'],
      ['UTF-16BE with BOM', Uint8Array.from([...bomOf('utf-16be'), ...encodeText(text, 'utf-16be')]), 'text/html'],
    ];
    for (const [name, bytes, type] of variants) {
      const input = documentInput(bytes, [['content-type', type]], 'rewrite');
      const verified = verifyDocument(input);
      expect(verified.violations.map((v) => v.reason), name).toEqual(['foreign-script']);
      const rewritten = rewriteDocument(input, verified, { sinkPath: '/sink' });
      expect(rewritten.verified.violations, name).toEqual([]);
      const after = new TextDecoder(verified.encoding, { fatal: true }).decode(rewritten.bytes);
      expect(after, name).toContain('<script type="payguard/blocked"');
      expect(after, name).toContain('<h1>ご注文手続き</h1>');
    }
  });

  it('regression quadratic-script-escape-search: many inline scripts no longer make the fast scanner search to the end of the page for each', () => {
    const html = foundPage('quadratic-script-escape-search.html');
    const { work, result } = countWork(POLICY, (policy) => verifyDocument({ ...utf8Input(html), policy }));
    // Before the fix: 400 scripts × the rest of a 24 KB page ≈ 4.8 million characters searched.
    expect(work.searchedChars, JSON.stringify(work)).toBeLessThan(10 * html.length);
    expect(result).not.toBeInstanceOf(Error);
    expect((result as ReturnType<typeof verifyDocument>).violations.filter((v) => v.reason === 'inline-code')).toHaveLength(400);
  });
});
