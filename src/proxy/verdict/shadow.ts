/**
 * Shadow policy: every inspected response is also judged under a candidate policy, which is never
 * enforced. Where the two verdicts differ, payguard counts and logs it, so a release can canary
 * its new policy on real traffic before switching. The client always gets the enforced verdict.
 *
 * The shadow has its own budget so that it cannot slow the enforced path either: a document's second
 * verification runs only on a worker that is idle while no enforced page waits, at most
 * LIMITS.shadowVerificationsInFlight at once, and is otherwise skipped, not queued (the safety
 * argument is at VerifyPool.inspectInShadow). A skip is counted
 * (`payguard_shadow_skipped_total{reason}`), not logged: under load it happens on most responses.
 */
import { VerifyRefusal } from '../../errors.js';
import type { CompiledPolicy } from '../../policy/compiled.js';
import type { RouteMode } from '../../policy/model.js';
import { SINK_PATH } from '../../reserved-paths.js';
import { verifyHeaders } from '../../verify/index.js';
import type { Finding, HeaderList } from '../../verify/types.js';
import type { RequestFacts } from '../http/facts.js';
import { publicUrl } from '../http/request-kind.js';
import type { PolicySource, ProxyLogger, ResponseVerdict } from '../ports.js';
import { SHADOW_SKIP_REASONS, type ShadowSkipReason, type VerifyPool } from '../workers/pool.js';
import { decide, violationReason, type Decision, type Inspection } from './decide.js';

export type ShadowDirection = 'stricter' | 'looser';
export { SHADOW_SKIP_REASONS, type ShadowSkipReason };

export interface ShadowPolicy {
  readonly policy: PolicySource;
  /** Counts `payguard_shadow_disagreements_total{route,direction}`. */
  recordDisagreement(route: string, direction: ShadowDirection): void;
  /** Counts `payguard_shadow_skipped_total{reason}`: a response not judged in shadow, for want of a worker. */
  recordSkipped(reason: ShadowSkipReason): void;
}

/** What the enforced path saw, for judging it again. `decoded` only for a verified document. */
export interface ShadowInput {
  readonly headers: HeaderList;
  readonly inspection: Inspection;
  readonly decoded: Buffer | undefined;
}

/** A document the candidate did not judge: no worker was free for the shadow lane. */
interface Skipped {
  readonly kind: 'skipped';
  readonly reason: ShadowSkipReason;
}

/** How harsh a verdict is to the response: a disagreement's direction. */
const SEVERITY: Record<ResponseVerdict, number> = { passed: 0, clean: 0, reported: 1, rewritten: 2, blocked: 3 };

/** Judges every inspected response again under the candidate policy; never changes the response. */
export class ShadowJudge {
  readonly #shadow: ShadowPolicy;
  readonly #verifyPool: VerifyPool;
  readonly #logger: ProxyLogger;

  constructor(shadow: ShadowPolicy, verifyPool: VerifyPool, logger: ProxyLogger) {
    this.#shadow = shadow;
    this.#verifyPool = verifyPool;
    this.#logger = logger;
  }

  /** Not awaited by the caller; never throws: a shadow failure is logged, and the enforced response is not affected. */
  judge(facts: RequestFacts, route: string, enforced: Decision, input: ShadowInput): void {
    void this.#judge(facts, route, enforced, input);
  }

  async #judge(facts: RequestFacts, route: string, enforced: Decision, input: ShadowInput): Promise<void> {
    try {
      const candidate = this.#shadow.policy.current();
      const candidateMatch = candidate.compiled.route(facts.path);
      const mode = candidateMatch.mode;
      // The candidate may name another public site: URLs resolve against its own.
      const inspection = await this.#inspectAgain(candidate.compiled, mode, publicUrl(candidate.policy.site, facts.target), input);
      if (inspection.kind === 'skipped') {
        this.#shadow.recordSkipped(inspection.reason);
        return;
      }
      const decision = decide(mode, inspection, candidateMatch.route?.codeRemoval);
      if (SEVERITY[decision.verdict] === SEVERITY[enforced.verdict]) return;
      const direction: ShadowDirection = SEVERITY[decision.verdict] > SEVERITY[enforced.verdict] ? 'stricter' : 'looser';
      this.#shadow.recordDisagreement(route, direction);
      this.#logger.event('shadow-disagreement', {
        requestId: facts.client.requestId,
        method: facts.method,
        path: facts.path,
        route,
        direction,
        enforced: enforced.verdict,
        shadow: decision.verdict,
        shadowSerial: candidate.policy.serial,
        shadowReasons: [...new Set(decision.violations.map(violationReason))],
      });
    } catch (err) {
      this.#logger.error('shadow-failed', err, { requestId: facts.client.requestId, path: facts.path });
    }
  }

  async #inspectAgain(compiled: CompiledPolicy, mode: RouteMode, url: string, input: ShadowInput): Promise<Inspection | Skipped> {
    let headerViolations: readonly Finding[];
    try {
      headerViolations = verifyHeaders(input.headers, url, compiled.policy).filter((f) => !f.allowed);
    } catch (err) {
      if (err instanceof VerifyRefusal) return { kind: 'refused', refusal: err, headerViolations: [] };
      throw err;
    }
    const enforced = input.inspection;
    if (enforced.kind === 'refused') return { ...enforced, headerViolations };
    if (enforced.kind !== 'document' || input.decoded === undefined) return { kind: 'headers-only', headerViolations };
    try {
      const headers = input.headers.filter(([name]) => name === 'content-type');
      const rewrite = mode === 'rewrite' && headerViolations.length === 0;
      // Started now or never (the shadow lane of the pool): this is what keeps the shadow off the enforced path.
      const attempt = this.#verifyPool.inspectInShadow({ policy: compiled, bytes: input.decoded, url, headers, mode, rewrite, sinkPath: SINK_PATH });
      if (!attempt.started) return { kind: 'skipped', reason: attempt.reason };
      const reply = await attempt.reply;
      return { kind: 'document', verified: reply.verified, rewritten: reply.rewritten, headerViolations };
    } catch (err) {
      if (err instanceof VerifyRefusal) return { kind: 'refused', refusal: err, headerViolations };
      throw err;
    }
  }
}
