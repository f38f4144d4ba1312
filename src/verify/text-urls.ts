/**
 * Element text that is a URL (issue 17, class 4; docs/vectors.md N-06): `<span id=pay-url>https://…</span>`,
 * a `<textarea>`'s default value, an `<option>` without a value attribute (its text is its value),
 * read by the shop's own code with `textContent`, `value` or `innerText` and navigated to.
 *
 * Prose is out of scope: a URL in the middle of a sentence is not what `location = el.textContent`
 * navigates to (the whole text is, and a sentence resolves as a relative path). What is judged is
 * a run of text, between two pieces of markup, whose text starts with an http(s) URL or two
 * slashes/backslashes, with the runs that follow it directly (no whitespace between) joined on, as
 * `textContent` joins a parent's text across its children and comments:
 * `https://shop.example<!---->.evil.example/` is one host.
 *
 * This works on the source text, not the tree: the fast path builds no text nodes and the full
 * path gives them no positions, and one pass over the source gives both paths the same findings.
 * It over-approximates (a `>` inside an attribute value or script starts a "run" too), which can
 * only add findings. Character references are decoded as the tokenizer decodes them in text.
 */
import { decodeHTML } from 'entities/decode';
import { makeFinding } from './judge.js';
import type { Edit, Scan } from './scan.js';
import { reportReading } from './finders/carried-urls.js';
import { percentDecoded, stripForUrlParser } from './url-readings.js';

/** Runs joined at most, and the length of a joined reading: the host is in the first few characters. */
const MAX_JOINED_RUNS = 8;
const MAX_READING = 2048;

export function findTextUrls(scan: Scan): void {
  const text = scan.text;
  let runStart = 0;
  // Each pass moves runStart past a `>`, so the loop ends by the end of the text.
  for (;;) {
    const lt = text.indexOf('<', runStart);
    const runEnd = lt < 0 ? text.length : lt;
    if (runEnd > runStart) checkRun(scan, runStart, runEnd);
    if (lt < 0) return;
    const gt = text.indexOf('>', lt + 1);
    if (gt < 0) return;
    runStart = gt + 1;
  }
}

function checkRun(scan: Scan, runStart: number, runEnd: number): void {
  const text = scan.text;
  let i = runStart;
  // What the URL parser (and a script's trim()) drops in front: C0 controls, spaces, no-break spaces.
  while (i < runEnd && (text.charCodeAt(i) <= 0x20 || text.charCodeAt(i) === 0xa0)) i++;
  if (i >= runEnd) return;
  const c = text.charCodeAt(i);
  const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  if (!(letter || c === 0x2f || c === 0x5c || c === 0x26 /* & */ || c === 0x25 /* % */)) return;
  const head = percentDecodedUrl(decoded(text.slice(i, Math.min(runEnd, i + 64))));
  // A run that is only the start of one (`ht&#9;tps`, `https:/`, `/`) may become a URL once the
  // runs after it are joined on (`ht<!---->tps://evil`): textContent joins them.
  if (!startsLikeUrl(head) && !(runEnd - i < 16 && mayStartUrl(head))) return;
  // Clean code may decodeURIComponent() what it reads: `https%3A%2F%2Fevil` is a URL then.
  const parts: [number, number][] = [];
  const reading = percentDecodedUrl(joinedReading(text, i, runEnd, parts));
  if (!startsLikeUrl(reading)) return;
  const offset = i;
  const tokenEnd = firstSpaceOrEnd(text, i, runEnd);
  // The rewrite removes the URL from every run it was joined from, each up to its first space.
  const edits: Edit[] = [{ start: i, end: tokenEnd, text: '' }, ...parts.map(([from, to]): Edit => ({ start: from, end: firstSpaceOrEnd(text, from, to), text: '' }))];
  const { line, col } = scan.position(offset);
  reportReading(scan, reading, 'text', (place, judge) =>
    scan.defer((base) => [{ finding: makeFinding({ ...place, element: '#text', line, col, offset }, judge(base)), edits }]));
}

/** `http:` or `https:` (tabs and newlines ignored, any case), or two slashes or backslashes. */
function startsLikeUrl(s: string): boolean {
  const t = stripForUrlParser(s).toLowerCase();
  return /^(?:https?:|[/\\][/\\])/.test(t);
}

/** One round of percent-decoding for a value that spells `:`, `/` or `\` encoded (url-readings.ts does the same for attributes). */
function percentDecodedUrl(s: string): string {
  return /%(?:2f|5c|3a)/i.test(s) ? percentDecoded(s) : s;
}

/** Whether `s` (tabs and newlines ignored) is a beginning of `https:`, `http:`, or one `/` or `\`. */
function mayStartUrl(s: string): boolean {
  const t = stripForUrlParser(s).toLowerCase();
  if (t.length === 0) return false;
  if (/^https?:[/\\]?$/.test(t) || /^[/\\]$/.test(t)) return true;
  // Spelled plainly or percent-encoded (read back through decodeURIComponent): `https%3A<!---->%2F%2F…`.
  return URL_STARTS.some((start) => start.startsWith(t));
}

const URL_STARTS = ['https://', 'http://', 'https%3a%2f%2f', 'http%3a%2f%2f', '%2f%2f', '%5c%5c'];

/** The run's text from `from`, with the runs that follow without whitespace joined on; references decoded. */
function joinedReading(text: string, from: number, runEnd: number, parts?: [number, number][]): string {
  let raw = text.slice(from, runEnd);
  let end = runEnd;
  for (let joined = 0; joined < MAX_JOINED_RUNS && raw.length < MAX_READING && end < text.length; joined++) {
    if (/\s$/.test(raw)) break;
    // Skip the markup at `end` (a tag or a comment), and any markup right after it.
    const gt = text.indexOf('>', end + 1);
    if (gt < 0) break;
    const next = text.indexOf('<', gt + 1);
    const nextEnd = next < 0 ? text.length : next;
    const part = text.slice(gt + 1, nextEnd);
    if (/^\s/.test(part)) break;
    parts?.push([gt + 1, nextEnd]);
    raw += part;
    end = nextEnd;
  }
  return stripForUrlParser(decoded(raw.slice(0, MAX_READING)));
}

function firstSpaceOrEnd(text: string, from: number, runEnd: number): number {
  let i = from;
  while (i < runEnd && text.charCodeAt(i) !== 0x20 && text.charCodeAt(i) !== 0x0c) i++;
  return i;
}

function decoded(s: string): string {
  return s.includes('&') ? decodeHTML(s) : s;
}
