/**
 * Paths under /.well-known/payguard/ are payguard's own and never reach the storefront (RFC 8615
 * well-known URIs: a namespace a site can reserve). A map of path → handler, so that later
 * endpoints (the CSP report collector, issue 5) plug in without touching the dispatch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { normaliseRequestPath } from '../../policy/allow.js';
import { CSP_REPORT_PATH, RESERVED_PREFIX, SINK_PATH } from '../../reserved-paths.js';
import type { RequestFacts } from '../http/facts.js';
import { guarded } from '../http/listener-guard.js';
import { failSafe } from '../verdict/fail-safe.js';
import { answerCspReport, type ReportServices } from './report-collector.js';

export type ReservedHandler = (services: ReportServices, req: IncomingMessage, res: ServerResponse, facts: RequestFacts) => void;

/** Whether payguard answers this path itself (compared after the same normalisation routes use). */
export function isReservedPath(path: string): boolean {
  // Every request passes here. Normalisation only lowercases, decodes %XX and deletes `;params`
  // up to the next slash or repeated slashes, so "payguard" can appear in the normalised path only
  // if the raw path holds it (any case) or an escape: the others skip the normalisation.
  if (!path.includes('%') && !/payguard/i.test(path)) return false;
  const normalised = normaliseRequestPath(path);
  return normalised.startsWith(RESERVED_PREFIX) || normalised === RESERVED_PREFIX.slice(0, -1);
}

export function createReservedHandlers(): Map<string, ReservedHandler> {
  return new Map<string, ReservedHandler>([
    [SINK_PATH, answerSink],
    [CSP_REPORT_PATH, answerCspReport],
  ]);
}

export function serveReserved(handlers: ReadonlyMap<string, ReservedHandler>, ctx: ReportServices, req: IncomingMessage, res: ServerResponse, facts: RequestFacts): void {
  const handler = handlers.get(normaliseRequestPath(facts.path));
  if (handler) {
    handler(ctx, req, res, facts);
    return;
  }
  req.resume();
  sendSmallPage(res, 404, facts.client.requestId, 'Not found');
}

/**
 * The sink a rewritten form posts to: whatever a neutralised form sends (card data, if a customer
 * typed it into a tampered form) is read off the socket and dropped, never buffered, stored or logged.
 */
const answerSink: ReservedHandler = (ctx, req, res, facts) => {
  let answered = false;
  const answer = (): void => {
    if (answered) return;
    answered = true;
    ctx.logger.event('sink', { requestId: facts.client.requestId, method: facts.method });
    sendSmallPage(res, 200, facts.client.requestId, 'This form was not sent. The page had been altered; please contact the shop.');
  };
  req.on('data', () => undefined);
  req.once(
    'end',
    guarded('sink-body', ctx.listenerFaults, (err) => failSafe(ctx, res, facts, err), answer),
  );
  req.once('error', () => res.destroy());
};

function sendSmallPage(res: ServerResponse, status: number, requestId: string, text: string): void {
  const body = Buffer.from(
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>payguard</title></head><body><p>${text}</p><p>Reference: <code>${requestId}</code></p></body></html>\n`,
    'utf8',
  );
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-request-id': requestId,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
