/**
 * Issue 10, first bullet: a foreign form target or script URL inserted into a real page where
 * Chromium honours it is never reported clean. "Where Chromium honours it" here means the places
 * that are obviously live (live-positions.ts: just before an HTML element the tokenizer emitted,
 * under ordinary HTML ancestors); every other position is sampled against a real Chromium in
 * verify-chromium-sample.test.ts.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import type { RouteMode } from '../../src/policy/model.js';
import { verifyDocument } from '../../src/verify/index.js';
import { describeFinding } from '../corpus/cases.js';
import { livePositions, type LivePosition } from './verify/live-positions.js';
import { applyTextOp, encoded, encodePage, foreignTarget, textOp, type Encoded, type TargetInsertion } from './verify/mutators.js';
import { demoPages, filePages, type SeedPage } from './verify/pages.js';
import { documentInput } from './verify/policy.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters } from './verify/run.js';

interface PageWithPositions extends SeedPage {
  readonly positions: readonly LivePosition[];
}

let pages: PageWithPositions[];

beforeAll(async () => {
  const seeds = [...filePages(), ...(await demoPages())];
  pages = seeds.map((p) => ({ ...p, positions: livePositions(p.text) })).filter((p) => p.positions.length > 0);
});

/**
 * ping and attributionsrc hold space-separated URLs (HTML §4.6.5, Attribution Reporting): a tab
 * inside one splits it, and neither half is the foreign URL any more.
 */
function keepsItsUrl(target: TargetInsertion): boolean {
  return !(['a-ping', 'attributionsrc'].includes(target.name) && /\s/.test(target.url.spelled));
}

function hostOf(origin: string | undefined): string | undefined {
  return origin !== undefined && URL.canParse(origin) ? new URL(origin).hostname : undefined;
}

/** The verdict on `text` with `target` inserted at `offset` is a refusal or names the foreign origin. */
function expectFlagged(name: string, pageText: string, offset: number, target: TargetInsertion, encoding: Encoded, mode: RouteMode): void {
  const text = pageText.slice(0, offset) + target.markup + pageText.slice(offset);
  const { bytes, headers } = encodePage(text, encoding);
  let verdict: string;
  try {
    const v = verifyDocument(documentInput(bytes, headers, mode));
    // The foreign host, whatever scheme it resolved to: a mutation may have inserted a foreign
    // <base> too, and then a scheme-relative target takes the base's scheme (found by seed 2116508144).
    if (v.violations.some((f) => f.origin === target.url.origin || hostOf(f.origin) === hostOf(target.url.origin))) return;
    verdict = v.findings.map(describeFinding).join('\n  ') || '(no findings)';
  } catch (err) {
    if (err instanceof VerifyRefusal) return; // refused: blocked whole, never served as clean
    throw err;
  }
  expect.fail(
    `${target.name} to ${target.url.origin} inserted in ${name} at ${offset} (${encoding.encoding} by ${encoding.declaration}, ${mode}) was not reported:\n` +
      `markup: ${target.markup}\ncontext: ${JSON.stringify(pageText.slice(Math.max(0, offset - 120), offset))}\nfindings:\n  ${verdict}`,
  );
}

describe('verifier properties: foreign targets', () => {
  it('has pages with live positions (corpus, bench, demo)', () => {
    expect(pages.length).toBeGreaterThan(100);
    expect(pages.some((p) => p.name.startsWith('demo/'))).toBe(true);
    expect(pages.some((p) => p.name.startsWith('bench/'))).toBe(true);
  });

  it('never reports a page clean when a foreign form target or script URL was inserted where Chromium would honour it', () => {
    const insertion = fc
      .record({
        page: fc.constantFrom(...pages),
        pick: fc.nat(),
        target: foreignTarget,
        encoding: encoded,
        mode: fc.constantFrom<RouteMode>('block', 'rewrite', 'report'),
      })
      .map(({ page, pick, ...rest }) => ({ page, position: page.positions[pick % page.positions.length]!, ...rest }));
    fc.assert(
      fc.property(insertion, ({ page, position, target, encoding, mode }) => {
        fc.pre(keepsItsUrl(target));
        fc.pre(!(target.name === 'form-action' && position.insideForm));
        expectFlagged(page.name, page.text, position.offset, target, encoding, mode);
      }),
      propertyParameters('foreign target at live positions', 3000),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('never reports a page clean when a foreign form target or script URL was inserted where Chromium would honour it, in a page already mutated (garbage, nesting, deletions, truncation)', () => {
    const insertion = fc.record({
      page: fc.constantFrom(...pages),
      ops: fc.array(textOp, { minLength: 1, maxLength: 3 }),
      pick: fc.nat(),
      target: foreignTarget,
      encoding: encoded,
      mode: fc.constantFrom<RouteMode>('block', 'rewrite', 'report'),
    });
    fc.assert(
      fc.property(insertion, ({ page, ops, pick, target, encoding, mode }) => {
        fc.pre(keepsItsUrl(target));
        const text = ops.reduce(applyTextOp, page.text);
        const positions = livePositions(text);
        fc.pre(positions.length > 0);
        const position = positions[pick % positions.length]!;
        fc.pre(!(target.name === 'form-action' && position.insideForm));
        expectFlagged(`${page.name} after ${ops.length} mutation(s)`, text, position.offset, target, encoding, mode);
      }),
      propertyParameters('foreign target in mutated pages', 1000),
    );
  }, PROPERTY_TIMEOUT_MS);
});
