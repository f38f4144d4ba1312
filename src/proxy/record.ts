/**
 * Counting and logging one response's outcome: the metrics and the violation log line, from the
 * decision alone. Only the path (no query string), the route label and findings are recorded.
 */
import { VIOLATION_REASONS, type ReasonCode } from '../reasons.js';
import type { RequestFacts, ProxyContext } from './context.js';
import type { Decision } from './decide.js';

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
