/**
 * Counting and logging one response's outcome: the metrics and the violation log line, from the
 * decision alone. Only the path (no query string), the route label and findings are recorded.
 */
import { VIOLATION_REASONS, type ReasonCode } from '../reasons.js';
import type { RequestFacts, ProxyContext } from './context.js';
import type { EvidenceSink } from './ports.js';
import { violationReason, type Decision } from './decide.js';

export function recordDecision(ctx: ProxyContext, facts: RequestFacts, route: string, decision: Decision): void {
  ctx.metrics.recordResponse(route, decision.verdict);
  if (decision.action === 'block') ctx.metrics.recordBlocked(route, decision.reason);
  for (const finding of decision.violations) ctx.metrics.recordViolation(finding.kind, finding.origin ?? 'none');
  if (decision.violations.length > 0) {
    ctx.logger.violation({
      requestId: facts.client.requestId,
      method: facts.method,
      path: facts.path,
      route,
      verdict: decision.verdict,
      findings: decision.violations,
    });
  }
  if (ctx.evidence) recordEvidence(ctx.evidence, route, decision);
  const refusal: ReasonCode | undefined =
    decision.action === 'block' ? decision.reason : decision.action === 'send-original' ? decision.refusal : undefined;
  if (refusal && !(refusal in VIOLATION_REASONS)) {
    ctx.logger.event('refusal', {
      requestId: facts.client.requestId,
      method: facts.method,
      path: facts.path,
      route,
      verdict: decision.verdict,
      reason: refusal,
    });
  }
}

/** PCI DSS 11.6.1 evidence: each violation and each refusal, by origin only (never a path or query). */
function recordEvidence(evidence: EvidenceSink, route: string, decision: Decision): void {
  const action = decision.verdict === 'blocked' ? 'blocked' : decision.verdict === 'rewritten' ? 'rewritten' : 'reported';
  for (const finding of decision.violations) {
    evidence.detected({ route, reason: violationReason(finding), kind: finding.kind, origin: finding.origin ?? 'none', action });
  }
  const refusal = decision.action === 'block' ? decision.reason : decision.action === 'send-original' ? decision.refusal : undefined;
  // A block without findings (a tampered pinned script, a refusal) is evidence in its own right.
  if (refusal && (decision.violations.length === 0 || !(refusal in VIOLATION_REASONS))) evidence.detected({ route, reason: refusal, kind: 'response', origin: 'none', action });
}
