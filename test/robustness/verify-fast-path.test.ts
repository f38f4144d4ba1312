/**
 * Issue 10's "never reports clean" for the fast scanner (src/verify/fast/, issue 7): on mutated
 * real pages, the default path (the fast scanner when it proves a page unambiguous, parse5
 * otherwise) must find every violation the parse5 path finds, and refuse whatever it refuses. A
 * page the fast scanner misreads would otherwise be served as clean.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { verifyDocument } from '../../src/verify/index.js';
import type { DocumentInput, Finding } from '../../src/verify/types.js';
import { describeFinding } from '../corpus/cases.js';
import { livePositions } from './verify/live-positions.js';
import { encodePage, foreignTarget, mutatedPage } from './verify/mutators.js';
import { demoPages, filePages, type SeedPage } from './verify/pages.js';
import { documentInput } from './verify/policy.js';
import { POLICY } from './verify/policy.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters } from './verify/run.js';
import { countWork } from './verify/work.js';

let pages: SeedPage[];

beforeAll(async () => {
  pages = [...filePages(), ...(await demoPages())];
});

type Verdict = { readonly refused: string } | { readonly violations: readonly Finding[] };

function verdictOf(input: DocumentInput, parser: 'full' | undefined): Verdict {
  try {
    return { violations: verifyDocument(input, parser ? { parser } : {}).violations };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { refused: err.reason };
    throw err;
  }
}

const key = (f: Finding): string => `${f.kind}|${f.offset ?? -1}|${f.attribute ?? ''}|${f.url ?? f.raw ?? ''}|${f.reason ?? ''}`;

/** How many pages the fast scanner took whole (no parse5 at all), out of how many. */
const tally = { fast: 0, pages: 0 };

/** The default path sees at least what parse5 sees: the same refusal, or every parse5 violation. */
function expectNoLessThanFull(input: DocumentInput, recipe: string): void {
  const full = verdictOf(input, 'full');
  const { work, result } = countWork(POLICY, (policy) => verdictOf({ ...input, policy }, undefined));
  const auto = result as Verdict;
  tally.pages++;
  if (work.tokenizedChars === 0 && work.fastTokens > 0) tally.fast++;
  if ('refused' in full) {
    expect(auto, `parse5 path refused (${full.refused}); default path did not: ${recipe}`).toEqual(full);
    return;
  }
  if ('refused' in auto) return; // refusing more is failing closed
  const seen = new Set(auto.violations.map(key));
  const missed = full.violations.filter((f) => !seen.has(key(f))).map(describeFinding);
  expect(missed, `violations the default (fast) path missed: ${recipe}`).toEqual([]);
}

describe('verifier properties: the fast path', () => {
  it('the fast path never misses a violation the parse5 path finds (mutated real pages)', () => {
    fc.assert(
      fc.property(mutatedPage(pages), (m) => {
        expectNoLessThanFull(documentInput(m.bytes, m.headers, m.mode), `${m.recipe}\n--- text ---\n${m.text.slice(0, 2000)}`);
      }),
      propertyParameters('fast path against parse5 on mutated pages', 300),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('the fast path never misses a violation the parse5 path finds (a foreign target at a live position of a clean page)', () => {
    const withPositions = pages.map((p) => ({ ...p, positions: livePositions(p.text) })).filter((p) => p.positions.length > 0);
    fc.assert(
      fc.property(fc.constantFrom(...withPositions), fc.nat(), foreignTarget, (page, pick, target) => {
        const offset = page.positions[pick % page.positions.length]!.offset;
        const { bytes, headers } = encodePage(page.text.slice(0, offset) + target.markup + page.text.slice(offset), { encoding: 'utf-8', declaration: 'header' });
        expectNoLessThanFull(documentInput(bytes, headers, 'block'), `${target.name} ${JSON.stringify(target.markup)} in ${page.name} at ${offset}`);
      }),
      propertyParameters('fast path against parse5 after a live insertion', 600),
    );
    console.log(`[property] the fast scanner took ${tally.fast} of ${tally.pages} pages whole`);
    // Otherwise this compares parse5 with itself and proves nothing about the fast path.
    expect(tally.fast).toBeGreaterThan(tally.pages / 20);
  }, PROPERTY_TIMEOUT_MS);
});
