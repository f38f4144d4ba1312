/**
 * Source positions without parse5's `sourceCodeLocationInfo`, which nearly doubles the parse time
 * on a 100 KB page (it allocates a location for every token, text included). The tokenizer is
 * hooked to record where each start tag begins (one number per tag); attribute ranges are found
 * on demand, only for elements that have a finding, by re-reading that one start tag with the
 * HTML tokenizer's own attribute rules (HTML §13.2.5.32-13.2.5.40).
 */
import type { Attribute, Element } from './tree.js';

export interface Range {
  readonly start: number;
  readonly end: number;
}

export class SourceText {
  /** Start offset of the `<` of each start tag, keyed by the token's attribute array (shared with the element). */
  readonly tagStarts = new WeakMap<object, number>();
  private readonly attributeRanges = new WeakMap<Element, Map<string, Range>>();

  constructor(readonly text: string) {}

  startOf(element: Element): number | undefined {
    return this.tagStarts.get(element.attrs);
  }

  /** Source range of an attribute (`name=value`); undefined when parse5 merged it in from another tag. */
  attributeRange(element: Element, attr: Attribute): Range | undefined {
    let ranges = this.attributeRanges.get(element);
    if (!ranges) {
      const start = this.startOf(element);
      ranges = start === undefined ? new Map() : scanStartTag(this.text, start).attributes;
      this.attributeRanges.set(element, ranges);
    }
    // Raw token names: lower-cased, `xlink:href` before parse5's foreign-attribute adjustment.
    return ranges.get(attr.prefix ? `${attr.prefix}:${attr.name}` : attr.name.toLowerCase());
  }

  /** Offset just past the start tag's `>` (where raw text content begins). */
  startTagEnd(element: Element): number | undefined {
    const start = this.startOf(element);
    return start === undefined ? undefined : scanStartTag(this.text, start).end;
  }
}

/** HTML whitespace as the tokenizer sees it (CR is whitespace too: the preprocessor turns it into LF). */
function isSpace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

/** Re-tokenizes the start tag at `start` (the `<`): attribute ranges (first of duplicates wins) and the end. */
export function scanStartTag(text: string, start: number): { attributes: Map<string, Range>; end: number } {
  const attributes = new Map<string, Range>();
  let i = start + 1;
  while (i < text.length && !isSpace(text.charCodeAt(i)) && text[i] !== '/' && text[i] !== '>') i++;
  // Each iteration consumes at least one character, so the loop ends by the end of the text.
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === 0x2f /* / */) {
      i++;
      continue;
    }
    if (c === 0x3e /* > */) return { attributes, end: i + 1 };
    const nameStart = i;
    let name = text[i] === '=' ? '=' : '';
    if (name) i++;
    while (i < text.length && !isSpace(text.charCodeAt(i)) && text[i] !== '/' && text[i] !== '>' && text[i] !== '=') {
      name += text[i]!;
      i++;
    }
    let end = i;
    let j = i;
    while (j < text.length && isSpace(text.charCodeAt(j))) j++;
    if (text[j] === '=') {
      j++;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      const quote = text[j];
      if (quote === '"' || quote === "'") {
        const close = text.indexOf(quote, j + 1);
        j = close < 0 ? text.length : close + 1;
        end = j;
      } else if (quote !== '>') {
        while (j < text.length && !isSpace(text.charCodeAt(j)) && text[j] !== '>') j++;
        end = j;
      }
      i = j;
    }
    const key = name.toLowerCase().replace(/\0/g, '\uFFFD');
    if (!attributes.has(key)) attributes.set(key, { start: nameStart, end });
  }
  return { attributes, end: text.length };
}
