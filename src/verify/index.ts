/**
 * The verifier's public surface (pure functions; see types.ts for the contract).
 */
export type { DocumentInput, Finding, FindingKind, HeaderList, VerifiedDocument } from './types.js';
