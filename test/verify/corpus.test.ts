/**
 * Every corpus page (test/corpus/**) through verifyDocument, against its expectations:
 * tampered pages must produce the listed violations (and no unlisted ones), legitimate pages
 * none, undecidable pages the listed refusal. The same bytes and headers the oracle serves.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/model.js';
import type { VerifiedDocument } from '../../src/verify/types.js';
import { describeFinding, loadCorpus, matchesPattern, type CorpusCase, type FindingPattern } from '../corpus/cases.js';
import { corpusPolicy } from '../corpus/policy.js';
import { verifyCase } from '../corpus/run-verifier.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';

const corpus = loadCorpus();

let server: StaticServer;
let policy: Policy;

beforeAll(async () => {
  // The site is the origin the oracle serves the pages from, so both tests resolve the same URLs.
  server = await startStaticServer();
  policy = corpusPolicy(server.origin);
});
afterAll(() => server.close());

describe('corpus', () => {
  it('holds at least 80 pages and covers every vector issue 3 names', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(80);
    const covered = new Set(corpus.flatMap((c) => c.vectors));
    const required = [
      ...range('F', 14),
      ...range('S', 15),
      ...range('N', 3),
      ...range('P', 10),
      ...range('E', 8),
      ...range('U', 12),
    ];
    expect(required.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('refuses a malformed case file instead of asserting nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'payguard-corpus-'));
    try {
      writeFileSync(join(dir, 'x.html'), '<form action=https://evil.example/></form>');
      writeFileSync(join(dir, 'x.json'), JSON.stringify({ description: 'd', vectors: ['F-01'], expect: { violation: [] } }));
      expect(() => loadCorpus(dir)).toThrow(/"expect" must be/);
      writeFileSync(join(dir, 'x.json'), JSON.stringify({ description: 'd', vectors: ['F-01'], expect: { violations: [{ orign: 'x' }] } }));
      expect(() => loadCorpus(dir)).toThrow(/unknown finding pattern field "orign"/);
      writeFileSync(join(dir, 'x.json'), JSON.stringify({ description: 'd', vectors: ['F1'], expect: { clean: true } }));
      expect(() => loadCorpus(dir)).toThrow(/"vectors"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has legitimate pages in Shift_JIS, EUC-JP and ISO-2022-JP', () => {
    const clean = corpus.filter((c) => 'clean' in c.expect).map((c) => c.oracle.characterSet);
    expect(clean).toEqual(expect.arrayContaining(['Shift_JIS', 'EUC-JP', 'ISO-2022-JP']));
  });
});

describe.each(corpus.map((c) => [c.name, c] as const))('corpus %s', (_name, c) => {
  it(`${describeExpectation(c)}: ${c.description}`, () => {
    const outcome = verifyCase(c, policy);
    const expectation = c.expect;
    if ('refused' in expectation) {
      const got = 'refused' in outcome ? outcome.refused.reason : `no refusal; findings:\n${listFindings(outcome.verified)}`;
      expect(got, `${c.name} must be refused`).toBe(expectation.refused);
      return;
    }
    if ('refused' in outcome) {
      const allowed = 'violations' in expectation ? expectation.orRefused : undefined;
      expect(outcome.refused.reason, `${c.name} was refused: ${outcome.refused.message}`).toBe(allowed ?? 'not refused');
      return;
    }
    const { violations } = outcome.verified;
    if ('clean' in expectation) {
      expect(violations.map(describeFinding), `${c.name} must be clean`).toEqual([]);
      return;
    }
    const missing = expectation.violations.filter((p) => !violations.some((f) => matchesPattern(f, p, server.origin)));
    expect(missing.map(describePattern), `${c.name}: expected violations not found among:\n${listFindings(outcome.verified)}`).toEqual([]);
    const listed = [...expectation.violations, ...expectation.mayAlsoFind];
    const unexpected = violations.filter((f) => !listed.some((p) => matchesPattern(f, p, server.origin)));
    expect(unexpected.map(describeFinding), `${c.name}: violations the case does not list`).toEqual([]);
  });
});

function range(letter: string, last: number): string[] {
  return Array.from({ length: last }, (_, i) => `${letter}-${String(i + 1).padStart(2, '0')}`);
}

function describeExpectation(c: CorpusCase): string {
  if ('clean' in c.expect) return 'clean';
  if ('refused' in c.expect) return `refused (${c.expect.refused})`;
  return c.expect.violations.length === 0 ? 'no violation required' : c.expect.violations.map(describePattern).join(', ');
}

function describePattern(p: FindingPattern): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

function listFindings(v: VerifiedDocument): string {
  return v.findings.map((f) => `  ${describeFinding(f)}`).join('\n') || '  (none)';
}
