/**
 * Markup that makes no element: comments, doctypes, bogus comments (HTML §13.2.5.41-13.2.5.52), and
 * the ends of raw text, RCDATA and script data (§13.2.5.2-13.2.5.4, 13.2.5.9-13.2.5.20). Each
 * function returns the offset just past what it skipped, or bails.
 */
import { bail } from './bail.js';
import { isSpace } from './tag.js';

/** `<!`: a comment, a doctype, or a bogus comment (§13.2.5.42 markup declaration open state). */
export function skipDeclaration(text: string, lt: number): number {
  if (text.startsWith('--', lt + 2)) return skipComment(text, lt);
  if (text.startsWith('[CDATA[', lt + 2)) bail('cdata', lt);
  // A DOCTYPE (any state of it ends at the first `>`) and a bogus comment both end at the first `>`.
  return skipToGreaterThan(text, lt);
}

/** `<?` and `</` followed by a non-letter: a bogus comment up to the first `>` (§13.2.5.41). */
export function skipToGreaterThan(text: string, lt: number): number {
  const gt = text.indexOf('>', lt + 2);
  if (gt < 0) bail('eof-in-markup', lt);
  return gt + 1;
}

/**
 * `<!--`: `<!-->` and `<!--->` end at once (abrupt closing, §13.2.5.43-13.2.5.44); otherwise the
 * first `-->` or `--!>` at or after the body's start. A `<!--` inside the comment enters the
 * nested-comment states, which this scanner does not model: it bails.
 */
function skipComment(text: string, lt: number): number {
  const body = lt + 4;
  if (text.charCodeAt(body) === 0x3e) return body + 1;
  if (text.startsWith('->', body)) return body + 2;
  let dashes = text.indexOf('--', body);
  // Each pass moves `dashes` forward, so the loop ends by the end of the text.
  while (dashes >= 0) {
    const after = text.charCodeAt(dashes + 2);
    if (after === 0x3e) return endComment(text, body, dashes, dashes + 3);
    if (after === 0x21 /* ! */ && text.charCodeAt(dashes + 3) === 0x3e) return endComment(text, body, dashes, dashes + 4);
    dashes = text.indexOf('--', dashes + 1);
  }
  return bail('eof-in-markup', lt);
}

function endComment(text: string, body: number, close: number, end: number): number {
  const nested = text.indexOf('<!-', body);
  if (nested >= 0 && nested < close) bail('comment-nesting', nested);
  return end;
}

/**
 * Where raw text, RCDATA or script data ends: the first "appropriate end tag" `</name` followed by
 * whitespace, `/` or `>` (ASCII case-insensitive). Script data with `<!--` before that point enters
 * the escaped states, where `</script>` can be hidden (§13.2.5.20ff): the scanner bails.
 */
export function rawTextEnd(text: string, from: number, name: string, isScript: boolean): number {
  let at = text.indexOf('</', from);
  // Each pass moves `at` forward, so the loop ends by the end of the text.
  while (at >= 0) {
    const after = at + 2 + name.length;
    const c = text.charCodeAt(after);
    if (isSpace(c) || c === 0x2f || c === 0x3e) {
      if (sameAsciiLowercase(text, at + 2, name)) {
        if (isScript) {
          // Only this script's own text: searching to the end of the document made a page of many
          // inline scripts quadratic (test/robustness/verify-linear-work.test.ts).
          const escape = text.substring(from, at).indexOf('<!--');
          if (escape >= 0) bail('script-escape', from + escape);
        }
        return at;
      }
    }
    at = text.indexOf('</', at + 2);
  }
  return bail('eof-in-markup', from);
}

function sameAsciiLowercase(text: string, at: number, lowerName: string): boolean {
  for (let k = 0; k < lowerName.length; k++) {
    const c = text.charCodeAt(at + k);
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== lowerName.charCodeAt(k)) return false;
  }
  return true;
}
