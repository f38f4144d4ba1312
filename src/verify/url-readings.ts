/**
 * The URLs a piece of data can stand for, as the shop's own code might read it (issue 17, class 4;
 * docs/vectors.md N-06). A `<meta content>`, a `data-*` attribute, a hidden input's value, a JSON
 * string or a CSS custom property is inert until a script reads it and assigns it to `location`,
 * passes it to `window.open` or sets it as a link's `href`. What such a script gets is the value as
 * the DOM holds it: entities decoded by the tokenizer, JSON escapes by JSON.parse, percent-escapes
 * when the script decodes them. The URL parser then strips leading and trailing C0 controls and
 * spaces and every tab and newline, and takes `\` for `/` in http(s) URLs (URL Standard, basic URL
 * parser; docs/vectors.md U-01..U-07, U-11).
 *
 * A reading is a string that, given to the URL parser, names another origin than the document's
 * own: an absolute URL (`https:…`, any case, tabs and newlines anywhere) or a scheme-relative one
 * (two slashes or backslashes in any order). Relative values (`/pay`, `pay.html`, `?step=2`) always
 * resolve to the document's own origin and are never readings; a foreign `<base>` that would move
 * them is judged by its own finder. Bare host names (`evil.example`, which a script could prefix
 * with `https://`) are not readings either: they cannot be told from words (docs/verifier.md).
 *
 * Pure string work, allocation-free until a candidate is found: it runs on every attribute value.
 */

/**
 * Characters that end a URL-looking token inside a longer value: whitespace (but tab and newline,
 * which the URL parser removes), quotes, brackets and separators.
 */
const TOKEN_END = /[^\S\t\n\r]|["'`<>(){};,]/;

/**
 * A cheap first test: a value can hold a reading only if it has a `/` or `\` (every absolute or
 * scheme-relative http(s) URL but one has two), a `:` (`https:evil.example` on an http page, U-11),
 * or a `%` (a percent-encoded URL a script decodes).
 */
export function mayHoldUrl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x5c /* \ */ || c === 0x3a /* : */ || c === 0x25 /* % */) return true;
  }
  return false;
}

/**
 * Every reading of a data value: the whole value (what `location = el.dataset.x` navigates to),
 * each URL-looking token inside it (a URL in a sentence, a list, an HTML snippet, CSS), the same
 * after one round of percent-decoding (`https%3A%2F%2Fevil`), and for a value that looks like JSON,
 * the readings of each of its strings and keys (`data-config='{"url":"https:\/\/evil"}'`).
 * Duplicates removed, in order of appearance.
 */
export function urlReadings(value: string): string[] {
  if (!mayHoldUrl(value)) return [];
  const readings = new Set<string>();
  collectJsonOrText(value, readings, true);
  return [...readings];
}

/**
 * JSON with escapes (`\/`, `\u0068`, `\n`…): what the code gets is JSON.parse's strings, and the
 * escaped text itself is no URL (`\/checkout\/next` is a path, not host `checkout`). Also after
 * one round of percent-decoding: WooCommerce preloads its Store API responses as
 * `JSON.parse(decodeURIComponent('%7B%22%5C%2Fwc%5C%2Fstore…'))`.
 */
function collectJsonOrText(value: string, into: Set<string>, percentToo: boolean): void {
  const trimmed = value.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.includes('\\')) {
    const json = parseJson(trimmed);
    if (json !== undefined) {
      for (const s of jsonStrings(json)) collectDecoding(s, into);
      return;
    }
  }
  if (percentToo) collectDecoding(value, into, true);
  else collect(value, into);
}

/** The readings of `value`, and of it percent-decoded once (`https%3A%2F%2Fevil`), read as JSON if it is. */
function collectDecoding(value: string, into: Set<string>, decodedAsJson = false): void {
  collect(value, into);
  if (/%(?:2f|5c|3a)/i.test(value)) {
    const decoded = percentDecoded(value);
    if (decoded === value) return;
    if (decodedAsJson) collectJsonOrText(decoded, into, false);
    else collect(decoded, into);
  }
}

/** The whole value, then every token inside it. */
function collect(value: string, into: Set<string>): void {
  const whole = wholeValueReading(value);
  if (whole !== undefined) into.add(whole);
  for (const token of embeddedTokens(value)) into.add(token.reading);
}

/**
 * The value as the URL parser reads all of it: trimmed of C0 controls and spaces, tabs and
 * newlines removed. A reading when it starts with a scheme or with two slashes/backslashes.
 */
export function wholeValueReading(value: string): string | undefined {
  const stripped = stripForUrlParser(value);
  return startsAbsoluteOrSchemeRelative(stripped) ? stripped : undefined;
}

/** What the basic URL parser does to its input first: trim C0 controls and space, remove tab and newline. */
export function stripForUrlParser(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) <= 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) <= 0x20) end--;
  const inner = value.slice(start, end);
  return /[\t\n\r]/.test(inner) ? inner.replace(/[\t\n\r]/g, '') : inner;
}

/** `scheme:` (RFC 3986 scheme characters) or two of `/` and `\`. */
function startsAbsoluteOrSchemeRelative(s: string): boolean {
  const c0 = s.charCodeAt(0);
  if ((c0 === 0x2f || c0 === 0x5c) && (s.charCodeAt(1) === 0x2f || s.charCodeAt(1) === 0x5c)) return true;
  if (!isAsciiAlpha(c0)) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a /* : */) return true;
    if (!(isAsciiAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return false;
  }
  return false;
}

function isAsciiAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** A URL-looking token inside a longer value: where it is, and what the URL parser reads of it. */
export interface EmbeddedToken {
  /** [start, end) in the value as given. */
  readonly start: number;
  readonly end: number;
  /** The token with its tabs and newlines removed. */
  readonly reading: string;
}

/**
 * URL-looking tokens inside a longer value: `http:` or `https:` (any case) starting a word, or two
 * slashes/backslashes after a separator (start, whitespace, quote, `=`, `(`, `,`…), not after a path
 * character (`images//logo.png` is a path, not a host). A token runs to the next space, quote,
 * bracket, `;` or `,`. Tabs and newlines neither start nor end anything: the URL parser removes them
 * from whatever a script cuts out (`ht&#9;tps://evil` is `https://evil`).
 */
export function embeddedTokens(value: string): EmbeddedToken[] {
  // Positions in `text` (tabs and newlines removed) map back to the value through `origin`.
  const folded = /[\t\n\r]/.test(value);
  const text = folded ? value.replace(/[\t\n\r]/g, '') : value;
  const origin = folded ? keptPositions(value) : undefined;
  const at = (i: number): number => (origin ? (origin[i] ?? value.length) : i);
  const tokens: EmbeddedToken[] = [];
  // A global regex scans left to right once: linear in the value.
  const start = /(?:^|[^A-Za-z0-9+.\-])(https?:|[/\\][/\\])/gi;
  for (let m = start.exec(text); m; m = start.exec(text)) {
    const head = m[1]!;
    const from = m.index + m[0].length - head.length;
    // `x://host`: a scheme form, found (or rejected, for a scheme that is not http) by its own match.
    if (!head.endsWith(':') && from > 0 && text[from - 1] === ':') continue;
    let end = from + head.length;
    while (end < text.length && !TOKEN_END.test(text[end]!)) end++;
    tokens.push({ start: at(from), end: end < text.length ? at(end) : value.length, reading: text.slice(from, end) });
    start.lastIndex = Math.max(end, start.lastIndex);
  }
  return tokens;
}

/** For each character kept after removing tabs and newlines, its index in `value`. */
function keptPositions(value: string): number[] {
  const kept: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 0x09 && c !== 0x0a && c !== 0x0d) kept.push(i);
  }
  return kept;
}

/** One round of percent-decoding, byte errors left as written (decodeURIComponent throws on them). */
export function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/%(2f|5c|3a)/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Every string of a parsed JSON value, keys included (an import map or a JSON-LD `@context` map
 * has URLs as keys). Iterative, so a deeply nested value cannot overflow the stack; each value is
 * visited once, so the walk is bounded by the size of the JSON.
 */
export function jsonStrings(root: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push(entries[i]![1]);
        out.push(entries[i]![0]);
      }
    }
  }
  return out;
}

/**
 * The JSON strings with the key each sits under (`image`, `logo`, `@context`…), for choosing the
 * list a URL would need. Keys themselves are reported under the key `@key`.
 */
export function keyedJsonStrings(root: unknown): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  const stack: { key: string; value: unknown }[] = [{ key: '', value: root }];
  while (stack.length > 0) {
    const { key, value } = stack.pop()!;
    if (typeof value === 'string') out.push({ key, value });
    else if (Array.isArray(value)) for (let i = value.length - 1; i >= 0; i--) stack.push({ key, value: value[i] });
    else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        stack.push({ key: k, value: v });
        out.push({ key: '@key', value: k });
      }
    }
  }
  return out;
}
