/**
 * The document path: payguard's own forwarding on undici for every request that may get a document
 * back. Stages, in order: upstream → classify → buffer (capped) → decode → verify (worker, time
 * limit) → decide → send. Non-documents met here stream through untouched.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { VerifyRefusal } from '../errors.js';
import type { RouteMatch } from '../policy/allow.js';
import type { Policy, RouteMode } from '../policy/model.js';
import { extractMimeType, sniffHtml, verifyHeaders } from '../verify/index.js';
import type { Finding, HeaderList } from '../verify/types.js';
import type { InspectSuccess } from './verify-pool.js';
import { joined, readCapped, type BufferedBody } from './body.js';
import { sendBlockPage } from './block-page.js';
import { checkDecodable, contentCodings, decodeBody } from './content-coding.js';
import { SINK_PATH, type ProxyContext, type RequestFacts } from './context.js';
import { decide, type Decision, type Inspection } from './decide.js';
import type { InspectionTicket } from './inspection-budget.js';
import { classifyResponse, documentEssence, hasNoBody, type ResponseType } from './document-type.js';
import { headerListFromRaw, headerValues } from './header-list.js';
import { publicUrl } from './request-kind.js';
import { recordDecision } from './record.js';
import { routeOf } from './route-memo.js';
import { judgeInShadow } from './shadow.js';
import { INVALIDATED_BY_REWRITE, passOnHeaders, sendResponse, type HeldBody } from './respond.js';
import { documentHeaders } from './second-layer.js';
import { classifyUpstreamError, upstreamPath, upstreamRefusal, upstreamRequestHeaders } from './upstream.js';

/** MIME Sniffing §7 "reading the resource header": the sniffer looks at no more than 1445 bytes. */
const SNIFF_BYTES = 1445;

/** One response under examination: what the verdict needs, and the body as far as it was read. */
interface Examined {
  readonly inspection: Inspection;
  readonly body: HeldBody;
  readonly type: ResponseType | undefined;
  /** The page with SRI attributes on pinned third-party scripts, sent instead of the original bytes. */
  readonly sri?: Uint8Array;
  /** The decoded body of a verified document (for the shadow policy's second look). */
  readonly decoded?: Buffer;
}

class ClientGone extends Error {}

/** The upstream failed after its headers (reset, body timeout): nothing whole to verify or send. */
class UpstreamBodyFailure extends Error {
  constructor(
    readonly refusal: VerifyRefusal,
    readonly kind: string,
  ) {
    super(refusal.message);
  }
}

export async function serveDocument(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<void> {
  // Taken once: this response is checked against exactly this policy, whatever a reload does meanwhile.
  const policy = ctx.policy.current().policy;
  const match = routeOf(policy, facts.path);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  // Before anything is fetched: a page that cannot be held for inspection is not asked for.
  let ticket: InspectionTicket;
  try {
    ticket = await ctx.inspectionBudget.admit(abort.signal);
  } catch (err) {
    if (abort.signal.aborted) return;
    if (!(err instanceof VerifyRefusal)) throw err;
    if (match.mode === 'report') {
      // Report routes never fail closed: past the wait, the page is inspected outside the budget.
      ticket = UNMETERED;
    } else {
      const inspection: Inspection = { kind: 'refused', refusal: err, headerViolations: [] };
      await conclude(ctx, res, facts, match.label, match.mode, 0, [], { inspection, body: { kind: 'none' }, type: undefined }, req.method === 'HEAD', { policy, match });
      return;
    }
  }
  try {
    await forwardDocument(ctx, req, res, facts, { policy, match, abort, ticket });
  } finally {
    ticket.release();
  }
}

const UNMETERED: InspectionTicket = { hold: () => undefined, release: () => undefined };

interface Admitted {
  readonly policy: Policy;
  readonly match: RouteMatch;
  readonly abort: AbortController;
  readonly ticket: InspectionTicket;
}

async function forwardDocument(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, facts: RequestFacts, admitted: Admitted): Promise<void> {
  const { policy, match, abort, ticket } = admitted;
  const enforce = match.mode !== 'report';
  const headOnly = req.method === 'HEAD';
  // HEAD gets the verdict GET would: on protected routes the body is fetched with GET and verified.
  const method = headOnly && enforce ? 'GET' : (req.method ?? 'GET');

  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await ctx.upstreamPool.request({
      method: method as Dispatcher.HttpMethod,
      path: upstreamPath(ctx.upstream, facts.target),
      headers: upstreamRequestHeaders(req, facts.client, enforce),
      // Streamed to the upstream as it arrives; never buffered, logged or stored.
      body: method !== req.method || !hasRequestBody(req) ? null : req,
      signal: abort.signal,
      responseHeaders: 'raw',
      // 1xx (103 Early Hints included) are not forwarded: their Link headers would start preloads
      // before any verdict (evasion-vectors H-09).
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    const failure = classifyUpstreamError(err);
    ctx.metrics.recordUpstreamError(failure.kind);
    const inspection: Inspection = { kind: 'refused', refusal: upstreamRefusal(failure, err), headerViolations: [] };
    await conclude(ctx, res, facts, match.label, match.mode, 0, [], { inspection, body: { kind: 'none' }, type: undefined }, headOnly, { policy, match });
    return;
  }

  // Discarding a body (block, HEAD, client gone) destroys it, which emits an AbortError; readers
  // that care (readCapped, pipeline) attach their own listeners, so this one only keeps it from crashing the process.
  upstream.body.on('error', () => undefined);
  const headers = headerListFromRaw(upstream.headers as unknown as string[]);
  const url = publicUrl(policy.site, facts.target);
  let examined: Examined;
  try {
    examined = await examine(ctx, { policy, mode: match.mode, url, status: upstream.statusCode, method, headers, body: upstream.body, signal: abort.signal, ticket });
  } catch (err) {
    upstream.body.destroy();
    if (err instanceof ClientGone || abort.signal.aborted) return;
    if (!(err instanceof UpstreamBodyFailure)) throw err;
    ctx.metrics.recordUpstreamError(err.kind);
    examined = { inspection: { kind: 'refused', refusal: err.refusal, headerViolations: [] }, body: { kind: 'none' }, type: undefined };
  }
  // A body streaming on is not held: room for the next page now, not when the stream ends.
  if (examined.body.kind !== 'buffered') ticket.release();
  await conclude(ctx, res, facts, match.label, match.mode, upstream.statusCode, headers, examined, headOnly, { policy, match });
}

interface Upstreamed {
  readonly policy: Policy;
  readonly mode: RouteMode;
  readonly url: string;
  readonly status: number;
  readonly method: string;
  readonly headers: HeaderList;
  readonly body: Readable;
  readonly signal: AbortSignal;
  readonly ticket: InspectionTicket;
}

async function examine(ctx: ProxyContext, r: Upstreamed): Promise<Examined> {
  let headerViolations: readonly Finding[] = [];
  const refused = (refusal: VerifyRefusal, body: HeldBody, type?: ResponseType): Examined => ({
    inspection: { kind: 'refused', refusal, headerViolations },
    body,
    type,
  });
  const streaming = (head: readonly Buffer[] = []): HeldBody => ({ kind: 'stream', head, rest: r.body });
  const passed = (body: HeldBody, type?: ResponseType): Examined => ({ inspection: { kind: 'headers-only', headerViolations }, body, type });

  // Several different Location lines: which one the browser follows is not something to guess at.
  if (new Set(headerValues(r.headers, 'location').map((v) => v.trim())).size > 1) {
    return refused(new VerifyRefusal('ambiguous-header', 'several different Location headers'), streaming());
  }
  try {
    headerViolations = verifyHeaders(r.headers, r.url, r.policy).filter((f) => !f.allowed);
  } catch (err) {
    if (err instanceof VerifyRefusal) return refused(err, streaming());
    throw err;
  }
  if (hasNoBody(r.status, r.method)) {
    r.body.destroy();
    return passed({ kind: 'none' });
  }
  const type = classifyResponse(r.headers);
  if (type.kind === 'other') return passed(streaming(), type);
  if (r.status === 206) {
    return refused(new VerifyRefusal('partial-content', `206 for a ${type.essence ?? 'untyped'} response`), streaming(), type);
  }
  if (type.kind === 'xml-document') {
    return refused(new VerifyRefusal('unsupported-document-type', `${type.essence} is rendered as a document and not inspected`), streaming(), type);
  }
  const codings = contentCodings(r.headers);
  try {
    checkDecodable(codings);
  } catch (err) {
    return refused(err as VerifyRefusal, streaming(), type);
  }

  let raw: BufferedBody | undefined;
  if (type.kind === 'sniff' && codings.length === 0) {
    // Read only what the sniffer reads; a download that is not HTML then streams on unbuffered.
    raw = await readBody(r, SNIFF_BYTES - 1);
    if (!sniffHtml(joined(raw))) return passed(raw.complete ? { kind: 'buffered', bytes: joined(raw) } : streaming(raw.chunks), type);
  }
  raw = await readBody(r, ctx.maxInspectBytes, raw);
  if (!raw.complete) {
    return refused(new VerifyRefusal('too-large', `body exceeds ${ctx.maxInspectBytes} bytes`), streaming(raw.chunks), type);
  }
  const rawBytes = joined(raw);
  r.ticket.hold(rawBytes.length);
  const held: HeldBody = { kind: 'buffered', bytes: rawBytes };
  const rewrite = r.mode === 'rewrite' && headerViolations.length === 0;
  const verdictKey = ctx.verdicts.enabled ? verdictKeyOf(ctx, r, rewrite, codings, rawBytes) : undefined;
  const document = (reply: InspectSuccess, decoded?: Buffer): Examined => ({
    inspection: { kind: 'document', verified: reply.verified, rewritten: reply.rewritten, headerViolations },
    body: held,
    type,
    ...(decoded ? { decoded } : {}),
    ...(reply.sri ? { sri: reply.sri } : {}),
  });
  // The same encoded bytes were verified (or are being verified) already: no decoding, no worker.
  // The shadow policy needs the decoded body, so with one configured the page is decoded anyway.
  const known = verdictKey && !ctx.shadow ? ctx.verdicts.known(verdictKey) : undefined;
  if (known) {
    try {
      return document(await timedInspection(ctx, () => known));
    } catch (err) {
      // The verification this request joined failed (time limit, worker lost): refused like its own would be.
      if (err instanceof VerifyRefusal) return refused(err, held, type);
      throw err;
    }
  }
  let decoded: Buffer;
  try {
    decoded = await decodeBody(rawBytes, codings, ctx.maxInspectBytes);
  } catch (err) {
    if (err instanceof VerifyRefusal) return refused(err, held, type);
    throw err;
  }
  if (decoded !== rawBytes) r.ticket.hold(rawBytes.length + decoded.length);
  if (type.kind === 'sniff' && codings.length > 0 && !sniffHtml(decoded)) return passed(held, type);

  try {
    return document(await verifyBody(ctx, r, decoded, rewrite, verdictKey), decoded);
  } catch (err) {
    if (err instanceof VerifyRefusal) return refused(err, held, type);
    throw err;
  }
}

/** Only the Content-Type lines reach the verifier (all the body's verification reads: the charset). */
function verifiedHeaders(r: Upstreamed): HeaderList {
  return r.headers.filter(([name]) => name === 'content-type');
}

function verdictKeyOf(ctx: ProxyContext, r: Upstreamed, rewrite: boolean, codings: readonly string[], encoded: Buffer): string {
  return ctx.verdicts.keyFor({ policy: r.policy, mode: r.mode, url: r.url, headers: verifiedHeaders(r), rewrite, codings, bytes: encoded });
}

/**
 * The body's verification, from the verdict cache or a worker. The worker sees only the
 * Content-Type lines (all the body's verification reads: the charset); Location, Refresh, Link and
 * Speculation-Rules were checked on this thread already, so the verdict depends on nothing
 * that varies per response (Date, Set-Cookie) and can be cached by content (the encoded bytes
 * and their codings: verdict-cache.ts).
 */
async function verifyBody(ctx: ProxyContext, r: Upstreamed, decoded: Buffer, rewrite: boolean, verdictKey: string | undefined): Promise<InspectSuccess> {
  const verify = (): Promise<InspectSuccess> =>
    ctx.verifyPool.inspect({ policyData: r.policy, bytes: decoded, url: r.url, headers: verifiedHeaders(r), mode: r.mode, rewrite, sinkPath: SINK_PATH });
  return timedInspection(ctx, () => (verdictKey === undefined ? verify() : ctx.verdicts.verdict(verdictKey, verify)));
}

async function timedInspection(ctx: ProxyContext, inspect: () => InspectSuccess | Promise<InspectSuccess>): Promise<InspectSuccess> {
  const started = performance.now();
  try {
    return await inspect();
  } finally {
    ctx.metrics.observeInspection((performance.now() - started) / 1000);
  }
}

async function readBody(r: Upstreamed, max: number, already?: BufferedBody): Promise<BufferedBody> {
  try {
    return await readCapped(r.body, max, already);
  } catch (err) {
    if (r.signal.aborted) throw new ClientGone();
    const failure = classifyUpstreamError(err);
    throw new UpstreamBodyFailure(upstreamRefusal(failure, err), failure.kind);
  }
}

async function conclude(
  ctx: ProxyContext,
  res: ServerResponse,
  facts: RequestFacts,
  route: string,
  mode: RouteMode,
  status: number,
  upstreamHeaders: HeaderList,
  examined: Examined,
  headOnly: boolean,
  second: { readonly policy: Policy; readonly match: RouteMatch },
): Promise<void> {
  const decision = decide(mode, examined.inspection);
  recordDecision(ctx, facts, route, decision);
  // Not awaited: the candidate's verdict never delays or changes the response.
  if (ctx.shadow) void judgeInShadow(ctx, facts, route, decision, { headers: upstreamHeaders, inspection: examined.inspection, decoded: examined.decoded });
  if (decision.action === 'block') {
    discard(examined.body);
    sendBlockPage(res, decision.status, facts.client.requestId, headOnly);
    return;
  }
  const headers = responseHeaders(upstreamHeaders, examined, decision, facts.client.requestId);
  // The second layer on every inspected document: CSP, reporting, header baseline (docs/second-layer.md).
  if (examined.inspection.kind === 'document') headers.push(...documentHeaders(ctx, ctx.secondLayer, second.policy, second.match, upstreamHeaders, facts.client.requestId));
  const body: HeldBody = decision.action === 'send-rewritten' ? { kind: 'buffered', bytes: Buffer.from(decision.bytes) } : (sriBody(decision, examined) ?? examined.body);
  if (body.kind === 'buffered') headers.push(['content-length', String(body.bytes.length)]);
  try {
    await sendResponse(res, status, headers, body, headOnly);
  } catch (err) {
    if (!failedUpstreamMidBody(res, body, err)) throw err;
    // A streamed body the storefront broke off after the status line went out (short of its
    // Content-Length, a reset, a stall): the storefront's failure, not payguard's, and only a cut
    // can tell the client (docs/proxy.md). Found by the proxy fuzz (it was logged as request-failed).
    const failure = classifyUpstreamError(err);
    ctx.metrics.recordUpstreamError(failure.kind);
    ctx.logger.event('upstream-cut-mid-body', { requestId: facts.client.requestId, method: facts.method, path: facts.path, route, reason: failure.reason });
    res.destroy();
  }
}

/** undici's errors on the upstream body (UND_ERR_*, and its HTTP parser's, which may carry no code), the client's own abort aside. */
function failedUpstreamMidBody(res: ServerResponse, body: HeldBody, err: unknown): boolean {
  if (!res.headersSent || body.kind !== 'stream') return false;
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'HTTPParserError') return true;
  return typeof code === 'string' && code.startsWith('UND_ERR_') && code !== 'UND_ERR_ABORTED';
}

/** A clean or reported page with SRI attributes added is sent like a rewrite: new bytes, identity coding. */
function sriBody(decision: Exclude<Decision, { action: 'block' }>, examined: Examined): HeldBody | undefined {
  return decision.action === 'send-original' && examined.sri ? { kind: 'buffered', bytes: Buffer.from(examined.sri) } : undefined;
}

function discard(body: HeldBody): void {
  if (body.kind === 'stream') body.rest.destroy();
}

/**
 * The headers sent with upstream bytes or a rewrite: the upstream's minus hop-by-hop ones, exactly
 * one Content-Type (the one payguard judged the body by), the charset pinned to the encoding the
 * verifier decoded with (so the browser decodes the same characters, E-02), and the request id.
 */
function responseHeaders(upstream: HeaderList, examined: Examined, decision: Exclude<Decision, { action: 'block' }>, requestId: string): [string, string][] {
  const rewritten = decision.action === 'send-rewritten' || sriBody(decision, examined) !== undefined;
  const buffered = rewritten || examined.body.kind === 'buffered';
  const drop = rewritten ? INVALIDATED_BY_REWRITE : ['content-type', 'x-request-id', ...(buffered ? ['content-length'] : [])];
  const headers = passOnHeaders(upstream, [...drop, 'x-request-id']);
  const contentType = outgoingContentType(upstream, examined, decision);
  if (contentType) headers.push(['content-type', contentType]);
  if (examined.type?.kind === 'sniff' || examined.inspection.kind === 'document') {
    // The browser must not sniff its way to a different type than the one payguard judged (M-02).
    if (!headers.some(([n]) => n === 'x-content-type-options')) headers.push(['x-content-type-options', 'nosniff']);
  }
  headers.push(['x-request-id', requestId]);
  return headers;
}

function outgoingContentType(upstream: HeaderList, examined: Examined, decision: Exclude<Decision, { action: 'block' }>): string | undefined {
  if (decision.action === 'send-rewritten') return `${documentEssence(examined.type)}; charset=${decision.encoding}`;
  if (examined.inspection.kind === 'document') return `${documentEssence(examined.type)}; charset=${examined.inspection.verified.encoding}`;
  const lines = headerValues(upstream, 'content-type');
  if (lines.length === 0 || (lines.length === 1 && !lines[0]!.includes(','))) return lines[0];
  // Several types, on several lines or comma-listed on one ("text/html, image/png"): send the one
  // the Fetch algorithm extracted and payguard judged by (M-01), not a list a client might read
  // the other way. Found by the proxy fuzz.
  const mime = extractMimeType(upstream);
  if (!mime) return undefined;
  return mime.charset ? `${mime.essence}; charset=${mime.charset}` : mime.essence;
}

const CLIENT_GONE_CODES = new Set(['ABORT_ERR', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_ABORTED', 'ECONNRESET', 'EPIPE']);

function clientWentAway(res: ServerResponse, err: unknown): boolean {
  if (res.writableFinished || !(res.closed || res.destroyed)) return false;
  const e = err as { name?: string; code?: string } | undefined;
  return e?.name === 'AbortError' || CLIENT_GONE_CODES.has(e?.code ?? '');
}

function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The handler's last resort: a bug becomes a block (or a cut connection once bytes were sent), never a crash. */
export function failSafe(ctx: ProxyContext, res: ServerResponse, facts: RequestFacts, err: unknown, headOnly: boolean): void {
  if (clientWentAway(res, err)) {
    // The upstream was aborted on 'close'; the abort surfacing here is the client leaving, not a failure.
    // (Node 24 rejects the body pipeline with an AbortError where Node 20 ended it quietly.)
    res.destroy();
    return;
  }
  ctx.logger.error('request-failed', err, { requestId: facts.client.requestId, method: facts.method, path: facts.path });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  ctx.metrics.recordResponse('unmatched', 'blocked');
  ctx.metrics.recordBlocked('unmatched', 'internal-error');
  sendBlockPage(res, 502, facts.client.requestId, headOnly);
}
