/**
 * One tag, tokenized as the HTML tokenizer does (HTML §13.2.5.6-13.2.5.8 tag open, end tag open and
 * tag name states; §13.2.5.32-13.2.5.40 attribute states), over the decoded text with indexOf and
 * charCodeAt. The text has no U+0000 (the scanner bails on it first). CR is still in the text: the
 * tokenizer's input stream has it folded to LF (§13.2.3.5), so attribute values are folded here.
 */
import { decodeHTMLAttribute } from 'entities/decode';
import type { Attribute } from '../tree.js';
import { bail } from './bail.js';

export interface TagToken {
  /** Tag name, ASCII lower-cased (the tag name state lower-cases ASCII upper alpha only). */
  readonly name: string;
  /** Attributes in source order, the first of duplicates kept (§13.2.5.33: later duplicates are dropped). */
  readonly attrs: Attribute[];
  /** Offset just past the `>`. */
  readonly end: number;
}

const NO_ATTRIBUTES: Attribute[] = [];

/** HTML whitespace as the tokenizer sees it (CR included: the input stream turns it into LF). */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x0d;
}

export function isAsciiAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/**
 * Reads the tag whose name starts at `nameStart` (after `<` or `</`). End tags are tokenized the
 * same way (their attributes are parsed, then dropped by the tree builder): a quoted `>` inside
 * `</p title=">">` does not end it.
 */
export function readTag(text: string, nameStart: number, keepAttributes: boolean): TagToken {
  let i = nameStart;
  let upper = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === 0x2f /* / */ || c === 0x3e /* > */) break;
    if (c >= 0x80) bail('non-ascii-name', i);
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  if (i >= text.length) bail('eof-in-markup', nameStart);
  const raw = text.slice(nameStart, i);
  const name = upper ? raw.toLowerCase() : raw;
  const attrs = keepAttributes ? [] : NO_ATTRIBUTES;
  const end = readAttributes(text, i, attrs, keepAttributes);
  return { name, attrs, end };
}

/** The before-attribute-name loop; returns the offset past the `>`. */
function readAttributes(text: string, from: number, attrs: Attribute[], keep: boolean): number {
  let i = from;
  // Every pass consumes at least one character, so the loop ends by the end of the text.
  for (;;) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) bail('eof-in-markup', from);
    const c = text.charCodeAt(i);
    if (c === 0x3e /* > */) return i + 1;
    if (c === 0x2f /* / */) {
      // Self-closing start tag state: `/>` ends the tag; otherwise the `/` is dropped and the
      // before-attribute-name state reconsumes the next character (§13.2.5.40).
      i++;
      continue;
    }
    i = readAttribute(text, i, attrs, keep);
  }
}

/** One attribute: name, optional `=` and value. Returns where the next before-attribute-name pass starts. */
function readAttribute(text: string, nameStart: number, attrs: Attribute[], keep: boolean): number {
  // §13.2.5.32: an `=` where a name should start is the name's first character.
  let i = text.charCodeAt(nameStart) === 0x3d ? nameStart + 1 : nameStart;
  let upper = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === 0x2f || c === 0x3e || c === 0x3d) break;
    if (c >= 0x80) bail('non-ascii-name', i);
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  const nameEnd = i;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (i >= text.length) bail('eof-in-markup', nameStart);
  let value = '';
  if (text.charCodeAt(i) === 0x3d /* = */) {
    i++;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) bail('eof-in-markup', nameStart);
    const q = text.charCodeAt(i);
    if (q === 0x22 || q === 0x27) {
      const close = text.indexOf(q === 0x22 ? '"' : "'", i + 1);
      if (close < 0) bail('eof-in-markup', nameStart);
      if (keep) value = attributeValue(text.slice(i + 1, close));
      i = close + 1;
    } else if (q !== 0x3e) {
      const start = i;
      while (i < text.length && !isSpace(text.charCodeAt(i)) && text.charCodeAt(i) !== 0x3e) i++;
      if (i >= text.length) bail('eof-in-markup', nameStart);
      if (keep) value = attributeValue(text.slice(start, i));
    }
  }
  if (keep) {
    const raw = text.slice(nameStart, nameEnd);
    addAttribute(attrs, upper ? raw.toLowerCase() : raw, value);
  }
  return i;
}

/** Past this many attributes a tag's names go into a Set: a tag with thousands of them stays linear. */
const LINEAR_SEARCH_LIMIT = 8;
const namesOfLongTags = new WeakMap<Attribute[], Set<string>>();

function addAttribute(attrs: Attribute[], name: string, value: string): void {
  if (attrs.length < LINEAR_SEARCH_LIMIT) {
    for (let k = 0; k < attrs.length; k++) if (attrs[k]!.name === name) return;
  } else {
    let names = namesOfLongTags.get(attrs);
    if (!names) namesOfLongTags.set(attrs, (names = new Set(attrs.map((a) => a.name))));
    if (names.has(name)) return;
    names.add(name);
  }
  attrs.push({ name, value });
}

/**
 * An attribute value as the tokenizer builds it: CR LF and CR folded to LF (§13.2.3.5), then
 * character references decoded in attribute mode (§13.2.5.72-13.2.5.80: a legacy reference without
 * `;` followed by `=` or an alphanumeric stays as written), with the decoder parse5 itself uses.
 */
export function attributeValue(raw: string): string {
  let value = raw;
  if (value.includes('\r')) value = value.replace(/\r\n?/g, '\n');
  return value.includes('&') ? decodeHTMLAttribute(value) : value;
}
