/**
 * How a finder neutralises what it found, as edits on the decoded text. Every replacement is ASCII
 * so it has the same bytes in every ASCII-compatible encoding (and is widened for UTF-16).
 */
import type { SourceText } from './source.js';
import { attribute, type Attribute, type Element } from './tree.js';
import type { Edit } from './scan.js';

/** A script type no browser executes or fetches (HTML §4.12.1: an unknown type is a data block). */
export const INERT_SCRIPT_TYPE = 'payguard/blocked';

export function replaceAttribute(source: SourceText, element: Element, attr: Attribute, text: string): Edit[] {
  const range = source.attributeRange(element, attr);
  return range ? [{ start: range.start, end: range.end, text }] : [];
}

export function removeAttribute(source: SourceText, element: Element, attr: Attribute): Edit[] {
  return replaceAttribute(source, element, attr, '');
}

/** Inserts ` text` right after the start tag's name as written in the source. */
export function insertAfterTagName(source: SourceText, element: Element, text: string): Edit[] {
  const start = source.startOf(element);
  if (start === undefined) return [];
  let i = start + 1;
  while (i < source.text.length && !/[\t\n\f\r />]/.test(source.text[i]!)) i++;
  return [{ start: i, end: i, text: ` ${text}` }];
}

/** Makes a <script> (HTML or SVG) a data block: nothing fetched, nothing run. The first type attribute wins. */
export function makeScriptInert(source: SourceText, script: Element): Edit[] {
  const type = attribute(script, 'type');
  const inert = `type="${INERT_SCRIPT_TYPE}"`;
  return type ? replaceAttribute(source, script, type, inert) : insertAfterTagName(source, script, inert);
}
