/**
 * The one place where what payguard learned about a response becomes what the client gets.
 * Verdicts (findings) and failures (refusals) arrive separately, as Coraza keeps an Interruption
 * apart from an error; the fail-closed rule that turns a failure into a block lives here and only here.
 */
import type { VerifyRefusal } from '../../errors.js';
import type { AllowKind, CodeRemoval, RouteMode } from '../../policy/model.js';
import type { ReasonCode, RefusalReason, ViolationReason } from '../../reasons.js';
import type { Finding, FindingKind, VerifiedDocument } from '../../verify/types.js';
import type { ResponseVerdict } from '../ports.js';

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
  | { readonly kind: 'refused'; readonly refusal: VerifyRefusal; readonly headerViolations: readonly Finding[] }
  /**
   * A pinned first-party script or a service worker's script (passthrough/pinned-script.ts): whole,
   * decoded and hashed, or refused with the reason it does not match its pin.
   */
  | { readonly kind: 'pinned-script'; readonly refusal: PinRefusal | undefined };

/** Why a pinned or worker script is not served. */
export interface PinRefusal {
  readonly reason: ReasonCode;
  readonly status: 502 | 504;
}

export type Decision =
  | {
      readonly action: 'send-original';
      readonly verdict: Extract<ResponseVerdict, 'clean' | 'reported' | 'passed'>;
      readonly violations: readonly Finding[];
      /** On report routes: why it could not be verified (logged, not enforced). */
      readonly refusal: RefusalReason | undefined;
    }
  | {
      readonly action: 'send-rewritten';
      readonly verdict: 'rewritten';
      readonly bytes: Uint8Array;
      readonly encoding: string;
      readonly violations: readonly Finding[];
      /** The rewrite neutralised code the page runs or loads (served because the route says `codeRemoval: serve`). */
      readonly codeRemoved: boolean;
    }
  | { readonly action: 'block'; readonly verdict: 'blocked'; readonly status: 502 | 504; readonly reason: ReasonCode; readonly violations: readonly Finding[] };

/** Failures after which there is nothing to send, whatever the route's mode. */
const NOTHING_TO_SEND = new Set<RefusalReason>(['upstream-unavailable', 'upstream-timeout', 'upstream-error', 'internal-error']);

/**
 * The one exit for every response payguard examined: the document path, the pass-through path's
 * active headers and upstream failures, pinned scripts, and a handler that failed (internal-error).
 */
export function decide(mode: RouteMode, inspection: Inspection, codeRemoval: CodeRemoval = 'block'): Decision {
  if (inspection.kind === 'pinned-script') return decidePinnedScript(inspection.refusal);
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
      // Issue 18 item 5: a rewrite that neutralised the shop's own unlisted code serves a page that
      // may not work (EverShop's cart, rewritten into a blank page, was counted a success). It is
      // served only where the policy says so, and then said to have removed code.
      const codeRemoved = violations.some(removesCode);
      if (codeRemoved && codeRemoval === 'block') return { action: 'block', verdict: 'blocked', status: 502, reason: 'rewrite-removes-code', violations };
      return { action: 'send-rewritten', verdict: 'rewritten', bytes: inspection.rewritten.bytes, encoding: inspection.rewritten.verified.encoding, violations, codeRemoved };
    }
    return { action: 'block', verdict: 'blocked', status: 502, reason: 'rewrite-unverifiable', violations };
  }
  return { action: 'block', verdict: 'blocked', status: 502, reason: violationReason(violations[0]!), violations };
}

/** Finding kinds whose neutralisation takes away code the page runs or loads. */
const CODE_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>(['script', 'inline-script', 'event-handler', 'javascript-url', 'module-preload', 'import-map', 'svg-animation', 'component', 'config-code']);

/** Whether neutralising this violation removes code from the page (a foreign image or form action does not). */
export function removesCode(finding: Finding): boolean {
  return CODE_KINDS.has(finding.kind);
}

/**
 * A pin is the policy's own statement of what the script must be, so it is enforced on every route,
 * report routes included: a script that does not match is never served (docs/vectors.md S-20).
 */
function decidePinnedScript(refusal: PinRefusal | undefined): Decision {
  if (!refusal) return { action: 'send-original', verdict: 'clean', violations: [], refusal: undefined };
  return { action: 'block', verdict: 'blocked', status: refusal.status, reason: refusal.reason, violations: [] };
}

const REASON_BY_LIST: Record<AllowKind, ViolationReason> = {
  form: 'foreign-form-action',
  script: 'foreign-script',
  frame: 'foreign-frame',
  navigate: 'foreign-navigation',
  connect: 'foreign-connect',
  image: 'foreign-image',
  style: 'foreign-style',
  font: 'foreign-font',
  media: 'foreign-media',
  manifest: 'foreign-manifest',
  inline: 'inline-code',
};

export function violationReason(finding: Finding): ViolationReason {
  return finding.reason ?? REASON_BY_LIST[finding.list];
}
