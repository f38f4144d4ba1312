/**
 * The one place where what payguard learned about a response becomes what the client gets.
 * Verdicts (findings) and failures (refusals) arrive separately, as Coraza keeps an Interruption
 * apart from an error; the fail-closed rule that turns a failure into a block lives here and only here.
 */
import type { VerifyRefusal } from '../errors.js';
import type { AllowKind, RouteMode } from '../policy/model.js';
import type { ReasonCode, RefusalReason, ViolationReason } from '../reasons.js';
import type { Finding, VerifiedDocument } from '../verify/types.js';
import type { ResponseVerdict } from './ports.js';

/** What payguard found out about one upstream response. */
export type Inspection =
  /** A document was verified (and, on rewrite routes with violations, rewritten). */
  | {
      readonly kind: 'document';
      readonly verified: VerifiedDocument;
      readonly rewritten: { readonly bytes: Uint8Array; readonly verified: VerifiedDocument } | undefined;
      readonly headerViolations: readonly Finding[];
    }
  /** Not a document (or no body: 304, 204, HEAD): only its headers could do harm. */
  | { readonly kind: 'headers-only'; readonly headerViolations: readonly Finding[] }
  /** Could not be verified. */
  | { readonly kind: 'refused'; readonly refusal: VerifyRefusal; readonly headerViolations: readonly Finding[] };

export type Decision =
  | {
      readonly action: 'send-original';
      readonly verdict: Extract<ResponseVerdict, 'clean' | 'reported' | 'passed'>;
      readonly violations: readonly Finding[];
      /** On report routes: why it could not be verified (logged, not enforced). */
      readonly refusal: RefusalReason | undefined;
    }
  | { readonly action: 'send-rewritten'; readonly verdict: 'rewritten'; readonly bytes: Uint8Array; readonly encoding: string; readonly violations: readonly Finding[] }
  | { readonly action: 'block'; readonly verdict: 'blocked'; readonly status: 502 | 504; readonly reason: ReasonCode; readonly violations: readonly Finding[] };

/** Failures after which there is nothing to send, whatever the route's mode. */
const NOTHING_TO_SEND = new Set<RefusalReason>(['upstream-unavailable', 'upstream-timeout', 'upstream-error']);

export function decide(mode: RouteMode, inspection: Inspection): Decision {
  const enforce = mode !== 'report';
  if (inspection.kind === 'refused') {
    const reason = inspection.refusal.reason;
    const violations = inspection.headerViolations;
    // Fail closed: on a protected route a response payguard could not verify is never served.
    if (enforce || NOTHING_TO_SEND.has(reason)) {
      return { action: 'block', verdict: 'blocked', status: reason === 'upstream-timeout' ? 504 : 502, reason, violations };
    }
    return { action: 'send-original', verdict: 'reported', violations, refusal: reason };
  }

  const bodyViolations = inspection.kind === 'document' ? inspection.verified.violations : [];
  const violations = [...bodyViolations, ...inspection.headerViolations];
  if (violations.length === 0) {
    return { action: 'send-original', verdict: inspection.kind === 'document' ? 'clean' : 'passed', violations, refusal: undefined };
  }
  if (!enforce) return { action: 'send-original', verdict: 'reported', violations, refusal: undefined };

  // A header (Location, Refresh, Link) cannot be neutralised inside the body: rewrite routes block it too.
  if (mode === 'rewrite' && inspection.kind === 'document' && inspection.headerViolations.length === 0) {
    if (inspection.rewritten && inspection.rewritten.verified.violations.length === 0) {
      return { action: 'send-rewritten', verdict: 'rewritten', bytes: inspection.rewritten.bytes, encoding: inspection.rewritten.verified.encoding, violations };
    }
    return { action: 'block', verdict: 'blocked', status: 502, reason: 'rewrite-unverifiable', violations };
  }
  return { action: 'block', verdict: 'blocked', status: 502, reason: violationReason(violations[0]!), violations };
}

const REASON_BY_LIST: Record<AllowKind, ViolationReason> = {
  form: 'foreign-form-action',
  script: 'foreign-script',
  frame: 'foreign-frame',
  navigate: 'foreign-navigation',
  connect: 'foreign-connect',
  inline: 'inline-code',
};

export function violationReason(finding: Finding): ViolationReason {
  return finding.reason ?? REASON_BY_LIST[finding.list];
}
