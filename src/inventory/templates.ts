/**
 * Learning inline templates from renderings (issue 18, item 4). The inventory fetches each page
 * several times, in two sessions; the same script rendered twice with a new nonce, timestamp or
 * cart is one script whose literals vary. Renderings are grouped by shape (their tokens with
 * every literal replaced by its type, and every literal-only array or object collapsed), and
 * within a group each literal that differs between renderings becomes a slot whose constraints
 * are what all of them share: the type, the narrowest named charset, the length range. An array
 * or object whose contents differ in structure (a cart of another length) is one JSON slot.
 * Object keys are never slots: a key that differs makes another shape, so another entry.
 * Code seen in one form only is drafted by its exact hash, as before.
 */
import { cspHashes } from '../verify/hash.js';
import { codeTokens, dataStrings, parseCode, SLOT_CHARSETS, walkNodes, type CodeGoal, type CodeToken, type SlotCharset, type SlotSpec } from '../policy/inline-template.js';
import type { Node } from 'acorn';

/** One piece of inline code as the crawl saw it, with the page it was on. */
export interface InlineSample {
  readonly goal: CodeGoal;
  readonly text: string;
  readonly page: string;
}

export type LearnedInline =
  | { readonly kind: 'hash'; readonly hash: string; readonly pages: readonly string[] }
  | { readonly kind: 'template'; readonly template: string; readonly slots: Record<string, SlotSpec>; readonly renderings: number; readonly pages: readonly string[] };

/**
 * Charsets a slot is drafted with, narrowest first. Coarse on purpose: two sessions' random tokens
 * that happen to be letters and digits only may be base64url, and the third has a `-`; a reviewer
 * narrows a slot the crawl could not (alnum, base64url, base64 are there for them).
 */
const CHARSET_ORDER: readonly SlotCharset[] = ['digits', 'hex', 'token', 'text'];

/** A parsed rendering: its tokens, and the literal-only arrays and objects (by token index range) that its shape collapses. */
interface Reading {
  readonly sample: InlineSample;
  readonly tokens: readonly CodeToken[];
  /** token index → index one past the end of the literal-only array or object starting there. */
  readonly dataEnds: ReadonlyMap<number, number>;
  /** Token indexes of object keys. */
  readonly keys: ReadonlySet<number>;
  /** Arrays of records (objects or arrays) inside data, start → end token index: lists whose length varies. */
  readonly rowLists: ReadonlyMap<number, number>;
  /** Every literal-only array or object, nested ones included, start → end token index. */
  readonly allData: ReadonlyMap<number, number>;
}

export function learnInlineTemplates(samples: readonly InlineSample[]): LearnedInline[] {
  const byText = new Map<string, InlineSample[]>();
  for (const s of samples) (byText.get(`${s.goal}\u0000${s.text}`) ?? byText.set(`${s.goal}\u0000${s.text}`, []).get(`${s.goal}\u0000${s.text}`)!).push(s);
  const groups = new Map<string, Reading[]>();
  const learned: LearnedInline[] = [];
  for (const [, same] of byText) {
    const reading = read(same[0]!);
    if (!reading) {
      learned.push(hashEntry(same));
      continue;
    }
    const shape = `${reading.sample.goal}\u0000${shapeOf(reading, true)}`;
    const group = groups.get(shape) ?? groups.set(shape, []).get(shape)!;
    group.push(reading);
    for (const other of same.slice(1)) group.push({ ...reading, sample: other });
  }
  for (const group of groups.values()) {
    const distinct = new Set(group.map((r) => r.sample.text));
    if (distinct.size < 2) {
      learned.push(hashEntry(group.map((r) => r.sample)));
      continue;
    }
    learned.push(templateOf(group));
  }
  return learned;
}

function hashEntry(samples: readonly InlineSample[]): LearnedInline {
  return { kind: 'hash', hash: cspHashes(samples[0]!.text)[0]!, pages: [...new Set(samples.map((s) => s.page))].sort() };
}

function read(sample: InlineSample): Reading | undefined {
  const parsed = parseCode(sample.text, sample.goal);
  if (!parsed) return undefined;
  const tokens = codeTokens(parsed);
  const startIndex = new Map(tokens.map((t, i) => [t.start, i]));
  const endIndex = new Map(tokens.map((t, i) => [t.end, i]));
  const dataEnds = new Map<number, number>();
  const keys = new Set<number>();
  const rowLists = new Map<number, number>();
  const allData = new Map<number, number>();
  walkNodes(parsed.program, (node) => {
    const elements = node.type === 'ArrayExpression' ? (node as unknown as { elements: (Node | null)[] }).elements : [];
    if (elements.some((e) => e?.type === 'ObjectExpression' || e?.type === 'ArrayExpression')) {
      const first = startIndex.get(node.start);
      const last = endIndex.get(node.end);
      if (first !== undefined && last !== undefined && ![...rowLists].some(([s, e]) => first >= s && first < e)) rowLists.set(first, last + 1);
    }
    const p = node as Node & { key?: Node; computed?: boolean };
    if ((p.type === 'Property' || p.type === 'PropertyDefinition') && p.key && !p.computed) {
      const i = startIndex.get(p.key.start);
      if (i !== undefined) keys.add(i);
    }
    if ((node.type === 'ArrayExpression' || node.type === 'ObjectExpression') && dataStrings(node) !== undefined) {
      const first = startIndex.get(node.start);
      const last = endIndex.get(node.end);
      if (first !== undefined && last !== undefined) allData.set(first, last + 1);
      // Only the outermost: an inner array of a collapsed object is inside its range.
      if (first !== undefined && last !== undefined && ![...dataEnds].some(([s, e]) => first >= s && first < e)) dataEnds.set(first, last + 1);
    }
  });
  return { sample, tokens, dataEnds, keys, rowLists, allData };
}

const LITERALS: ReadonlySet<string> = new Set(['string', 'num', 'true', 'false', 'null']);

/** The token at `i` as a shape element: literals by type (keys written out), collapsed data as `J`. */
function shapeOf(reading: Reading, collapse: boolean): string {
  const parts: string[] = [];
  for (let i = 0; i < reading.tokens.length; i++) {
    const end = collapse ? reading.dataEnds.get(i) : undefined;
    if (end !== undefined) {
      parts.push('\u0001J');
      i = end - 1;
      continue;
    }
    const token = reading.tokens[i]!;
    parts.push(LITERALS.has(token.label) && !reading.keys.has(i) ? `\u0001${literalType(token)}` : `${token.label}\u0002${token.text}`);
  }
  return parts.join('\u0003');
}

function literalType(token: CodeToken): string {
  return token.label === 'true' || token.label === 'false' ? 'boolean' : token.label === 'num' ? 'number' : token.label;
}

/** One rendering's piece at a template position: a fixed token, a literal, or collapsed data. */
interface Piece {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly value: unknown;
  readonly kind: 'fixed' | 'literal' | 'data';
  readonly type?: string;
  /** The data's own shape, to tell a fixed array from one whose structure varies. */
  readonly inner?: string;
}

function piecesOf(reading: Reading): Piece[] {
  const pieces: Piece[] = [];
  const { tokens } = reading;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const end = reading.dataEnds.get(i);
    if (end !== undefined) {
      const last = tokens[end - 1]!;
      const inner = tokens.slice(i, end).map((t, k) => (LITERALS.has(t.label) && !reading.keys.has(i + k) ? literalType(t) : t.text)).join(' ');
      pieces.push({ start: token.start, end: last.end, text: reading.sample.text.slice(token.start, last.end), value: undefined, kind: 'data', inner });
      i = end - 1;
      continue;
    }
    const literal = LITERALS.has(token.label) && !reading.keys.has(i);
    pieces.push({ start: token.start, end: token.end, text: token.text, value: token.value, kind: literal ? 'literal' : 'fixed', ...(literal ? { type: literalType(token) } : {}) });
  }
  return pieces;
}

/**
 * The template of a group of renderings with one shape. A position is a slot where the renderings
 * differ; collapsed data whose structure is the same in every rendering is expanded again, so a
 * fixed object keeps its keys written out and only its varying values become slots.
 */
function templateOf(group: readonly Reading[]): LearnedInline {
  const expanded = group.map((reading) => expandStableData(reading, group));
  const table = expanded.map(piecesOf);
  const base = group[0]!.sample.text;
  const slots: Record<string, SlotSpec> = {};
  const cuts: { start: number; end: number; name: string }[] = [];
  const first = table[0]!;
  for (let p = 0; p < first.length; p++) {
    const column = table.map((row) => row[p]!);
    // A list of records is a slot even where every rendering had the same one (see expandStableData).
    if (column[0]!.kind !== 'data' && column.every((piece) => piece.text === column[0]!.text)) continue;
    const name = slotName(first, p, slots);
    slots[name] = column[0]!.kind === 'data' ? { type: 'json' } : slotSpecOf(column);
    cuts.push({ start: first[p]!.start, end: first[p]!.end, name });
  }
  let template = '';
  let at = 0;
  for (const cut of cuts) {
    template += base.slice(at, cut.start) + `$slot$${cut.name}`;
    at = cut.end;
  }
  template += base.slice(at);
  const pages = [...new Set(group.map((r) => r.sample.page))].sort();
  return { kind: 'template', template, slots, renderings: new Set(group.map((r) => r.sample.text)).size, pages };
}

/**
 * The reading with collapsed data expanded wherever the renderings agree on its structure. Data
 * whose structure is the same everywhere keeps its keys written out; an object whose own keys are
 * the same everywhere while something inside it differs (a state object holding a cart of another
 * length) keeps its keys too, and the same is decided for each of its values in turn. What stays
 * collapsed is one JSON slot: an array whose length varies, an object whose keys differ.
 */
function expandStableData(reading: Reading, group: readonly Reading[]): Reading {
  const dataEnds = new Map<number, number>();
  const outermost = (r: Reading): number[] => [...r.dataEnds.keys()].sort((a, b) => a - b);
  outermost(reading).forEach((start, k) => {
    const aligned = group.map((r): Range | undefined => {
      const s = outermost(r)[k];
      return s === undefined ? undefined : [s, r.dataEnds.get(s)!];
    });
    settleData(reading, [start, reading.dataEnds.get(start)!], group, aligned, dataEnds);
  });
  return { ...reading, dataEnds };
}

/** Token index range [start, end) of a literal-only array or object. */
type Range = readonly [number, number];

function settleData(reading: Reading, range: Range, group: readonly Reading[], aligned: readonly (Range | undefined)[], out: Map<number, number>): void {
  const [start, end] = range;
  const inner = structureOf(reading, range);
  if (group.every((r, g) => aligned[g] !== undefined && structureOf(r, aligned[g]) === inner)) {
    // The same structure in every rendering: keys stay written out, but a list of records (cart
    // rows, payment methods) is a JSON slot still: the crawl saw one length, the next cart has another.
    for (const [s, e] of reading.rowLists) if (s >= start && s < end) out.set(s, e);
    return;
  }
  const mine = objectLayout(reading, range);
  const layouts = group.map((r, g) => (aligned[g] === undefined ? undefined : objectLayout(r, aligned[g])));
  if (!mine || layouts.some((l) => l?.signature !== mine.signature)) {
    out.set(start, end);
    return;
  }
  mine.children.forEach((child, c) => settleData(reading, child, group, layouts.map((l) => l!.children[c]), out));
}

/** The data's tokens with every literal value replaced by its type (keys written out). */
function structureOf(r: Reading, [s, e]: Range): string {
  return r.tokens.slice(s, e).map((t, j) => (LITERALS.has(t.label) && !r.keys.has(s + j) ? literalType(t) : t.text)).join(' ');
}

/**
 * An object's own keys, in order, with what kind of value each has (a literal's type, or nested
 * data), and the ranges of its nested data; undefined for an array or anything unexpected.
 */
function objectLayout(r: Reading, [s, e]: Range): { signature: string; children: Range[] } | undefined {
  if (r.tokens[s]?.text !== '{') return undefined;
  const parts: string[] = [];
  const children: Range[] = [];
  let i = s + 1;
  while (i < e - 1) {
    if (!r.keys.has(i) || r.tokens[i + 1]?.text !== ':') return undefined;
    parts.push(`${r.tokens[i]!.text}:`);
    i += 2;
    const nested = r.allData.get(i);
    if (nested !== undefined) {
      children.push([i, nested]);
      parts.push('{data}');
      i = nested;
    } else {
      for (; i < e - 1 && r.tokens[i]!.text !== ','; i++) parts.push(LITERALS.has(r.tokens[i]!.label) ? literalType(r.tokens[i]!) : r.tokens[i]!.text);
    }
    if (r.tokens[i]?.text === ',') i++;
    else if (i !== e - 1) return undefined;
  }
  return { signature: parts.join(' '), children };
}

/** Constraints every observed value meets: the type, the narrowest charset, the lengths seen (fixed, or widened when they vary). */
function slotSpecOf(column: readonly Piece[]): SlotSpec {
  const types = new Set(column.map((p) => p.type));
  if (types.size > 1 || column.some((p) => p.kind !== 'literal')) return { type: 'json' };
  const type = column[0]!.type!;
  if (type === 'number') {
    const values = column.map((p) => p.value as number);
    return values.every((v) => Number.isInteger(v)) ? { type: 'number', integer: true } : { type: 'number' };
  }
  if (type === 'boolean') return { type: 'boolean' };
  if (type === 'null') return { type: 'null' };
  const values = column.map((p) => String(p.value));
  const charset = CHARSET_ORDER.find((c) => values.every((v) => SLOT_CHARSETS[c].test(v)))!;
  const lengths = values.map((v) => v.length);
  const min = Math.min(...lengths);
  const max = Math.max(...lengths);
  // Tokens and timestamps keep their length; names, ids and payloads do not, and the next may be longer.
  const length: [number, number] = min === max && min >= 8 && charset !== 'text' ? [min, max] : [0, Math.max(256, max * 4)];
  return { type: 'string', charset, length };
}

/** A slot's name: the key it is the value of (`storeApiNonce`), else its position; unique in the template. */
function slotName(pieces: readonly Piece[], p: number, taken: Readonly<Record<string, SlotSpec>>): string {
  const before = pieces[p - 1];
  const keyPiece = pieces[p - 2];
  let name = (before?.text === ':' || before?.text === '=') && keyPiece ? String(keyPiece.kind === 'literal' || /^["']/.test(keyPiece.text) ? keyPiece.value ?? keyPiece.text : keyPiece.text) : `value${p}`;
  name = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([0-9])/, '_$1') || `value${p}`;
  let unique = name;
  for (let n = 2; unique in taken; n++) unique = `${name}_${n}`;
  return unique;
}
