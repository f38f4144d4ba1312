/**
 * Counting and logging one response's outcome: the metrics, the violation log line and the PCI
 * evidence, from the decision alone. Only the path (no query string), the route label and findings
 * are recorded.
 */
import { VIOLATION_REASONS, type ReasonCode } from '../../reasons.js';
import type { RequestFacts } from '../http/facts.js';
import type { EvidenceSink, ProxyLogger, ProxyMetrics } from '../ports.js';
import { violationReason, type Decision } from './decide.js';

/** Where a decision is recorded: the metrics, the log and (with `payguard serve`) the evidence log. */
export interface DecisionRecorder {
  readonly metrics: ProxyMetrics;
  readonly logger: ProxyLogger;
  readonly evidence?: EvidenceSink | undefined;
}

export function recordDecision(recorder: DecisionRecorder, facts: RequestFacts, route: string, decision: Decision): void {
  const { metrics, logger } = recorder;
  metrics.recordResponse(route, decision.verdict);
  if (decision.action === 'block') metrics.recordBlocked(route, decision.reason);
  const codeRemoved = decision.action === 'block' ? decision.reason === 'rewrite-removes-code' : decision.action === 'send-rewritten' && decision.codeRemoved;
  if (codeRemoved) metrics.recordCodeRemoved(route, decision.action === 'block' ? 'blocked' : 'served');
  for (const finding of decision.violations) metrics.recordViolation(finding.kind, finding.origin ?? 'none');
  if (decision.violations.length > 0) {
    logger.violation({
      requestId: facts.client.requestId,
      method: facts.method,
      path: facts.path,
      route,
      verdict: decision.verdict,
      ...(codeRemoved ? { codeRemoved: true } : {}),
      findings: decision.violations,
    });
  }
  if (recorder.evidence) recordEvidence(recorder.evidence, route, decision);
  const refusal = refusalOf(decision);
  if (refusal && !(refusal in VIOLATION_REASONS)) {
    logger.event('refusal', {
      requestId: facts.client.requestId,
      method: facts.method,
      path: facts.path,
      route,
      verdict: decision.verdict,
      reason: refusal,
    });
  }
}

function refusalOf(decision: Decision): ReasonCode | undefined {
  return decision.action === 'block' ? decision.reason : decision.action === 'send-original' ? decision.refusal : undefined;
}

/** PCI DSS 11.6.1 evidence: each violation and each refusal, by origin only (never a path or query). */
function recordEvidence(evidence: EvidenceSink, route: string, decision: Decision): void {
  const action = decision.verdict === 'blocked' ? 'blocked' : decision.verdict === 'rewritten' ? 'rewritten' : 'reported';
  for (const finding of decision.violations) {
    evidence.detected({ route, reason: violationReason(finding), kind: finding.kind, origin: finding.origin ?? 'none', action });
  }
  const refusal = refusalOf(decision);
  // A block without findings (a tampered pinned script, a refusal) is evidence in its own right.
  if (refusal && (decision.violations.length === 0 || !(refusal in VIOLATION_REASONS))) evidence.detected({ route, reason: refusal, kind: 'response', origin: 'none', action });
}
