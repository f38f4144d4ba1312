/**
 * Generators for passive-load spellings, shared by passive.test.ts (the verifier, in-process) and
 * oracle-passive.test.ts (Chromium's reading of the same spellings).
 */
import fc from 'fast-check';

const HEX = /[0-9a-fA-F]/;

/** One way to write one code point in CSS (CSS Syntax 3 §4.3.7 "consume an escaped code point"). */
type CharSpelling = { kind: 'literal' } | { kind: 'char-escape' } | { kind: 'hex'; digits: number; upper: boolean; terminator: '' | ' ' | '\t' | '\n' };

const charSpelling: fc.Arbitrary<CharSpelling> = fc.oneof(
  fc.constant<CharSpelling>({ kind: 'literal' }),
  fc.constant<CharSpelling>({ kind: 'char-escape' }),
  fc.record({
    kind: fc.constant('hex' as const),
    digits: fc.integer({ min: 1, max: 6 }),
    upper: fc.boolean(),
    terminator: fc.constantFrom('' as const, ' ' as const, '\t' as const, '\n' as const),
  }),
);

/**
 * `text` spelled with a random mix of literal characters, `\c` escapes and hex escapes (zero-padded
 * to 1–6 digits, either case, ended by whitespace or by nothing where the next character cannot
 * continue the hex run). CSS decodes every spelling back to `text`.
 */
export function cssEscapeSpelling(text: string): fc.Arbitrary<string> {
  const chars = [...text];
  return fc.array(charSpelling, { minLength: chars.length, maxLength: chars.length }).map((spellings) => {
    const parts = chars.map((c, i) => spell(c, spellings[i]!));
    // A hex escape shorter than 6 digits with no terminator would swallow a following hex digit or whitespace.
    return parts
      .map((p, i) => {
        if (!p.openHex) return p.text;
        const next = parts[i + 1]?.text[0];
        return next !== undefined && (HEX.test(next) || /\s/.test(next)) ? p.text + ' ' : p.text;
      })
      .join('');
  });
}

function spell(c: string, s: CharSpelling): { text: string; openHex: boolean } {
  // A hex digit after a bare backslash would be read as a hex escape; a newline cannot be escaped.
  if (s.kind === 'char-escape' && !HEX.test(c) && c !== '\n') return { text: `\\${c}`, openHex: false };
  if (s.kind === 'hex') {
    let hex = c.codePointAt(0)!.toString(16).padStart(s.digits, '0');
    hex = s.upper ? hex.toUpperCase() : hex;
    if (s.terminator !== '' || hex.length === 6) return { text: `\\${hex}${s.terminator}`, openHex: false };
    return { text: `\\${hex}`, openHex: true };
  }
  return { text: c, openHex: false };
}

export interface SrcsetShape {
  readonly value: string;
  /** The URLs HTML's srcset parser yields, in order. */
  readonly urls: readonly string[];
}

const SPACE = fc.constantFrom(' ', '\t', '\n', '  ');
const SEPARATOR = fc.array(fc.constantFrom(' ', ',', '\n', '\t'), { maxLength: 4 }).map((a) => a.join(''));
const DESCRIPTOR = fc.constantFrom('1x', '2x', '1.5x', '100w', '640w 2x', '(a, b)', '1x (c, https://x.example/, d)', '2x (');

/**
 * A srcset with odd commas and descriptors, and the URLs it holds: each candidate is a URL that
 * either ends in commas (no descriptors, §4.8.4.3.10 step 8) or is followed by descriptors, some
 * with parentheses that swallow commas.
 */
export function srcsetShape(foreign: string): fc.Arbitrary<SrcsetShape> {
  const url = fc.constantFrom(foreign, '/a.png', 'https://img.cdn.example/p.jpg', 'data:image/gif;base64,R0,lG');
  const candidate = fc.record({ url, ending: fc.oneof(fc.integer({ min: 1, max: 3 }).map((n) => ({ commas: n })), fc.record({ space: SPACE, descriptor: DESCRIPTOR })) });
  return fc.record({ lead: SEPARATOR, candidates: fc.array(candidate, { minLength: 1, maxLength: 4 }), between: fc.array(SEPARATOR, { minLength: 4, maxLength: 4 }) }).map(({ lead, candidates, between }) => {
    let value = lead;
    candidates.forEach((c, i) => {
      const last = i === candidates.length - 1;
      // The URL is a run of non-whitespace: a new candidate right after its commas would extend it.
      if ('commas' in c.ending) value += c.url + ','.repeat(c.ending.commas) + (last ? '' : ' ');
      // An unclosed `(` swallows the rest of the attribute: only the last candidate may have it.
      else {
        const descriptor = !last && c.ending.descriptor.endsWith('(') ? '2x' : c.ending.descriptor;
        value += c.url + c.ending.space + descriptor + (last ? '' : ',');
      }
      if (!last) value += between[i]!;
    });
    return { value, urls: candidates.map((c) => c.url) };
  });
}
