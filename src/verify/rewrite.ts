/**
 * rewriteDocument: neutralise every violation by splicing the ORIGINAL bytes (never by serialising
 * the parse5 tree, which is the mXSS setting, P-09), then verify the output again. Untouched bytes
 * stay byte-identical and the charset is kept (a Shift_JIS page stays Shift_JIS).
 */
import { VerifyRefusal } from '../errors.js';
import { emissionBytes } from './byte-offsets.js';
import { analyseDocument, verifyDocument } from './document.js';
import { SINK_PLACEHOLDER, type Edit } from './scan.js';
import { extractMimeType } from './mime.js';
import type { DocumentInput, Finding, HeaderList, VerifiedDocument } from './types.js';
import { concatBytes, encodeAscii } from './ascii-bytes.js';

export interface RewriteOptions {
  /** A payguard path that discards whatever is posted to it; disallowed form targets point here. */
  readonly sinkPath: string;
}

export function rewriteDocument(
  input: DocumentInput,
  _verified: VerifiedDocument,
  options: RewriteOptions,
): { bytes: Uint8Array; verified: VerifiedDocument } {
  // The sightings (with their edits) are recomputed rather than trusted from the caller: the
  // verifier keeps no state between calls, and this runs only for pages that need rewriting.
  const { decoded, sightings } = analyseDocument(input);
  const sink = attributeSafe(options.sinkPath);
  const edits = planEdits(sightings.filter((s) => !s.finding.allowed).flatMap((s) => s.edits), sink);
  const bytes = edits.length === 0 ? input.bytes : spliceEdits(input.bytes, decoded.text, decoded.encoding, decoded.bomLength, edits);
  const result = verifyDocument({ ...input, bytes, headers: headersAsServed(input.headers, decoded.encoding) });
  const remaining = result.violations.filter(isBodyFinding);
  if (remaining.length > 0 || result.encoding !== decoded.encoding) {
    const first = remaining[0];
    throw new VerifyRefusal(
      'rewrite-unverifiable',
      first ? `${remaining.length} violation(s) remain after rewriting, first ${first.reason} at ${first.line}:${first.col}` : `the rewritten page decodes as ${result.encoding}`,
    );
  }
  // Header violations (Location, Refresh, Link) cannot be rewritten in the body; they stay in the
  // result so the proxy blocks.
  return { bytes, verified: result };
}

/**
 * The headers a rewritten page goes out with: its charset pinned to the encoding it was verified
 * in (src/proxy/document/path.ts), so that the browser reads the rewritten bytes as payguard did.
 * The rewritten bytes are verified under these, not the storefront's: a rewrite that shortens the
 * page can bring a `<meta charset>` into the 1,024-byte prescan window, and under the storefront's
 * headers the same bytes would then decode otherwise (found by test/robustness/verify-rewrite.test.ts,
 * seed 1701749874: a Shift_JIS page with a bogus charset, read in the policy's default encoding).
 */
export function headersAsServed(headers: HeaderList, encoding: string): HeaderList {
  const essence = extractMimeType(headers)?.essence ?? 'text/html';
  return [...headers.filter(([name]) => name !== 'content-type'), ['content-type', `${essence}; charset=${encoding}`]];
}

function isBodyFinding(finding: Finding): boolean {
  return !finding.element.startsWith('header:');
}

/** Sorted, de-duplicated edits; an edit overlapping an earlier one is dropped (re-verification decides). */
function planEdits(edits: readonly Edit[], sink: string): Edit[] {
  const unique = new Map<string, Edit>();
  for (const edit of edits) {
    const text = edit.text.split(SINK_PLACEHOLDER).join(sink);
    unique.set(`${edit.start}|${edit.end}|${text}`, { ...edit, text });
  }
  const sorted = [...unique.values()].sort((a, b) => a.start - b.start || a.end - b.end);
  const planned: Edit[] = [];
  for (const edit of sorted) {
    const previous = planned[planned.length - 1];
    if (previous && edit.start < previous.end) continue;
    if (previous && edit.start === previous.start && edit.end === previous.end && edit.start === edit.end) {
      planned[planned.length - 1] = { ...previous, text: previous.text + edit.text };
      continue;
    }
    planned.push(edit);
  }
  return planned;
}

/** The original bytes with each edit (sorted, not overlapping; decoded-text offsets) spliced in, in the page's own encoding. */
export function spliceEdits(bytes: Uint8Array, text: string, encoding: string, bomLength: number, edits: readonly Edit[]): Uint8Array {
  const indices: number[] = [];
  for (const edit of edits) {
    indices.push(edit.start);
    if (edit.end > edit.start) indices.push(edit.end - 1);
  }
  const emitted = emissionBytes(bytes, text, encoding, bomLength, indices);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const edit of edits) {
    // The start character is ASCII: its byte is where it was emitted. The end is one past the byte
    // that completed the last character of the range.
    const start = emitted.get(edit.start)!;
    const startByte = encoding.startsWith('UTF-16') ? start - 1 : start;
    // An insertion (empty range) resumes at its own first byte: in UTF-16 that is the code unit's
    // first byte, not the byte it was emitted at (found by test/robustness/verify-rewrite.test.ts).
    const end = edit.end > edit.start ? emitted.get(edit.end - 1)! + 1 : startByte;
    parts.push(bytes.subarray(last, startByte), encodeAscii(edit.text, encoding));
    last = end;
  }
  parts.push(bytes.subarray(last));
  return concatBytes(parts);
}

/** The sink path inside a double-quoted attribute, ASCII only (it is spliced into any encoding). */
function attributeSafe(path: string): string {
  return encodeURI(path).replace(/"/g, '%22').replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E');
}
