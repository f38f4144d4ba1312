/**
 * One corpus case through verifyDocument, as the proxy would call it: the public URL is the
 * policy's site plus the case's path, the headers are the case's, the mode is its route's.
 */
import { VerifyRefusal } from '../../src/errors.js';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/policy/model.js';
import { verifyDocument } from '../../src/verify/index.js';
import type { VerifiedDocument } from '../../src/verify/types.js';
import type { CorpusCase } from './cases.js';

export type Outcome = { readonly verified: VerifiedDocument } | { readonly refused: VerifyRefusal };

export function verifyCase(c: CorpusCase, policy: Policy): Outcome {
  try {
    return {
      verified: verifyDocument({
        bytes: c.bytes,
        url: policy.site + c.path,
        headers: c.headers,
        policy,
        mode: compilePolicy(policy).route(c.path).mode,
      }),
    };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { refused: err };
    throw err;
  }
}
