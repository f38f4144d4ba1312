/**
 * Content-Type as the browser reads it (docs/vectors.md M-01, M-02). Node's `res.headers` keeps
 * only the first Content-Type; browsers combine every line and take the last valid type.
 */
import type { HeaderList } from './types.js';

export interface MimeType {
  /** `type/subtype`, lower-cased. */
  readonly essence: string;
  readonly charset?: string;
  readonly params: ReadonlyMap<string, string>;
}

/**
 * Fetch "extract a MIME type" (fetch.spec.whatwg.org/#concept-header-extract-mime-type):
 * all Content-Type lines combined, split on commas outside quoted strings, the last parsable type
 * wins, and its charset is carried forward from an earlier value with the same essence.
 */
export function extractMimeType(headers: HeaderList): MimeType | undefined {
  const lines: string[] = [];
  for (const [name, value] of headers) if (name === 'content-type') lines.push(value);
  if (lines.length === 0) return undefined;
  let charset: string | undefined;
  let essence: string | undefined;
  let result: { essence: string; params: Map<string, string> } | undefined;
  for (const value of getDecodeAndSplit(lines.join(', '))) {
    const parsed = parseMimeType(value);
    if (!parsed || parsed.essence === '*/*') continue;
    result = parsed;
    if (parsed.essence !== essence) {
      charset = parsed.params.get('charset');
      essence = parsed.essence;
    } else if (!parsed.params.has('charset') && charset !== undefined) {
      parsed.params.set('charset', charset);
    }
  }
  if (!result) return undefined;
  const resultCharset = result.params.get('charset');
  return resultCharset === undefined
    ? { essence: result.essence, params: result.params }
    : { essence: result.essence, charset: resultCharset, params: result.params };
}

/** Fetch "get, decode, and split" a header value: commas inside quoted strings do not split. */
function getDecodeAndSplit(input: string): string[] {
  const values: string[] = [];
  let position = 0;
  let temporary = '';
  for (;;) {
    const stop = indexOfAny(input, position, '",');
    temporary += input.slice(position, stop);
    position = stop;
    if (position < input.length && input[position] === '"') {
      const quoted = collectHttpQuotedString(input, position);
      temporary += input.slice(position, quoted.end);
      position = quoted.end;
      if (position < input.length) continue;
    }
    values.push(trimHttpWhitespace(temporary));
    temporary = '';
    if (position >= input.length) return values;
    position++; // the comma
  }
}

const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const QUOTED_STRING_TOKEN = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/** MIME Sniffing §4.4 "parse a MIME type". */
export function parseMimeType(raw: string): { essence: string; params: Map<string, string> } | undefined {
  const input = raw.replace(HTTP_WHITESPACE, '');
  const slash = input.indexOf('/');
  if (slash <= 0) return undefined;
  const type = input.slice(0, slash);
  if (!TOKEN.test(type)) return undefined;
  let position = slash + 1;
  const semicolon = indexOfAny(input, position, ';');
  const subtype = input.slice(position, semicolon).replace(/[\t\n\r ]+$/, '');
  if (subtype === '' || !TOKEN.test(subtype)) return undefined;
  const params = new Map<string, string>();
  position = semicolon;
  while (position < input.length) {
    position++; // the ';'
    while (position < input.length && isHttpWhitespace(input.charCodeAt(position))) position++;
    const nameEnd = indexOfAny(input, position, ';=');
    const name = input.slice(position, nameEnd).toLowerCase();
    position = nameEnd;
    if (position < input.length) {
      if (input[position] === ';') continue;
      position++; // the '='
    }
    if (position >= input.length) break;
    let value: string;
    if (input[position] === '"') {
      const quoted = collectHttpQuotedString(input, position);
      value = quoted.value;
      position = indexOfAny(input, quoted.end, ';');
    } else {
      const valueEnd = indexOfAny(input, position, ';');
      value = input.slice(position, valueEnd).replace(/[\t\n\r ]+$/, '');
      position = valueEnd;
      if (value === '') continue;
    }
    if (name !== '' && TOKEN.test(name) && QUOTED_STRING_TOKEN.test(value) && !params.has(name)) params.set(name, value);
  }
  return { essence: `${type}/${subtype}`.toLowerCase(), params };
}

/** Fetch "collect an HTTP quoted string" starting at the opening quote. */
function collectHttpQuotedString(input: string, start: number): { value: string; end: number } {
  let value = '';
  let position = start + 1;
  for (;;) {
    const stop = indexOfAny(input, position, '"\\');
    value += input.slice(position, stop);
    position = stop;
    if (position >= input.length) break;
    const quoteOrBackslash = input[position];
    position++;
    if (quoteOrBackslash === '\\') {
      if (position >= input.length) {
        value += '\\';
        break;
      }
      value += input[position];
      position++;
    } else break;
  }
  return { value, end: position };
}

function indexOfAny(input: string, from: number, chars: string): number {
  for (let i = from; i < input.length; i++) if (chars.includes(input[i]!)) return i;
  return input.length;
}

function isHttpWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0d || c === 0x20;
}

/** MIME Sniffing §7.1 "identifying a resource with an unknown MIME type": the HTML patterns. */
const HTML_PATTERNS = [
  '<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A',
  '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--',
].map((p) => Array.from(p, (c) => c.charCodeAt(0)));

/**
 * True when a browser sniffing a resource of missing or unknown type would render it as HTML:
 * after leading whitespace bytes, one of the HTML patterns (ASCII case-insensitive) followed by a
 * tag-terminating byte (0x20 or 0x3E).
 */
export function sniffHtml(bytes: Uint8Array): boolean {
  let start = 0;
  while (start < bytes.length && isSniffWhitespace(bytes[start]!)) start++;
  for (const pattern of HTML_PATTERNS) {
    if (start + pattern.length >= bytes.length) continue;
    let matches = true;
    for (let i = 0; i < pattern.length && matches; i++) {
      const b = bytes[start + i]!;
      const lower = b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
      matches = lower === pattern[i];
    }
    const terminator = bytes[start + pattern.length];
    if (matches && (terminator === 0x20 || terminator === 0x3e)) return true;
  }
  return false;
}

function isSniffWhitespace(b: number): boolean {
  return b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
}

/**
 * A header value stripped of leading and trailing HTTP tab or space (Fetch "HTTP tab or space"),
 * as Chromium's network stack stores each line: not JavaScript's trim(), which also strips U+00A0
 * and other Unicode spaces that Chromium keeps (docs/headers.md).
 */
export function trimHttpWhitespace(value: string): string {
  return value.replace(/^[\t ]+|[\t ]+$/g, '');
}
