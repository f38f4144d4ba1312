/** A policy that verified, with what identifies it for metrics and evidence. */
import type { CompiledPolicy } from './compiled.js';
import type { Policy } from './model.js';

export interface PolicyInForce {
  readonly policy: Policy;
  /** The same policy compiled for the proxy's stages (compiled.ts), built once at load. */
  readonly compiled: CompiledPolicy;
  /** The file it was loaded from. */
  readonly file: string;
  /** minisign key id of the key that signed it, 16 upper-case hex digits. */
  readonly keyId: string;
  /** sha256 of the policy file's bytes, hex. */
  readonly sha256: string;
  /** The signature's trusted comment. */
  readonly trustedComment: string;
  readonly acceptedAt: Date;
}
