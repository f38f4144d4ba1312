/**
 * Issue 10, first bullet: the verifier on random and mutated input. A VerifyRefusal is a verdict
 * (the proxy blocks with its reason); any other exception is a bug that would surface as
 * `internal-error` on every such page, or worse, take a worker down.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { REFUSAL_REASONS } from '../../src/reasons.js';
import { verifyDocument } from '../../src/verify/index.js';
import type { VerifiedDocument } from '../../src/verify/types.js';
import { markupGarbage, mutatedPage } from './verify/mutators.js';
import { demoPages, filePages, type SeedPage } from './verify/pages.js';
import { documentInput } from './verify/policy.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters } from './verify/run.js';

let pages: SeedPage[];

beforeAll(async () => {
  pages = [...filePages(), ...(await demoPages())];
});

/** A verdict or a refusal; anything else is rethrown with the recipe that caused it. */
function verdictOf(run: () => VerifiedDocument, recipe: string): VerifiedDocument | VerifyRefusal {
  try {
    return run();
  } catch (err) {
    if (err instanceof VerifyRefusal) return err;
    throw new Error(`verifyDocument threw ${String(err)} (not a VerifyRefusal) on: ${recipe}`, { cause: err });
  }
}

/** What a verdict must look like for the proxy, metrics and logs to use it. */
function expectWellFormed(v: VerifiedDocument | VerifyRefusal): void {
  if (v instanceof VerifyRefusal) {
    expect(Object.keys(REFUSAL_REASONS)).toContain(v.reason);
    return;
  }
  expect(v.violations).toEqual(v.findings.filter((f) => !f.allowed));
  for (const f of v.violations) expect(f.reason, `violation without a reason: ${JSON.stringify(f)}`).toBeTypeOf('string');
}

describe('verifier properties: no crash', () => {
  it('has real pages to start from', () => {
    // Corpus, bench, proxy/verify/second-layer pages and the demo shop's pages.
    expect(pages.length).toBeGreaterThan(150);
    expect(pages.some((p) => p.name.startsWith('demo/'))).toBe(true);
  });

  it('verifyDocument never throws anything but a VerifyRefusal on mutated real pages', () => {
    fc.assert(
      fc.property(mutatedPage(pages), (m) => {
        const recipe = `${m.recipe}\n--- text ---\n${m.text.slice(0, 2000)}`;
        expectWellFormed(verdictOf(() => verifyDocument(documentInput(m.bytes, m.headers, m.mode)), recipe));
      }),
      propertyParameters('no-throw on mutated pages', 300),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('verifyDocument never throws anything but a VerifyRefusal on random bytes and random markup', () => {
    const randomBody = fc.oneof(
      fc.uint8Array({ maxLength: 4096 }),
      markupGarbage().map((s) => new TextEncoder().encode(s)),
      fc.array(markupGarbage(), { maxLength: 30 }).map((a) => new TextEncoder().encode(a.join(''))),
    );
    const contentType = fc.constantFrom('text/html', 'text/html; charset=utf-16', 'text/html; charset=shift_jis', 'text/html; charset=euc-jp', 'text/html;charset="iso-2022-jp"', 'text/html; charset=gb18030', 'text/html; charset=x-user-defined', 'text/html; charset=');
    fc.assert(
      fc.property(randomBody, contentType, fc.constantFrom('block' as const, 'rewrite' as const, 'report' as const), (bytes, type, mode) => {
        const recipe = `${type} ${mode} bytes ${Buffer.from(bytes).toString('base64')}`;
        expectWellFormed(verdictOf(() => verifyDocument(documentInput(bytes, [['content-type', type]], mode)), recipe));
      }),
      propertyParameters('no-throw on random bytes', 300),
    );
  }, PROPERTY_TIMEOUT_MS);
});
