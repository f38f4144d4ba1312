/**
 * Per-response nonces for the inline scripts a template accepted (issue 18 item 3), for a page
 * with more of them than the CSP should name by hash (LIMITS.maxTemplateHashesInCsp). The nonce
 * attribute goes right after `<script`, before any attribute the page has: the tokenizer keeps
 * the first of two same-named attributes (HTML §13.2.5.33), so a `nonce` the storefront wrote
 * cannot take its place. The result is verified again as it is served, like a rewrite: the
 * browser gets exactly bytes payguard verified. Pure: the nonce is the caller's.
 */
import { VerifyRefusal } from '../errors.js';
import { decodeDocument } from './decode.js';
import { verifyDocument } from './document.js';
import { headersAsServed, spliceEdits } from './rewrite.js';
import type { DocumentInput, Finding, VerifiedDocument } from './types.js';

/** CSP3 §2.3.1 nonce-source: base64 or base64url characters. */
const NONCE = /^[A-Za-z0-9+/_-]+={0,2}$/;

const SCRIPT_OPEN = /^<script[\t\n\f\r />]/i;

function acceptedScripts(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.kind === 'inline-script' && f.allowed && f.entry?.type === 'template' && f.offset !== undefined);
}

export function nonceTemplatedScripts(input: DocumentInput, verified: VerifiedDocument, nonce: string): { bytes: Uint8Array; verified: VerifiedDocument } {
  if (!NONCE.test(nonce)) throw new RangeError('a CSP nonce is base64 characters');
  const decoded = decodeDocument(input.bytes, input.headers, input.policy.defaultCharset);
  const scripts = acceptedScripts(verified.findings);
  const edits = scripts.map((finding) => {
    const at = finding.offset!;
    if (!SCRIPT_OPEN.test(decoded.text.slice(at, at + 8))) {
      throw new VerifyRefusal('rewrite-unverifiable', `no <script start tag at ${finding.line}:${finding.col} to carry a nonce`);
    }
    return { start: at + '<script'.length, end: at + '<script'.length, text: ` nonce="${nonce}"` };
  });
  const sorted = [...new Map(edits.map((e) => [e.start, e])).values()].sort((a, b) => a.start - b.start);
  const bytes = spliceEdits(input.bytes, decoded.text, decoded.encoding, decoded.bomLength, sorted);
  const again = verifyDocument({ ...input, bytes, headers: headersAsServed(input.headers, decoded.encoding) });
  const bodyViolations = again.violations.filter((f) => !f.element.startsWith('header:'));
  if (bodyViolations.length > 0 || again.encoding !== decoded.encoding || acceptedScripts(again.findings).length !== scripts.length) {
    throw new VerifyRefusal('rewrite-unverifiable', 'the page with nonces does not verify as the page without them did');
  }
  return { bytes, verified: again };
}
