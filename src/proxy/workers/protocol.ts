/**
 * The messages between the proxy and its verifier workers. Everything here is plain data: it crosses
 * the thread boundary by structured clone (the Policy is deep-frozen plain data, so it clones).
 */
import type { Policy, RouteMode } from '../../policy/model.js';
import type { RefusalReason } from '../../reasons.js';
import type { HeaderList, VerifiedDocument } from '../../verify/types.js';

export interface InspectRequest {
  readonly id: number;
  /** Identifies the policy; the policy itself is sent only when the worker has not seen this id. */
  readonly policyId: number;
  readonly policy?: Policy;
  readonly bytes: Uint8Array;
  readonly url: string;
  readonly headers: HeaderList;
  readonly mode: RouteMode;
  /** Rewrite the document when it has violations (rewrite-mode routes with no header violation). */
  readonly rewrite: boolean;
  readonly sinkPath: string;
}

export type InspectReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly verified: VerifiedDocument;
      readonly rewritten?: { readonly bytes: Uint8Array; readonly verified: VerifiedDocument };
      /** The page with SRI attributes on its pinned third-party scripts (sri-attributes.ts), sent instead of the original. */
      readonly sri?: Uint8Array;
    }
  | {
      readonly id: number;
      readonly ok: false;
      /** Set when the verifier refused (VerifyRefusal); absent for a bug (internal-error). */
      readonly refusal?: RefusalReason;
      readonly message: string;
    };

/** Sent once by a worker when the verifier has loaded: only then does a task's time limit start. */
export interface WorkerReady {
  readonly ready: true;
}
