/**
 * `<meta http-equiv=refresh>` and the `Refresh` response header (docs/vectors.md N-02, N-03), read
 * as Chromium reads them. The HTML Standard's "shared declarative refresh steps"
 * (html.spec.whatwg.org/#shared-declarative-refresh-steps) are the reference, but Chromium parses
 * with its own ParseHTTPRefresh (blink/renderer/platform/network/http_parsers.cc) and schedules with
 * HttpRefreshScheduler, and where the two differ payguard follows Chromium: the URL it judges is the
 * one the browser navigates to. Each departure below is shown by the Chromium oracle,
 * test/verify/oracle-refresh.test.ts (named cases under "departures from the spec", and generated
 * spellings under "generated spellings").
 */
export interface DeclarativeRefresh {
  /** The delay Chromium schedules, in whole seconds (it accepts "0.5" and ".5" as times). */
  readonly seconds: number;
  /** The URL string before parsing, undefined when the refresh reloads the same document. */
  readonly url: string | undefined;
}

/** Where the content came from: the separators differ (HTML whitespace in a meta, space and tab in a header). */
export type RefreshSource = 'meta' | 'header';

/**
 * Chromium's HttpRefreshScheduler drops a delay above INT32_MAX / 1000 seconds
 * (kMaxScheduledDelay): such a refresh never navigates (oracle: "a delay above 2147483 s is never scheduled").
 */
export const MAX_REFRESH_SECONDS = 2147483;

/**
 * The refresh Chromium schedules for this content, or undefined when it schedules none. For the
 * header, pass the value of every `Refresh` line joined with ", " (refreshHeaderValue): Chromium
 * reads the combination (docs/headers.md).
 */
export function parseDeclarativeRefresh(input: string, source: RefreshSource = 'meta'): DeclarativeRefresh | undefined {
  const separator = source === 'meta' ? isHtmlSpace : isHeaderSpace;
  const length = input.length;
  // Spec steps 2-3 (skip whitespace); Chromium also stops here on an all-whitespace value.
  let position = skip(input, 0, separator);
  if (position >= length) return undefined;
  // The time is everything up to ',', ';' or a separator, not the spec's digits-then-[0-9.]
  // (spec steps 5-8): Chromium strips Unicode whitespace around it first, so "\v0" and "\u20000"
  // are valid times (oracle: "the time is stripped of Unicode whitespace").
  while (position < length && input[position] !== ',' && input[position] !== ';' && !separator(input.charCodeAt(position))) position++;
  const seconds = refreshTime(stripWhiteSpace(input.slice(0, position)));
  if (seconds === undefined || seconds > MAX_REFRESH_SECONDS) return undefined;
  if (position >= length) return { seconds, url: undefined };
  // Spec step 10: whitespace, one ';' or ',', whitespace.
  position = skip(input, position, separator);
  if (input[position] === ',' || input[position] === ';') position++;
  position = skip(input, position, separator);
  // Spec step 11: an optional "url", whitespace, "=", whitespace; without the "=" the URL starts at "url".
  let urlStart = position;
  if (input.slice(position, position + 3).toLowerCase() === 'url') {
    urlStart = skip(input, position + 3, separator);
    if (input[urlStart] === '=') urlStart = skip(input, urlStart + 1, separator);
    else urlStart = position;
  }
  let urlEnd = length;
  const quote = input[urlStart];
  if (quote === '"' || quote === "'") {
    // Departure (spec step 11.10 ends the URL at the FIRST matching quote): Chromium ends it at the
    // LAST one, and takes everything after the opening quote when there is no other
    // (oracle: "a quoted URL ends at the last matching quote").
    urlStart++;
    while (urlEnd > urlStart) {
      urlEnd--;
      if (input[urlEnd] === quote) break;
    }
    if (urlEnd === urlStart) urlEnd = length;
  }
  // Chromium strips Unicode whitespace from the URL before parsing it; the URL parser strips only
  // C0 controls and space (oracle: "the URL is stripped of Unicode whitespace").
  const url = stripWhiteSpace(input.slice(urlStart, urlEnd));
  return { seconds, url: url === '' ? undefined : url };
}

/** The `Refresh` header as Chromium reads it: every line, in order, joined with ", " (docs/headers.md). */
export function refreshHeaderValue(lines: readonly string[]): string | undefined {
  return lines.length === 0 ? undefined : lines.join(', ');
}

/**
 * Chromium's ParseRefreshTime: only digits and '.', the number ending at a second '.' ("1." and
 * ".5" are times, "." and "" are not; no sign, no exponent: oracle "time spellings"). The delay it
 * schedules is whole seconds: "2147483.5" is still scheduled (oracle "a delay above 2147483 s is
 * never scheduled").
 */
function refreshTime(token: string): number | undefined {
  let end = token.length;
  let stops = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x2e) {
      if (++stops === 2) end = Math.min(end, i);
    } else if (c < 0x30 || c > 0x39) {
      return undefined;
    }
  }
  const number = token.slice(0, end);
  if (!/\d/.test(number)) return undefined;
  return Math.trunc(Number(number.endsWith('.') ? number.slice(0, -1) : number));
}

function skip(s: string, from: number, separator: (c: number) => boolean): number {
  let i = from;
  while (i < s.length && separator(s.charCodeAt(i))) i++;
  return i;
}

/** HTML's ASCII whitespace (Chromium's IsHTMLSpace), the meta's separators. */
function isHtmlSpace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

/** The header's separators: space and tab only (http_parsers.cc IsWhitespace). */
function isHeaderSpace(c: number): boolean {
  return c === 0x09 || c === 0x20;
}

/**
 * WTF::String::StripWhiteSpace: ASCII whitespace (tab, LF, VT, FF, CR, space) and every code point
 * whose bidirectional class is WS (U+1680, U+2000..U+200A, U+2028, U+205F, U+3000). Not U+00A0 or
 * U+0085 (their classes are CS and B).
 */
function stripWhiteSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isSpaceOrNewline(s.charCodeAt(start))) start++;
  while (end > start && isSpaceOrNewline(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

function isSpaceOrNewline(c: number): boolean {
  if (c <= 0x7f) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x205f || c === 0x3000;
}
