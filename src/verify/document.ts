/**
 * verifyDocument: bytes, public URL, headers and policy in; findings out. Pure.
 */
import { VerifyRefusal } from '../errors.js';
import { decodeDocument, hasInvalidBytes, type DecodedDocument } from './decode.js';
import { verifyHeaders } from './headers.js';
import { scanDocumentText } from './scan-document.js';
import type { ParserChoice, Sighting } from './scan.js';
import type { DocumentInput, Finding, VerifiedDocument } from './types.js';

/** How to verify: `parser: 'full'` forces the parse5 path (tests and the bench compare the two). */
export interface VerifyOptions {
  readonly parser?: ParserChoice;
}

export function verifyDocument(input: DocumentInput, options: VerifyOptions = {}): VerifiedDocument {
  const { decoded, sightings } = analyseDocument(input, options);
  return verified(decoded, [...sightings.map((s) => s.finding), ...verifyHeaders(input.headers, input.url, input.policy)]);
}

/** The decoded document and every sighting with its neutralising edits (the rewriter's input). */
export function analyseDocument(input: DocumentInput, options: VerifyOptions = {}): { decoded: DecodedDocument; sightings: Sighting[] } {
  const decoded = decodeDocument(input.bytes, input.headers, input.policy.defaultCharset);
  refuseInvalidBytes(input, decoded);
  const sightings = scanDocumentText(decoded.text, {
    policy: input.policy,
    mode: input.mode,
    documentUrl: input.url,
    fallbackBase: input.url,
    nesting: 0,
    ...(options.parser ? { parser: options.parser } : {}),
  });
  return { decoded, sightings };
}

/**
 * undecodable-body: on routes in block or rewrite mode, bytes that are invalid in the chosen
 * encoding are refused. The browser decodes them to U+FFFD exactly as payguard did (the encoding is
 * pinned), but a checkout page with broken bytes is either corrupted or probing the decoder
 * (docs/vectors.md E-04), and neither should be served unseen. Report mode carries on.
 */
function refuseInvalidBytes(input: DocumentInput, decoded: DecodedDocument): void {
  if (input.mode === 'report' || !decoded.text.includes('\uFFFD')) return;
  if (hasInvalidBytes(input.bytes, decoded.encoding, decoded.bomLength)) {
    throw new VerifyRefusal('undecodable-body', `bytes invalid in ${decoded.encoding}`);
  }
}

export function verified(decoded: DecodedDocument, findings: Finding[]): VerifiedDocument {
  return {
    encoding: decoded.encoding,
    encodingSource: decoded.source,
    findings,
    violations: findings.filter((f) => !f.allowed),
  };
}
