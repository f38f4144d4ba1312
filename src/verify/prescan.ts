/**
 * HTML §13.2.3.2 "prescan a byte stream to determine its encoding": the `<meta charset>` and
 * `<meta http-equiv=content-type content="…charset=…">` declarations in the first 1024 bytes.
 * Chromium's own detector is tokenizer-based (whatwg/html#5913), but once payguard pins the charset
 * in the Content-Type header the browser's confidence is "certain" and no meta is consulted again.
 */

import { lookupEncodingLabel } from './encodings.js';

const PRESCAN_LIMIT = 1024;

function isKnownLabel(label: string): boolean {
  return lookupEncodingLabel(label).kind !== 'unknown';
}

/** The label the prescan finds (not yet mapped), or undefined. */
export function prescanMetaCharset(bytes: Uint8Array): string | undefined {
  // One code unit per byte so the algorithm's byte comparisons are char-code comparisons.
  const s = String.fromCharCode(...bytes.subarray(0, PRESCAN_LIMIT));
  let position = 0;
  while (position < s.length) {
    if (s.startsWith('<!--', position)) {
      const end = s.indexOf('-->', position + 2);
      if (end < 0) return undefined;
      position = end + 3;
      continue;
    }
    if (startsWithMeta(s, position)) {
      const found = metaCharset(s, position + 5);
      if (found.label !== undefined) return found.label;
      if (found.end < 0) return undefined;
      position = found.end + 1;
      continue;
    }
    if (s[position] === '<' && (isAsciiAlpha(s.charCodeAt(position + 1)) || (s[position + 1] === '/' && isAsciiAlpha(s.charCodeAt(position + 2))))) {
      position = skipTag(s, position);
      if (position < 0) return undefined;
      position++;
      continue;
    }
    if (s.startsWith('<!', position) || s.startsWith('</', position) || s.startsWith('<?', position)) {
      const end = s.indexOf('>', position + 2);
      if (end < 0) return undefined;
      position = end + 1;
      continue;
    }
    position++;
  }
  return undefined;
}

function startsWithMeta(s: string, position: number): boolean {
  return s.slice(position, position + 5).toLowerCase() === '<meta' && isSpaceOrSlash(s.charCodeAt(position + 5));
}

/** The meta-element branch of the prescan: attributes until `>`, then the "processing" step. */
function metaCharset(s: string, start: number): { label?: string; end: number } {
  const seen = new Set<string>();
  let gotPragma = false;
  let needPragma: boolean | undefined;
  let charset: string | null | undefined; // undefined: not set; null: failure
  let position = start;
  for (;;) {
    const attribute = getAttribute(s, position);
    if (attribute === 'eof') return { end: -1 };
    if (attribute === undefined) break;
    position = attribute.end;
    if (seen.has(attribute.name)) continue;
    seen.add(attribute.name);
    if (attribute.name === 'http-equiv') {
      if (attribute.value === 'content-type') gotPragma = true;
    } else if (attribute.name === 'content') {
      const label = extractCharsetFromContent(attribute.value);
      if (label !== undefined && isKnownLabel(label) && charset === undefined) {
        charset = label;
        needPragma = true;
      }
    } else if (attribute.name === 'charset' && charset === undefined) {
      charset = isKnownLabel(attribute.value) ? attribute.value : null;
      needPragma = false;
    }
  }
  const tagEnd = position;
  if (needPragma === undefined || (needPragma && !gotPragma) || charset === undefined || charset === null) return { end: tagEnd };
  return { label: charset, end: tagEnd };
}

/** Skips a non-meta tag's attributes; returns the position of its `>` or -1 at the end. */
function skipTag(s: string, start: number): number {
  let position = start + 1;
  while (position < s.length && !isSpace(s.charCodeAt(position)) && s[position] !== '>') position++;
  for (;;) {
    const attribute = getAttribute(s, position);
    if (attribute === 'eof') return -1;
    if (attribute === undefined) return position;
    position = attribute.end;
  }
}

/**
 * HTML §13.2.3.2 "get an attribute". Returns undefined at `>` (position then points at it),
 * 'eof' when the bytes run out (the prescan aborts).
 */
function getAttribute(s: string, start: number): { name: string; value: string; end: number } | undefined | 'eof' {
  let position = start;
  while (position < s.length && isSpaceOrSlash(s.charCodeAt(position))) position++;
  if (position >= s.length) return 'eof';
  if (s[position] === '>') return undefined;
  let name = '';
  let value = '';
  for (;;) {
    if (position >= s.length) return 'eof';
    const c = s[position]!;
    if (c === '=' && name !== '') {
      position++;
      break;
    }
    if (isSpace(c.charCodeAt(0))) {
      while (position < s.length && isSpace(s.charCodeAt(position))) position++;
      if (position >= s.length) return 'eof';
      if (s[position] !== '=') return { name, value, end: position };
      position++;
      break;
    }
    if (c === '/' || c === '>') return { name, value, end: position };
    name += c.toLowerCase();
    position++;
  }
  while (position < s.length && isSpace(s.charCodeAt(position))) position++;
  if (position >= s.length) return 'eof';
  const first = s[position]!;
  if (first === '"' || first === "'") {
    const close = s.indexOf(first, position + 1);
    if (close < 0) return 'eof';
    return { name, value: s.slice(position + 1, close).toLowerCase(), end: close + 1 };
  }
  if (first === '>') return { name, value, end: position };
  while (position < s.length && !isSpace(s.charCodeAt(position)) && s[position] !== '>') {
    value += s[position]!.toLowerCase();
    position++;
  }
  if (position >= s.length) return 'eof';
  return { name, value, end: position };
}

/** HTML "algorithm for extracting a character encoding from a meta element" (the `content` value). */
export function extractCharsetFromContent(content: string): string | undefined {
  let position = 0;
  for (;;) {
    const at = content.toLowerCase().indexOf('charset', position);
    if (at < 0) return undefined;
    position = at + 7;
    while (position < content.length && isSpace(content.charCodeAt(position))) position++;
    if (content[position] !== '=') continue;
    position++;
    while (position < content.length && isSpace(content.charCodeAt(position))) position++;
    if (position >= content.length) return undefined;
    const c = content[position]!;
    if (c === '"' || c === "'") {
      const close = content.indexOf(c, position + 1);
      return close < 0 ? undefined : content.slice(position + 1, close);
    }
    let end = position;
    while (end < content.length && !isSpace(content.charCodeAt(end)) && content[end] !== ';') end++;
    return content.slice(position, end);
  }
}

function isSpace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

function isSpaceOrSlash(c: number): boolean {
  return isSpace(c) || c === 0x2f;
}

function isAsciiAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
