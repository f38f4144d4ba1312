/**
 * The URLs of a `srcset` or `imagesrcset` attribute, as HTML §4.8.4.3.10 "parse a srcset
 * attribute" splits it: odd commas (`,,,,https://evil 1x`), a URL that ends in commas, a comma
 * inside a URL (`data:image/png;base64,…`), descriptors with parentheses that swallow commas.
 *
 * The descriptor parser's validity check (steps 13-14: a candidate with two `x` descriptors, or a
 * `w` and an `x`, is dropped) is left out on purpose: the browser picks among the candidates it
 * keeps, and judging every candidate the splitter produces is a superset of what it can fetch.
 */

function isAsciiWhitespace(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

/** The candidate URLs, in order. Bounded: every step of the outer loop consumes at least one code unit. */
export function srcsetUrls(input: string): string[] {
  const urls: string[] = [];
  let position = 0;
  const length = input.length;
  for (;;) {
    // Step 4 (splitting loop): skip ASCII whitespace and commas.
    while (position < length && (isAsciiWhitespace(input.charCodeAt(position)) || input.charCodeAt(position) === 0x2c)) position++;
    // Step 5.
    if (position >= length) return urls;
    // Step 6: the URL is the run of non-whitespace code points.
    const start = position;
    while (position < length && !isAsciiWhitespace(input.charCodeAt(position))) position++;
    let url = input.slice(start, position);
    // Step 8: a URL ending in commas ends the candidate there (no descriptors).
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
      urls.push(url);
      continue;
    }
    urls.push(url);
    position = skipDescriptors(input, position);
  }
}

/**
 * Step 8's descriptor tokenizer, only for where it ends: at a comma outside parentheses (consumed)
 * or at the end. Returns the position after the candidate.
 */
function skipDescriptors(input: string, from: number): number {
  let position = from;
  // "Collect a sequence of code points that are ASCII whitespace" (step 8.1).
  while (position < input.length && isAsciiWhitespace(input.charCodeAt(position))) position++;
  let inParens = false;
  for (; position < input.length; position++) {
    const c = input.charCodeAt(position);
    if (inParens) {
      if (c === 0x29) inParens = false;
      continue;
    }
    if (c === 0x2c) return position + 1;
    if (c === 0x28) inParens = true;
  }
  return position;
}
