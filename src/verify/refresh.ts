/**
 * HTML "shared declarative refresh steps" (html.spec.whatwg.org/#shared-declarative-refresh-steps), used for both `<meta http-equiv=refresh>` and the
 * `Refresh` response header (docs/vectors.md N-02, N-03). Returns the URL string the browser would
 * parse (relative to the document), or undefined when the content is invalid or names no URL
 * (a refresh of the same document, which navigates nowhere new).
 */
export interface DeclarativeRefresh {
  readonly seconds: number;
  /** The URL string before parsing, undefined when the refresh reloads the same document. */
  readonly url: string | undefined;
}

export function parseDeclarativeRefresh(input: string): DeclarativeRefresh | undefined {
  if (input === '') return undefined;
  let position = skipWhitespace(input, 0);
  const digitsStart = position;
  while (position < input.length && isDigit(input.charCodeAt(position))) position++;
  const timeString = input.slice(digitsStart, position);
  // Step 5: no digits is only valid when a '.' follows ("0.5" and ".5" are valid times).
  if (timeString === '' && input[position] !== '.') return undefined;
  const seconds = timeString === '' ? 0 : Number(timeString);
  while (position < input.length && (isDigit(input.charCodeAt(position)) || input[position] === '.')) position++;
  if (position < input.length) {
    const c = input[position]!;
    if (c !== ';' && c !== ',' && !isWhitespace(input.charCodeAt(position))) return undefined;
    position = skipWhitespace(input, position);
    if (input[position] === ';' || input[position] === ',') position++;
    position = skipWhitespace(input, position);
  }
  if (position >= input.length) return { seconds, url: undefined };
  return { seconds, url: refreshUrlString(input, position) };
}

/** Step 11 of the shared declarative refresh steps: the optional `url =` prefix and quotes. */
function refreshUrlString(input: string, start: number): string {
  let position = start;
  // urlString is the remainder; the "url" prefix is consumed only when it is complete ("url" then "=").
  const remainder = input.slice(start);
  let skipQuotes = false;
  if (input[position] === 'U' || input[position] === 'u') {
    position++;
    if ((input[position] === 'R' || input[position] === 'r') && (input[position + 1] === 'L' || input[position + 1] === 'l')) {
      position = skipWhitespace(input, position + 2);
      if (input[position] === '=') {
        position = skipWhitespace(input, position + 1);
        skipQuotes = true;
      }
    }
  } else {
    skipQuotes = true;
  }
  if (!skipQuotes) return remainder;
  let quote = '';
  if (input[position] === '"' || input[position] === "'") {
    quote = input[position]!;
    position++;
  }
  let urlString = input.slice(position);
  if (quote !== '') {
    const close = urlString.indexOf(quote);
    if (close >= 0) urlString = urlString.slice(0, close);
  }
  return urlString;
}

function skipWhitespace(s: string, from: number): number {
  let i = from;
  while (i < s.length && isWhitespace(s.charCodeAt(i))) i++;
  return i;
}

function isWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
