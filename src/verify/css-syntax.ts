/**
 * The CSS tokenizer of CSS Syntax Level 3 §4 ("Tokenization"), reduced to what payguard needs to
 * find every URL a stylesheet or a style attribute makes the browser fetch: url tokens, strings,
 * functions, at-keywords and blocks, each with its exact range in the text it was given.
 *
 * Why our own and not a package: the rewriter neutralises a `url(…)` in a `<style>` by splicing
 * the original bytes (docs/verifier.md "Rewriting"), so a token's offsets must be offsets into the
 * text as written, before CSS's input preprocessing (§3.3: CR LF, CR and FF become LF, NUL
 * becomes U+FFFD). This tokenizer works on the raw text and applies the preprocessing rules in
 * place (a CR LF is one newline, NUL reads as U+FFFD), so no second string and no offset map is
 * needed; it allocates only for the names and values it returns. Every consume step below follows
 * the section it cites, and test/verify/css-syntax.test.ts checks it against Chromium's own reading
 * (CSS.escape round trips and the oracle in test/verify/passive-oracle.test.ts).
 */

export type CssTokenType =
  | 'whitespace'
  | 'string'
  | 'bad-string'
  | 'url'
  | 'bad-url'
  | 'function'
  | 'at-keyword'
  | 'ident'
  | 'hash'
  | 'number' // number, percentage and dimension: payguard never needs them apart
  | 'delim'
  | 'cdo'
  | 'cdc'
  | '('
  | ')'
  | '['
  | ']'
  | '{'
  | '}'
  | ';'
  | ','
  | ':';

export interface CssToken {
  readonly type: CssTokenType;
  /** [start, end) in the text given to the tokenizer. */
  readonly start: number;
  readonly end: number;
  /**
   * Escapes decoded (§4.3.7): the URL of a url token, the content of a string, the name of an
   * ident, function (without `(`), at-keyword (without `@`) or hash. Empty for the others.
   */
  readonly value: string;
}

const EOF = -1;

/** §4.2 newline, after preprocessing: LF, CR (alone or in CR LF) and FF. */
function isNewline(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x0c;
}

/** §4.2 whitespace: newline, tab, space. */
function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || isNewline(c);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * §4.2 ident-start code point: a letter, `_`, or a non-ASCII code point. NUL counts: the
 * preprocessing made it U+FFFD. (Chromium treats every code point from U+0080 up as non-ASCII
 * ident, as CSS Syntax did before its 2023 narrowing; the wider reading finds more, never less.)
 */
function isIdentStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80 || c === 0x00;
}

function isIdent(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 0x2d;
}

/** §4.2 non-printable code point (NUL is not one: the preprocessing made it U+FFFD). */
function isNonPrintable(c: number): boolean {
  return (c >= 0x01 && c <= 0x08) || c === 0x0b || (c >= 0x0e && c <= 0x1f) || c === 0x7f;
}

class Reader {
  position = 0;
  constructor(readonly text: string) {}

  /** The code point at `position + ahead` code units (UTF-16; CSS's structural characters are all BMP). */
  at(ahead = 0): number {
    const i = this.position + ahead;
    return i < this.text.length ? this.text.charCodeAt(i) : EOF;
  }

  /** Consumes one newline: CR LF is one (§3.3 preprocessing). */
  consumeNewline(): void {
    if (this.at() === 0x0d && this.at(1) === 0x0a) this.position += 2;
    else this.position += 1;
  }

  /** Consumes one code point and returns it as a string (a surrogate pair whole; NUL as U+FFFD). */
  consumeCodePoint(): string {
    const c = this.text.codePointAt(this.position)!;
    this.position += c > 0xffff ? 2 : 1;
    return c === 0 ? '\uFFFD' : String.fromCodePoint(c);
  }
}

/** CSS compares keywords ASCII case-insensitively (§2.1): `toLowerCase` would also fold U+212A KELVIN SIGN to `k`. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** §4.3.8 "check if two code points are a valid escape". */
function validEscape(first: number, second: number): boolean {
  return first === 0x5c && !isNewline(second) && second !== EOF;
}

/** §4.3.9 "check if three code points would start an ident sequence". */
function startsIdent(a: number, b: number, c: number): boolean {
  if (a === 0x2d) return isIdentStart(b) || b === 0x2d || validEscape(b, c);
  if (isIdentStart(a)) return true;
  if (a === 0x5c) return validEscape(a, b);
  return false;
}

/** §4.3.10 "check if three code points would start a number". */
function startsNumber(a: number, b: number, c: number): boolean {
  if (a === 0x2b || a === 0x2d) return isDigit(b) || (b === 0x2e && isDigit(c));
  if (a === 0x2e) return isDigit(b);
  return isDigit(a);
}

/** §4.3.7 "consume an escaped code point", the reverse solidus already consumed. */
function consumeEscaped(r: Reader): string {
  const c = r.at();
  if (c === EOF) return '\uFFFD';
  if (isHexDigit(c)) {
    let hex = '';
    while (hex.length < 6 && isHexDigit(r.at())) {
      hex += r.text[r.position];
      r.position++;
    }
    if (isWhitespace(r.at())) {
      if (isNewline(r.at())) r.consumeNewline();
      else r.position++;
    }
    const value = parseInt(hex, 16);
    if (value === 0 || (value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) return '\uFFFD';
    return String.fromCodePoint(value);
  }
  return r.consumeCodePoint();
}

/** §4.3.11 "consume an ident sequence". */
function consumeIdentSequence(r: Reader): string {
  let result = '';
  // Each iteration consumes at least one code unit.
  for (;;) {
    const c = r.at();
    if (c !== EOF && isIdent(c)) result += r.consumeCodePoint();
    else if (validEscape(c, r.at(1))) {
      r.position++;
      result += consumeEscaped(r);
    } else return result;
  }
}

/** §4.3.12 "consume a number" (only its extent matters here). */
function consumeNumber(r: Reader): void {
  if (r.at() === 0x2b || r.at() === 0x2d) r.position++;
  while (isDigit(r.at())) r.position++;
  if (r.at() === 0x2e && isDigit(r.at(1))) {
    r.position += 1;
    while (isDigit(r.at())) r.position++;
  }
  const e = r.at();
  if (e === 0x45 || e === 0x65) {
    const sign = r.at(1) === 0x2b || r.at(1) === 0x2d;
    if (isDigit(r.at(sign ? 2 : 1))) {
      r.position += sign ? 2 : 1;
      while (isDigit(r.at())) r.position++;
    }
  }
}

/** §4.3.3 "consume a numeric token": number, percentage or dimension. */
function consumeNumeric(r: Reader): void {
  consumeNumber(r);
  if (startsIdent(r.at(), r.at(1), r.at(2))) consumeIdentSequence(r);
  else if (r.at() === 0x25) r.position++;
}

/** §4.3.5 "consume a string token"; `quote` already consumed. */
function consumeString(r: Reader, quote: number): { type: 'string' | 'bad-string'; value: string } {
  let value = '';
  for (;;) {
    const c = r.at();
    if (c === quote) {
      r.position++;
      return { type: 'string', value };
    }
    if (c === EOF) return { type: 'string', value };
    if (isNewline(c)) return { type: 'bad-string', value }; // reconsumed: not part of the token
    if (c === 0x5c) {
      r.position++;
      const next = r.at();
      if (next === EOF) continue;
      if (isNewline(next)) r.consumeNewline();
      else value += consumeEscaped(r);
      continue;
    }
    value += r.consumeCodePoint();
  }
}

/** §4.3.14 "consume the remnants of a bad url". */
function consumeBadUrlRemnants(r: Reader): void {
  for (;;) {
    const c = r.at();
    if (c === EOF) return;
    if (c === 0x29) {
      r.position++;
      return;
    }
    if (validEscape(c, r.at(1))) {
      r.position++;
      consumeEscaped(r);
    } else r.position++;
  }
}

function consumeWhitespace(r: Reader): void {
  while (isWhitespace(r.at())) r.position++;
}

/** §4.3.6 "consume a url token", after `url(` and the whitespace after it. */
function consumeUrl(r: Reader): { type: 'url' | 'bad-url'; value: string } {
  let value = '';
  consumeWhitespace(r);
  for (;;) {
    const c = r.at();
    if (c === 0x29) {
      r.position++;
      return { type: 'url', value };
    }
    if (c === EOF) return { type: 'url', value };
    if (isWhitespace(c)) {
      consumeWhitespace(r);
      if (r.at() === 0x29 || r.at() === EOF) {
        if (r.at() === 0x29) r.position++;
        return { type: 'url', value };
      }
      consumeBadUrlRemnants(r);
      return { type: 'bad-url', value };
    }
    if (c === 0x22 || c === 0x27 || c === 0x28 || isNonPrintable(c)) {
      consumeBadUrlRemnants(r);
      return { type: 'bad-url', value };
    }
    if (c === 0x5c) {
      if (validEscape(c, r.at(1))) {
        r.position++;
        value += consumeEscaped(r);
        continue;
      }
      consumeBadUrlRemnants(r);
      return { type: 'bad-url', value };
    }
    value += r.consumeCodePoint();
  }
}

/** §4.3.4 "consume an ident-like token": ident, function, or (for `url(` without quotes) url. */
function consumeIdentLike(r: Reader): { type: 'ident' | 'function' | 'url' | 'bad-url'; value: string } {
  const name = consumeIdentSequence(r);
  if (r.at() !== 0x28) return { type: 'ident', value: name };
  r.position++;
  if (asciiLower(name) !== 'url') return { type: 'function', value: name };
  // "While the next two input code points are whitespace, consume the next input code point."
  while (isWhitespace(r.at()) && isWhitespace(r.at(r.at() === 0x0d && r.at(1) === 0x0a ? 2 : 1))) {
    if (isNewline(r.at())) r.consumeNewline();
    else r.position++;
  }
  const next = r.at();
  const afterSpace = isWhitespace(next) ? r.at(next === 0x0d && r.at(1) === 0x0a ? 2 : 1) : next;
  if (afterSpace === 0x22 || afterSpace === 0x27) return { type: 'function', value: name };
  return consumeUrl(r);
}

/** §4.3.1 "consume a token", comments (§4.3.2) skipped before it. Undefined at the end. */
function consumeToken(r: Reader): CssToken | undefined {
  // §4.3.2 consume comments: `/*` to the next `*/`, or to the end.
  while (r.at() === 0x2f && r.at(1) === 0x2a) {
    const close = r.text.indexOf('*/', r.position + 2);
    r.position = close < 0 ? r.text.length : close + 2;
  }
  const start = r.position;
  const c = r.at();
  if (c === EOF) return undefined;
  const token = (type: CssTokenType, value = ''): CssToken => ({ type, start, end: r.position, value });
  if (isWhitespace(c)) {
    consumeWhitespace(r);
    return token('whitespace');
  }
  if (c === 0x22 || c === 0x27) {
    r.position++;
    const s = consumeString(r, c);
    return token(s.type, s.value);
  }
  if (c === 0x23 /* # */) {
    r.position++;
    if (isIdent(r.at()) || validEscape(r.at(), r.at(1))) return token('hash', consumeIdentSequence(r));
    return token('delim', '#');
  }
  if (c === 0x2b /* + */ || c === 0x2e /* . */) {
    if (startsNumber(c, r.at(1), r.at(2))) {
      consumeNumeric(r);
      return token('number');
    }
    r.position++;
    return token('delim', String.fromCharCode(c));
  }
  if (c === 0x2d /* - */) {
    if (startsNumber(c, r.at(1), r.at(2))) {
      consumeNumeric(r);
      return token('number');
    }
    if (r.at(1) === 0x2d && r.at(2) === 0x3e) {
      r.position += 3;
      return token('cdc');
    }
    if (startsIdent(c, r.at(1), r.at(2))) {
      const t = consumeIdentLike(r);
      return token(t.type, t.value);
    }
    r.position++;
    return token('delim', '-');
  }
  if (c === 0x3c /* < */ && r.at(1) === 0x21 && r.at(2) === 0x2d && r.at(3) === 0x2d) {
    r.position += 4;
    return token('cdo');
  }
  if (c === 0x40 /* @ */) {
    r.position++;
    if (startsIdent(r.at(), r.at(1), r.at(2))) return token('at-keyword', consumeIdentSequence(r));
    return token('delim', '@');
  }
  if (c === 0x5c /* \ */) {
    if (validEscape(c, r.at(1))) {
      const t = consumeIdentLike(r);
      return token(t.type, t.value);
    }
    r.position++;
    return token('delim', '\\');
  }
  if (isDigit(c)) {
    consumeNumeric(r);
    return token('number');
  }
  if (isIdentStart(c)) {
    const t = consumeIdentLike(r);
    return token(t.type, t.value);
  }
  const simple = SIMPLE_TOKENS.get(c);
  if (simple) {
    r.position++;
    return token(simple);
  }
  r.consumeCodePoint();
  return token('delim', r.text.slice(start, r.position));
}

const SIMPLE_TOKENS = new Map<number, CssTokenType>([
  [0x28, '('],
  [0x29, ')'],
  [0x5b, '['],
  [0x5d, ']'],
  [0x7b, '{'],
  [0x7d, '}'],
  [0x3b, ';'],
  [0x2c, ','],
  [0x3a, ':'],
]);

/** Every token of `text`. Bounded: each token consumes at least one code unit. */
export function tokenizeCss(text: string): CssToken[] {
  const r = new Reader(text);
  const tokens: CssToken[] = [];
  for (let token = consumeToken(r); token; token = consumeToken(r)) tokens.push(token);
  return tokens;
}

/** What a piece of CSS text is: a whole style sheet (`<style>`), or a declaration list (`style=""`). */
export type CssContext = 'stylesheet' | 'declarations';

/**
 * The ranges of the text that are declaration values: from the colon after a property's name to
 * the `;` or `}` that ends the declaration (§5.4.6 "consume a declaration"; §5.4.4 "consume a
 * block's contents": an item that starts with an ident may be a declaration, any other item is a
 * nested rule). Values are the only CSS text a script reads back as written
 * (`getPropertyValue('--x')`, a computed `content` string). Everything else is a rule's prelude (a
 * selector, an at-rule's condition) or a comment between rules, which no CSSOM call hands a script
 * as a value; Tailwind writes `.group-data-\[size\=sm\]\/alert-dialog-content\:grid` there,
 * which a scan of the raw text for URLs reads as `//alert-dialog-content/:grid`.
 *
 * Ambiguity counts as a value: any item of any block that starts with an ident and a colon is read
 * as a declaration, where Chromium may read a nested rule (`a:hover {…}`) or, at the top of an
 * `@media` block, a rule; a wider value range can only add readings. Blocks nest as component
 * values do (§5.4.8 "consume a simple block": a `}` inside `(…)` closes nothing).
 */
export function declarationValueRanges(text: string, context: CssContext, tokens: readonly CssToken[] = tokenizeCss(text)): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  /** For each open rule block, outermost first: whether its items may be declarations (the sheet's top level may not). */
  const blocks: boolean[] = [context === 'declarations'];
  /** The closers of the simple blocks and functions open inside the current prelude or value, innermost last. */
  const nested: CssTokenType[] = [];
  let state: 'item' | 'name' | 'prelude' | 'value' = 'item';
  let valueStart = 0;
  const endValue = (at: number): void => {
    if (at > valueStart) ranges.push({ start: valueStart, end: at });
  };
  for (const t of tokens) {
    if (state === 'item') {
      if (t.type === 'whitespace' || t.type === ';' || t.type === 'cdo' || t.type === 'cdc') continue;
      if (t.type === '}') {
        if (blocks.length > 1) blocks.pop();
        continue;
      }
      if (t.type === 'ident' && blocks[blocks.length - 1]) {
        state = 'name';
        continue;
      }
      state = 'prelude';
    } else if (state === 'name') {
      if (t.type === 'whitespace') continue;
      if (t.type === ':') {
        state = 'value';
        valueStart = t.end;
        continue;
      }
      state = 'prelude';
    }
    // Inside a prelude or a value: simple blocks and functions nest until their own closer.
    const closer = t.type === '(' || t.type === 'function' ? ')' : t.type === '[' ? ']' : t.type === '{' ? '}' : undefined;
    if (nested.length > 0) {
      if (closer) nested.push(closer);
      else if (t.type === nested[nested.length - 1]) nested.pop();
      continue;
    }
    if (state === 'prelude') {
      if (t.type === '{') {
        // A rule's or an at-rule's block: declarations, nested rules, or (in @media…) rules.
        blocks.push(true);
        state = 'item';
      } else if (closer) {
        nested.push(closer);
      } else if (t.type === ';') {
        state = 'item'; // an at-rule statement (@import …;), or a nested rule's prelude dropped at `;`
      } else if (t.type === '}') {
        if (blocks.length > 1) blocks.pop();
        state = 'item';
      }
      continue;
    }
    // state === 'value'
    if (closer) {
      nested.push(closer);
    } else if (t.type === ';') {
      endValue(t.start);
      state = 'item';
    } else if (t.type === '}') {
      endValue(t.start);
      if (blocks.length > 1) blocks.pop();
      state = 'item';
    }
  }
  // A value left open runs to the end of the text, a comment after its last token included.
  if (state === 'value') endValue(text.length);
  return ranges;
}

/** Where a URL in CSS points the browser: the allow list that decides it. */
export type CssUrlDestination = 'image' | 'style' | 'font';

export interface CssUrl {
  readonly url: string;
  readonly destination: CssUrlDestination;
  /**
   * The range to neutralise: the url token, or `url(`…`)` with its string, or the string of an
   * `@import` or an `image-set()`. Replacing it with `none` leaves a declaration or rule the
   * parser drops (an `@import none;`, an `image-set(none 1x)`), or an image that loads nothing.
   */
  readonly start: number;
  readonly end: number;
  /**
   * A string in a custom property's value (`--hero: "https://…"`). `image-set(var(--hero) 1x)`
   * fetches it, and the var() may be in another rule, element or style sheet, so every such string
   * is a possible image URL; the finder judges it only when it names an http(s) URL (a string such
   * as "Note: …" parses as a URL of scheme `note:` and fetches nothing).
   */
  readonly customProperty?: true;
}

/** Functions whose string arguments are image URLs (CSS Images 4 §2.2 image-set(); Chromium's prefixed alias). */
const IMAGE_SET_FUNCTIONS = new Set(['image-set', '-webkit-image-set']);
/** Functions whose first string argument is a URL: `url("…")` (§4.3.4 returns a function token for it) and CSS Values 4 `src()`. */
const URL_FUNCTIONS = new Set(['url', 'src']);

/**
 * Every URL the browser may fetch because of this CSS: url tokens, `url("…")` and `src("…")`,
 * strings in `image-set()`, and the string of `@import "…"`. The string after `@namespace` names a
 * namespace and is never fetched, so it is left out. `@import` is a stylesheet; a URL inside an
 * `@font-face` block is a font; every other URL is an image (backgrounds, cursors, masks, list
 * markers, border images, `content`, SVG resources): CSP governs them by img-src.
 * Bad url tokens are not fetched by the browser and are not returned.
 */
export function cssUrls(text: string, tokens: readonly CssToken[] = tokenizeCss(text)): CssUrl[] {
  const urls: CssUrl[] = [];
  /** Open blocks and functions, innermost last: a function's lower-cased name, `(`, `[`, `{`, or `font-face{`. */
  const open: string[] = [];
  let fontFaceDepth = 0;
  let pendingAtRule: string | undefined;
  let importPending = false;
  let namespacePrelude = false;
  /** Nesting depth at which the custom property value being read started (undefined: not in one). */
  let customDepth: number | undefined;
  /** The last token that was not whitespace: a declaration starts after `{`, `;` or the start. */
  let previous: CssTokenType | undefined;
  const destination = (): CssUrlDestination => (importPending ? 'style' : fontFaceDepth > 0 ? 'font' : 'image');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'whitespace') {
      const declarationStart = previous === undefined || previous === '{' || previous === ';';
      previous = t.type;
      // CSS Variables 1 §2: `--name:` starts a custom property; its value runs to the `;` or `}` at its depth.
      if (customDepth === undefined && declarationStart && t.type === 'ident' && t.value.startsWith('--')) {
        const colon = firstSignificant(tokens, i + 1);
        if (colon !== undefined && tokens[colon]!.type === ':') customDepth = open.length;
      }
    }
    switch (t.type) {
      case 'at-keyword': {
        const name = asciiLower(t.value);
        pendingAtRule = name;
        importPending = name === 'import';
        namespacePrelude = name === 'namespace';
        break;
      }
      case ';':
        if (customDepth === open.length) customDepth = undefined;
        pendingAtRule = undefined;
        importPending = false;
        namespacePrelude = false;
        break;
      case '{':
        open.push(pendingAtRule === 'font-face' ? 'font-face{' : '{');
        if (pendingAtRule === 'font-face') fontFaceDepth++;
        pendingAtRule = undefined;
        importPending = false;
        namespacePrelude = false;
        break;
      case '}':
        closeTo(open, '{', () => fontFaceDepth--);
        if (customDepth !== undefined && open.length < customDepth) customDepth = undefined;
        break;
      case 'function':
        open.push(asciiLower(t.value));
        if (URL_FUNCTIONS.has(asciiLower(t.value)) && !namespacePrelude) {
          const argument = firstSignificant(tokens, i + 1);
          if (argument && tokens[argument]!.type === 'string') {
            const close = closingParen(tokens, argument + 1);
            urls.push({ url: tokens[argument]!.value, destination: destination(), start: t.start, end: close === undefined ? tokens[argument]!.end : tokens[close]!.end });
          }
        }
        break;
      case '(':
      case '[':
        open.push(t.type);
        break;
      case ')':
      case ']':
        if (open.length > 0 && open[open.length - 1] !== '{' && open[open.length - 1] !== 'font-face{') open.pop();
        break;
      case 'url':
        if (!namespacePrelude) urls.push({ url: t.value, destination: destination(), start: t.start, end: t.end });
        break;
      case 'string': {
        const inside = open[open.length - 1];
        if (namespacePrelude) break;
        if (inside !== undefined && IMAGE_SET_FUNCTIONS.has(inside)) urls.push({ url: t.value, destination: destination(), start: t.start, end: t.end });
        else if (importPending && open.length === 0) urls.push({ url: t.value, destination: 'style', start: t.start, end: t.end });
        else if (customDepth !== undefined && !(inside !== undefined && URL_FUNCTIONS.has(inside))) urls.push({ url: t.value, destination: 'image', start: t.start, end: t.end, customProperty: true });
        break;
      }
      default:
        break;
    }
  }
  return urls;
}

/** `}` closes the innermost `{` block, and any function or bracket left open inside it. */
function closeTo(open: string[], _brace: '{', leftFontFace: () => void): void {
  // Bounded by the stack's length.
  while (open.length > 0) {
    const top = open.pop()!;
    if (top === 'font-face{') leftFontFace();
    if (top === '{' || top === 'font-face{') return;
  }
}

function firstSignificant(tokens: readonly CssToken[], from: number): number | undefined {
  for (let i = from; i < tokens.length; i++) if (tokens[i]!.type !== 'whitespace') return i;
  return undefined;
}

function closingParen(tokens: readonly CssToken[], from: number): number | undefined {
  const next = firstSignificant(tokens, from);
  return next !== undefined && tokens[next]!.type === ')' ? next : undefined;
}

/**
 * A cheap test before tokenizing: a fetch in CSS needs a `(` (url, image-set, src) or an `@`
 * (`@import "…"`), and neither can be written as an escape (an escape makes an ident character);
 * a custom property holding a URL string needs `--`, or an escape that spells it.
 */
export function mayHoldCssUrl(text: string): boolean {
  return text.includes('(') || text.includes('@') || text.includes('--') || text.includes('\\');
}
