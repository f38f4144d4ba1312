/**
 * Third-party script pinning with SRI (docs/vectors.md S-19; Ticketmaster 2018, a compromised
 * third-party widget): for every `<script src>` the policy allows through an entry with
 * `integrity`, payguard writes `integrity="…" crossorigin="anonymous"` into the start tag, so the
 * browser refuses a modified file (W3C SRI §3.3). Pure, runs in the verifier worker beside
 * verifyDocument. The original bytes are spliced as the rewriter splices them (byte-offsets.ts):
 * nothing else of the page changes, and the charset is kept.
 *
 * The attributes go right after the tag name, before any attribute the page wrote: the HTML
 * tokenizer keeps the first of duplicate attributes (HTML §13.2.5.33 "attribute name state"), so a
 * page's own `integrity` or `crossorigin` cannot override the policy's.
 */
import { entryIntegrity } from '../policy/model.js';
import { emissionBytes } from './byte-offsets.js';
import { decodeDocument } from './decode.js';
import { scanStartTag } from './source.js';
import type { DocumentInput, Finding, VerifiedDocument } from './types.js';
import { concatBytes, encodeAscii } from './ascii-bytes.js';

interface Insertion {
  /** Text index of the character right after the tag name (ASCII: space, `/` or `>`). */
  readonly at: number;
  readonly text: string;
}

/** The page with SRI attributes on its pinned third-party scripts, or undefined when none needs them. */
export function addScriptIntegrity(input: DocumentInput, verified: VerifiedDocument): Uint8Array | undefined {
  const pinned = verified.findings.filter(needsIntegrity);
  if (pinned.length === 0) return undefined;
  const decoded = decodeDocument(input.bytes, input.headers, input.policy.defaultCharset);
  const insertions: Insertion[] = [];
  for (const finding of pinned) {
    const at = afterScriptTagName(decoded.text, finding.offset!);
    const integrity = (finding.entry as { integrity?: readonly string[] }).integrity!.join(' ');
    if (at !== undefined) insertions.push({ at, text: ` integrity="${integrity}" crossorigin="anonymous"` });
  }
  if (insertions.length === 0) return undefined;
  return splice(input.bytes, decoded.text, decoded.encoding, decoded.bomLength, dedupe(insertions));
}

/**
 * An allowed external HTML script whose entry pins integrity. First-party entries resolve to the
 * site ("self") and are pinned by the proxy itself (script-pinning.ts); srcdoc documents have
 * offsets in their attribute's text, not in the page, and are left alone.
 */
function needsIntegrity(f: Finding): boolean {
  const integrity = f.entry ? entryIntegrity(f.entry) : undefined;
  return f.kind === 'script' && f.allowed && f.element === 'script' && f.attribute === 'src' && f.offset !== undefined && f.context !== 'srcdoc' && integrity !== undefined && integrity.length > 0;
}

/**
 * The finding's offset is where its `src` attribute starts. The start tag is the nearest `<script`
 * before it whose re-tokenised `src` begins exactly there (an earlier attribute value may itself
 * contain `<`, so the first `<` found is not necessarily the tag's).
 */
function afterScriptTagName(text: string, srcOffset: number): number | undefined {
  // Each step moves `lt` strictly backwards, so the loop ends at the start of the text.
  for (let lt = text.lastIndexOf('<', srcOffset); lt >= 0; lt = lt === 0 ? -1 : text.lastIndexOf('<', lt - 1)) {
    if (text.slice(lt + 1, lt + 7).toLowerCase() !== 'script') continue;
    const next = text[lt + 7];
    if (next === undefined || !/[\t\n\f\r />]/.test(next)) continue;
    if (scanStartTag(text, lt).attributes.get('src')?.start === srcOffset) return lt + 7;
  }
  return undefined;
}

function dedupe(insertions: readonly Insertion[]): Insertion[] {
  const byPlace = new Map<number, Insertion>();
  for (const insertion of insertions) if (!byPlace.has(insertion.at)) byPlace.set(insertion.at, insertion);
  return [...byPlace.values()].sort((a, b) => a.at - b.at);
}

function splice(bytes: Uint8Array, text: string, encoding: string, bomLength: number, insertions: readonly Insertion[]): Uint8Array {
  const emitted = emissionBytes(bytes, text, encoding, bomLength, insertions.map((i) => i.at));
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const insertion of insertions) {
    // The character at `at` is ASCII, emitted at its own byte (its second byte in UTF-16).
    const byte = emitted.get(insertion.at)!;
    const at = encoding.startsWith('UTF-16') ? byte - 1 : byte;
    parts.push(bytes.subarray(last, at), encodeAscii(insertion.text, encoding));
    last = at;
  }
  parts.push(bytes.subarray(last));
  return concatBytes(parts);
}

