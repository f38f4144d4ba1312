/**
 * The verifier's public surface (pure functions; see types.ts for the contract).
 */
export type { DocumentInput, Finding, FindingKind, HeaderList, VerifiedDocument } from './types.js';
export { verifyDocument, type VerifyOptions } from './document.js';
export { fastParse, type BailReason, type FastParse } from './fast/index.js';
export { headerRefresh, verifyHeaders } from './headers.js';
export { rewriteDocument } from './rewrite.js';
export { extractMimeType, sniffHtml, type MimeType } from './mime.js';
export { cspHashes } from './hash.js';
export { decodeDocument } from './decode.js';
export { parseDeclarativeRefresh, type DeclarativeRefresh, type RefreshSource } from './refresh.js';
