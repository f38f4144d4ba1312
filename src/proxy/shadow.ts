/**
 * Shadow policy: every inspected response is also judged under a candidate policy, which is never
 * enforced. Where the two verdicts differ, payguard counts and logs it, so a release can canary
 * its new policy on real traffic before switching. The client always gets the enforced verdict.
 */
import { VerifyRefusal } from '../errors.js';
import { routeFor } from '../policy/allow.js';
import type { Policy, RouteMode } from '../policy/model.js';
import { verifyHeaders } from '../verify/index.js';
import type { Finding, HeaderList } from '../verify/types.js';
import { SINK_PATH, type ProxyContext, type RequestFacts } from './context.js';
import { decide, violationReason, type Decision, type Inspection } from './decide.js';
import type { PolicySource, ResponseVerdict } from './ports.js';
import { publicUrl } from './request-kind.js';

export type ShadowDirection = 'stricter' | 'looser';

export interface ShadowPolicy {
  readonly policy: PolicySource;
  /** Counts `payguard_shadow_disagreements_total{route,direction}`. */
  recordDisagreement(route: string, direction: ShadowDirection): void;
}

/** What the enforced path saw, for judging it again. `decoded` only for a verified document. */
export interface ShadowInput {
  readonly headers: HeaderList;
  readonly inspection: Inspection;
  readonly decoded: Buffer | undefined;
}

/** How harsh a verdict is to the response: a disagreement's direction. */
const SEVERITY: Record<ResponseVerdict, number> = { passed: 0, clean: 0, reported: 1, rewritten: 2, blocked: 3 };

/** Never throws: a shadow failure is logged, and the enforced response is not affected. */
export async function judgeInShadow(ctx: ProxyContext, facts: RequestFacts, route: string, enforced: Decision, input: ShadowInput): Promise<void> {
  const shadow = ctx.shadow;
  if (!shadow) return;
  try {
    const policy = shadow.policy.current().policy;
    const mode = routeFor(policy, facts.target).mode;
    // The candidate may name another public site: URLs resolve against its own.
    const inspection = await inspectAgain(ctx, policy, mode, publicUrl(policy.site, facts.target), input);
    const decision = decide(mode, inspection);
    if (SEVERITY[decision.verdict] === SEVERITY[enforced.verdict]) return;
    const direction: ShadowDirection = SEVERITY[decision.verdict] > SEVERITY[enforced.verdict] ? 'stricter' : 'looser';
    shadow.recordDisagreement(route, direction);
    ctx.logger.event('shadow-disagreement', {
      requestId: facts.client.requestId,
      method: facts.method,
      path: facts.path,
      route,
      direction,
      enforced: enforced.verdict,
      shadow: decision.verdict,
      shadowSerial: shadow.policy.current().policy.serial,
      shadowReasons: [...new Set(decision.violations.map(violationReason))],
    });
  } catch (err) {
    ctx.logger.error('shadow-failed', err, { requestId: facts.client.requestId, path: facts.path });
  }
}

async function inspectAgain(ctx: ProxyContext, policy: Policy, mode: RouteMode, url: string, input: ShadowInput): Promise<Inspection> {
  let headerViolations: readonly Finding[];
  try {
    headerViolations = verifyHeaders(input.headers, url, policy).filter((f) => !f.allowed);
  } catch (err) {
    if (err instanceof VerifyRefusal) return { kind: 'refused', refusal: err, headerViolations: [] };
    throw err;
  }
  const enforced = input.inspection;
  if (enforced.kind === 'refused') return { ...enforced, headerViolations };
  if (enforced.kind === 'headers-only' || input.decoded === undefined) return { kind: 'headers-only', headerViolations };
  try {
    const headers = input.headers.filter(([name]) => name === 'content-type');
    const rewrite = mode === 'rewrite' && headerViolations.length === 0;
    const reply = await ctx.verifyPool.inspect({ policyData: policy, bytes: input.decoded, url: url, headers, mode, rewrite, sinkPath: SINK_PATH });
    return { kind: 'document', verified: reply.verified, rewritten: reply.rewritten, headerViolations };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { kind: 'refused', refusal: err, headerViolations };
    throw err;
  }
}
