/**
 * The last resort of every request handler and listener: a bug becomes a decision (internal-error:
 * one 502, counted and logged under the route it happened on), or a cut connection once bytes were
 * sent; never a crash, and never a page served as if it had been verified.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { VerifyRefusal } from '../../errors.js';
import { clientWentAway } from '../http/client-gone.js';
import type { RequestFacts } from '../http/facts.js';
import type { PolicySource } from '../ports.js';
import { sendBlockPage } from './block-page.js';
import { decide } from './decide.js';
import { recordDecision, type DecisionRecorder } from './record.js';

export interface FailSafeServices extends DecisionRecorder {
  readonly policy: PolicySource;
}

export function failSafe(services: FailSafeServices, res: ServerResponse, facts: RequestFacts, err: unknown): void {
  if (clientWentAway(res, err)) {
    // The upstream was aborted on 'close'; the abort surfacing here is the client leaving, not a failure.
    res.destroy();
    return;
  }
  services.logger.error('request-failed', err, { requestId: facts.client.requestId, method: facts.method, path: facts.path });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const match = routeOrUnmatched(services, facts);
  const refusal = new VerifyRefusal('internal-error', err instanceof Error ? err.message : String(err), { cause: err });
  const decision = decide(match.mode, { kind: 'refused', refusal, headerViolations: [] });
  recordDecision(services, facts, match.label, decision);
  if (decision.action === 'block') sendBlockPage(res, decision.status, facts.client.requestId, facts.method === 'HEAD');
}

/** A WebSocket upgrade whose handler failed: there is no response to send a block page on, so the socket is cut. */
export function failSafeUpgrade(services: FailSafeServices, socket: Duplex, facts: RequestFacts, err: unknown): void {
  services.logger.error('upgrade-failed', err, { requestId: facts.client.requestId, method: facts.method, path: facts.path });
  const match = routeOrUnmatched(services, facts);
  const refusal = new VerifyRefusal('internal-error', err instanceof Error ? err.message : String(err), { cause: err });
  recordDecision(services, facts, match.label, decide(match.mode, { kind: 'refused', refusal, headerViolations: [] }));
  socket.destroy();
}

/** The route of the failed request; "unmatched" only if even that cannot be had (no policy in force). */
function routeOrUnmatched(services: FailSafeServices, facts: RequestFacts): { readonly mode: 'block' | 'rewrite' | 'report'; readonly label: string } {
  try {
    return services.policy.current().compiled.route(facts.path);
  } catch {
    return { mode: 'block', label: 'unmatched' };
  }
}
