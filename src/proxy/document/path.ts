/**
 * The document path: payguard's own forwarding on undici for every request that may get a document
 * back. In order: admission (inspection budget) → upstream → examine (examine.ts: headers, type,
 * codings, body, decode, verify) → decide (verdict/decide.ts) → record → headers of the second
 * layer (browser/) → send. Non-documents met here stream through untouched.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { VerifyRefusal } from '../../errors.js';
import type { CompiledPolicy, RouteMatch } from '../../policy/compiled.js';
import { extractMimeType } from '../../verify/index.js';
import type { HeaderList, VerifiedDocument } from '../../verify/types.js';
import { LIMITS } from '../../limits.js';
import { nonceTemplatedScripts } from '../../verify/script-nonces.js';
import { headerListFromRaw, headerValues } from '../http/header-list.js';
import type { RequestFacts } from '../http/facts.js';
import { publicUrl } from '../http/request-kind.js';
import type { PolicySource, TrafficRecorder } from '../ports.js';
import { documentHeaders, type DocumentHeaderServices } from '../browser/layer.js';
import { guardsRoute, insertGuard } from '../browser/navigation-guard.js';
import type { ServedDocumentCache } from '../verdict/verification-cache.js';
import { sendBlockPage } from '../verdict/block-page.js';
import { decide, type Decision, type Inspection } from '../verdict/decide.js';
import { recordDecision, type DecisionRecorder } from '../verdict/record.js';
import { INVALIDATED_BY_REWRITE, passOnHeaders, sendResponse, type HeldBody } from '../verdict/send.js';
import type { ShadowJudge } from '../verdict/shadow.js';
import type { InspectionBudget, InspectionTicket } from './budget.js';
import { contentCodings, decodeBody } from './content-coding.js';
import { examine, type Examination, type ExaminationServices } from './examine.js';
import { documentEssence } from './type.js';
import { classifyUpstreamError, upstreamPath, upstreamRefusal, upstreamRequestHeaders } from './upstream.js';
import { templateAcceptance } from '../../verify/inline-templates.js';

/** What the document path needs from the running payguard. */
export interface DocumentPathServices extends ExaminationServices, DecisionRecorder, DocumentHeaderServices {
  readonly upstream: URL;
  readonly upstreamPool: Pool;
  readonly policy: PolicySource;
  readonly inspectionBudget: InspectionBudget;
  readonly shadow: ShadowJudge | undefined;
  readonly servedDocuments: ServedDocumentCache;
  readonly learner?: TrafficRecorder | undefined;
}

/** The response's policy and route, taken once: it is judged against exactly this policy, whatever a reload does meanwhile. */
interface Judged {
  readonly compiled: CompiledPolicy;
  readonly match: RouteMatch;
  readonly headOnly: boolean;
}

export async function serveDocument(services: DocumentPathServices, req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<void> {
  const compiled = services.policy.current().compiled;
  const judged: Judged = { compiled, match: compiled.route(facts.path), headOnly: req.method === 'HEAD' };
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const ticket = await admit(services, res, facts, judged, abort.signal);
  if (!ticket) return;
  try {
    await forwardDocument(services, req, res, facts, judged, abort, ticket);
  } finally {
    ticket.release();
  }
}

const UNMETERED: InspectionTicket = { hold: () => undefined, release: () => undefined };

/**
 * Before anything is fetched: a page that cannot be held for inspection is not asked for. Past the
 * wait, decide() blocks on protected routes; on report routes (which never fail closed) the page is
 * inspected outside the budget.
 */
async function admit(services: DocumentPathServices, res: ServerResponse, facts: RequestFacts, judged: Judged, signal: AbortSignal): Promise<InspectionTicket | undefined> {
  let refusal: VerifyRefusal;
  try {
    return await services.inspectionBudget.admit(signal);
  } catch (err) {
    if (signal.aborted) return undefined;
    if (!(err instanceof VerifyRefusal)) throw err;
    refusal = err;
  }
  const inspection: Inspection = { kind: 'refused', refusal, headerViolations: [] };
  if (decide(judged.match.mode, inspection, judged.match.route?.codeRemoval).action !== 'block') return UNMETERED;
  await conclude(services, res, facts, judged, { status: 0, headers: [], examination: { inspection, body: { kind: 'none' }, type: undefined } });
  return undefined;
}

async function forwardDocument(
  services: DocumentPathServices,
  req: IncomingMessage,
  res: ServerResponse,
  facts: RequestFacts,
  judged: Judged,
  abort: AbortController,
  ticket: InspectionTicket,
): Promise<void> {
  const enforce = judged.match.mode !== 'report';
  // HEAD gets the verdict GET would: on protected routes the body is fetched with GET and verified.
  const method = judged.headOnly && enforce ? 'GET' : (req.method ?? 'GET');

  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await services.upstreamPool.request({
      method: method as Dispatcher.HttpMethod,
      path: upstreamPath(services.upstream, facts.target),
      headers: upstreamRequestHeaders(req, facts.client, enforce),
      // Streamed to the upstream as it arrives; never buffered, logged or stored.
      body: method !== req.method || !hasRequestBody(req) ? null : req,
      signal: abort.signal,
      responseHeaders: 'raw',
      // 1xx (103 Early Hints included) are not forwarded: their Link headers would start preloads
      // before any verdict (docs/vectors.md H-09).
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    const failure = classifyUpstreamError(err);
    services.metrics.recordUpstreamError(failure.kind);
    const inspection: Inspection = { kind: 'refused', refusal: upstreamRefusal(failure, err), headerViolations: [] };
    await conclude(services, res, facts, judged, { status: 0, headers: [], examination: { inspection, body: { kind: 'none' }, type: undefined } });
    return;
  }

  // Discarding a body (block, HEAD, client gone) destroys it, which emits an AbortError; readers
  // that care (readCapped, pipeline) attach their own listeners, so this one only keeps it from crashing the process.
  upstream.body.on('error', () => undefined);
  const headers = headerListFromRaw(upstream.headers as unknown as string[]);
  const url = publicUrl(judged.compiled.policy.site, facts.target);
  const outcome = await examine(services, {
    compiled: judged.compiled,
    mode: judged.match.mode,
    url,
    status: upstream.statusCode,
    method,
    headers,
    body: upstream.body,
    signal: abort.signal,
    ticket,
  }).catch((err: unknown) => {
    upstream.body.destroy();
    throw err;
  });
  if (outcome.kind === 'client-gone' || abort.signal.aborted) {
    upstream.body.destroy();
    return;
  }
  let examination: Examination;
  if (outcome.kind === 'upstream-failed') {
    upstream.body.destroy();
    services.metrics.recordUpstreamError(outcome.failure.kind);
    examination = { inspection: { kind: 'refused', refusal: outcome.refusal, headerViolations: [] }, body: { kind: 'none' }, type: undefined };
  } else {
    examination = outcome.examination;
  }
  // A body streaming on is not held: room for the next page now, not when the stream ends.
  if (examination.body.kind !== 'buffered') ticket.release();
  await conclude(services, res, facts, judged, { status: upstream.statusCode, headers, examination });
}

interface Concluding {
  readonly status: number;
  readonly headers: HeaderList;
  readonly examination: Examination;
}

/** decide → record → (shadow, in the background) → block page, or the chosen bytes with payguard's headers. */
async function conclude(services: DocumentPathServices, res: ServerResponse, facts: RequestFacts, judged: Judged, concluding: Concluding): Promise<void> {
  const { examination, headers: upstreamHeaders } = concluding;
  const route = judged.match.label;
  const decision = decide(judged.match.mode, examination.inspection, judged.match.route?.codeRemoval);
  recordDecision(services, facts, route, decision);
  learnFrom(services, judged, facts, concluding);
  // Not awaited: the candidate's verdict never delays or changes the response.
  services.shadow?.judge(facts, route, decision, { headers: upstreamHeaders, inspection: examination.inspection, decoded: examination.decoded });
  if (decision.action === 'block') {
    discard(examination.body);
    sendBlockPage(res, decision.status, facts.client.requestId, judged.headOnly);
    return;
  }
  // The findings of the bytes sent (the rewrite's when the page was rewritten), and the inline code
  // among them a template accepted: the browser is told to run it by hash, or past the cap by a
  // nonce the accepted scripts carry (verify/script-nonces.ts).
  const inspection = examination.inspection;
  const sent = inspection.kind !== 'document' ? undefined : decision.action === 'send-rewritten' ? inspection.rewritten?.verified : inspection.verified;
  const accepted = sent ? templateAcceptance(sent.findings) : undefined;
  const wantsNonce = sent !== undefined && accepted !== undefined && accepted.hashSources.length > LIMITS.maxTemplateHashesInCsp && accepted.scriptOffsets.length > 0;
  // Protected HTML gets the navigation guard first in <head> (browser/navigation-guard.ts): the
  // verified bytes with the guard inserted, decoded (identity coding), allowed by its CSP hash.
  const guarded = await guardedDocument(services, judged, decision, examination, upstreamHeaders, wantsNonce ? { verified: sent!, url: publicUrl(judged.compiled.policy.site, facts.target), requestId: facts.client.requestId } : undefined);
  const headers = responseHeaders(upstreamHeaders, examination, decision, facts.client.requestId, guarded !== undefined);
  // The second layer on every inspected document: CSP, reporting, header baseline (docs/second-layer.md).
  if (inspection.kind === 'document') {
    headers.push(...documentHeaders(services, judged.compiled, judged.match, upstreamHeaders, facts.client.requestId, guarded !== undefined, accepted, guarded?.nonce));
  }
  const body: HeldBody = guarded
    ? { kind: 'buffered', bytes: guarded.bytes }
    : decision.action === 'send-rewritten'
      ? { kind: 'buffered', bytes: Buffer.from(decision.bytes) }
      : (sriBody(decision, examination) ?? examination.body);
  if (body.kind === 'buffered') headers.push(['content-length', String(body.bytes.length)]);
  try {
    await sendResponse(res, concluding.status, headers, body, judged.headOnly);
  } catch (err) {
    if (!failedUpstreamMidBody(res, body, err)) throw err;
    // A streamed body the storefront broke off after the status line went out (short of its
    // Content-Length, a reset, a stall): the storefront's failure, not payguard's, and only a cut
    // can tell the client (docs/proxy.md). Found by the proxy fuzz (it was logged as request-failed).
    const failure = classifyUpstreamError(err);
    services.metrics.recordUpstreamError(failure.kind);
    services.logger.event('upstream-cut-mid-body', { requestId: facts.client.requestId, method: facts.method, path: facts.path, route, reason: failure.reason });
    res.destroy();
  }
}

/**
 * `serve --learn`: a page on a report route, new to payguard (a verification-cache hit is bytes
 * seen before), is handed to the learner. It reads the decoded body only while the page is still
 * being learned from, after the response is on its way.
 */
function learnFrom(services: DocumentPathServices, judged: Judged, facts: RequestFacts, concluding: Concluding): void {
  const { examination, headers, status } = concluding;
  const inspection = examination.inspection;
  if (!services.learner || judged.match.mode !== 'report' || inspection.kind !== 'document' || examination.cachedVerification !== undefined) return;
  if (status < 200 || status > 299) return;
  const policy = judged.compiled.policy;
  const body = examination.body;
  services.learner.document({
    url: publicUrl(policy.site, facts.target),
    site: policy.site,
    verified: inspection.verified,
    headers,
    defaultCharset: policy.defaultCharset,
    bytes: async () => {
      if (examination.decoded) return examination.decoded;
      if (body.kind !== 'buffered') return undefined;
      const codings = contentCodings(headers);
      return codings.length === 0 ? body.bytes : decodeBody(body.bytes, codings, services.maxInspectBytes);
    },
  });
}

/** undici's errors on the upstream body (UND_ERR_*, and its HTTP parser's, which may carry no code), the client's own abort aside. */
function failedUpstreamMidBody(res: ServerResponse, body: HeldBody, err: unknown): boolean {
  if (!res.headersSent || body.kind !== 'stream') return false;
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (name === 'HTTPParserError') return true;
  return typeof code === 'string' && code.startsWith('UND_ERR_') && code !== 'UND_ERR_ABORTED';
}

/**
 * The bytes to send on a protected route with the guard inserted: whichever bytes were verified
 * (the rewrite, the page with SRI attributes, or the decoded upstream body), in the encoding the
 * verifier decoded them with. A verdict served from the verification cache has no decoded copy:
 * the bytes built at its first hit are sent again (ServedDocumentCache), or the body is decoded
 * again, as it was the first time. `undefined`: sent as it is, without a guard (report routes and
 * routes with `csp: off`, text/plain or octet-stream documents, a doctype that never ends).
 */
async function guardedDocument(
  services: DocumentPathServices,
  judged: Judged,
  decision: Exclude<Decision, { action: 'block' }>,
  examination: Examination,
  upstreamHeaders: HeaderList,
  nonceFor: NonceRequest | undefined,
): Promise<{ bytes: Buffer; nonce?: string } | undefined> {
  const inspection = examination.inspection;
  if (!guardsRoute(judged.match) || inspection.kind !== 'document' || documentEssence(examination.type) !== 'text/html') return undefined;
  const encoding = inspection.verified.encoding;
  const policy = judged.compiled.policy;
  const verifiedBytes = async (): Promise<{ bytes: Uint8Array; encoding: string } | undefined> => {
    if (decision.action === 'send-rewritten') return { bytes: decision.bytes, encoding: decision.encoding };
    if (examination.sri) return { bytes: examination.sri, encoding };
    const body = examination.body;
    if (body.kind !== 'buffered') return undefined;
    const codings = contentCodings(upstreamHeaders);
    return { bytes: examination.decoded ?? (codings.length === 0 ? body.bytes : await decodeBody(body.bytes, codings, services.maxInspectBytes)), encoding };
  };
  // A nonce is per response: those bytes are built every time, never taken from the cache.
  if (nonceFor && !examination.sri) {
    const base = await verifiedBytes();
    if (!base) return undefined;
    const nonced = withNonce(services, base.bytes, upstreamHeaders, judged, nonceFor);
    const bytes = insertGuard(nonced?.bytes ?? base.bytes, base.encoding, policy);
    return bytes ? { bytes, ...(nonced ? { nonce: nonced.nonce } : {}) } : undefined;
  }
  const build = async (): Promise<Buffer | undefined> => {
    const base = await verifiedBytes();
    return base ? insertGuard(base.bytes, base.encoding, policy) : undefined;
  };
  const seenBefore = examination.cachedVerification;
  const bytes = await (seenBefore === undefined ? build() : services.servedDocuments.served(seenBefore, decision.action, build));
  return bytes ? { bytes } : undefined;
}

/** What adding nonces to the accepted scripts of a page needs: the findings of its bytes and its public URL. */
interface NonceRequest {
  readonly verified: VerifiedDocument;
  readonly url: string;
  readonly requestId: string;
}

/**
 * The verified bytes with a fresh nonce on every script a template accepted, verified again; or
 * undefined when they do not verify as before (then every hash goes into the CSP, as under the cap,
 * and the operator is told).
 */
function withNonce(services: DocumentPathServices, bytes: Uint8Array, headers: HeaderList, judged: Judged, request: NonceRequest): { bytes: Uint8Array; nonce: string } | undefined {
  const nonce = randomBytes(18).toString('base64url');
  const input = { bytes, url: request.url, headers, policy: judged.compiled.policy, mode: judged.match.mode };
  try {
    return { bytes: nonceTemplatedScripts(input, request.verified, nonce).bytes, nonce };
  } catch (err) {
    if (!(err instanceof VerifyRefusal)) throw err;
    services.logger.event('csp-template-nonce-failed', { requestId: request.requestId, route: judged.match.label, reason: err.message });
    return undefined;
  }
}

/** A clean or reported page with SRI attributes added is sent like a rewrite: new bytes, identity coding. */
function sriBody(decision: Exclude<Decision, { action: 'block' }>, examination: Examination): HeldBody | undefined {
  return decision.action === 'send-original' && examination.sri ? { kind: 'buffered', bytes: Buffer.from(examination.sri) } : undefined;
}

function discard(body: HeldBody): void {
  if (body.kind === 'stream') body.rest.destroy();
}

/**
 * The headers sent with upstream bytes or a rewrite: the upstream's minus hop-by-hop ones, exactly
 * one Content-Type (the one payguard judged the body by), the charset pinned to the encoding the
 * verifier decoded with (so the browser decodes the same characters, E-02), and the request id.
 */
function responseHeaders(upstream: HeaderList, examination: Examination, decision: Exclude<Decision, { action: 'block' }>, requestId: string, guarded: boolean): [string, string][] {
  const rewritten = guarded || decision.action === 'send-rewritten' || sriBody(decision, examination) !== undefined;
  const buffered = rewritten || examination.body.kind === 'buffered';
  const drop = rewritten ? INVALIDATED_BY_REWRITE : ['content-type', 'x-request-id', ...(buffered ? ['content-length'] : [])];
  const headers = passOnHeaders(upstream, [...drop, 'x-request-id']);
  const contentType = outgoingContentType(upstream, examination, decision);
  if (contentType) headers.push(['content-type', contentType]);
  if (examination.type?.kind === 'sniff' || examination.inspection.kind === 'document') {
    // The browser must not sniff its way to a different type than the one payguard judged (M-02).
    // Exactly one `nosniff` line: a storefront's `foo`, `nosniff, foo` or repeated lines are read
    // differently by Fetch (first item) and others (the whole value), so they are replaced, not kept
    // (docs/headers.md "X-Content-Type-Options").
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === 'x-content-type-options') headers.splice(i, 1);
    headers.push(['x-content-type-options', 'nosniff']);
  }
  headers.push(['x-request-id', requestId]);
  return headers;
}

function outgoingContentType(upstream: HeaderList, examination: Examination, decision: Exclude<Decision, { action: 'block' }>): string | undefined {
  if (decision.action === 'send-rewritten') return `${documentEssence(examination.type)}; charset=${decision.encoding}`;
  if (examination.inspection.kind === 'document') return `${documentEssence(examination.type)}; charset=${examination.inspection.verified.encoding}`;
  const lines = headerValues(upstream, 'content-type');
  if (lines.length === 0 || (lines.length === 1 && !lines[0]!.includes(','))) return lines[0];
  // Several types, on several lines or comma-listed on one ("text/html, image/png"): send the one
  // the Fetch algorithm extracted and payguard judged by (M-01), not a list a client might read
  // the other way. Found by the proxy fuzz.
  const mime = extractMimeType(upstream);
  if (!mime) return undefined;
  return mime.charset ? `${mime.essence}; charset=${mime.charset}` : mime.essence;
}

function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
