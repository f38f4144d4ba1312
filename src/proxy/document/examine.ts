/**
 * Examining one upstream response on the document path, as named stages in the order the bytes
 * meet them: headers → body presence → type → content codings → read (capped) → verification
 * cache → decode → verify. Each stage returns either what the next one needs or the response's
 * finished Examination (refused, passed on as headers-only, or verified); nothing is thrown between
 * stages. The verifier and the decoders report a refusal by throwing VerifyRefusal (their contract),
 * and `refusable()` is the one place such a throw becomes a result.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { VerifyRefusal } from '../../errors.js';
import type { CompiledPolicy } from '../../policy/compiled.js';
import type { RouteMode } from '../../policy/model.js';
import { SINK_PATH } from '../../reserved-paths.js';
import { sniffHtml, verifyHeaders } from '../../verify/index.js';
import type { Finding, HeaderList } from '../../verify/types.js';
import { headerValues } from '../http/header-list.js';
import type { ProxyMetrics } from '../ports.js';
import type { Inspection } from '../verdict/decide.js';
import type { HeldBody } from '../verdict/send.js';
import type { VerificationCache } from '../verdict/verification-cache.js';
import type { InspectSuccess, VerifyPool } from '../workers/pool.js';
import { joined, readCapped, type BufferedBody } from './body.js';
import type { InspectionTicket } from './budget.js';
import { checkDecodable, contentCodings, decodeBody } from './content-coding.js';
import { classifyResponse, hasNoBody, typeDecision, type ResponseType } from './type.js';
import { classifyUpstreamError, type UpstreamFailure } from './upstream.js';

/** MIME Sniffing §7 "reading the resource header": the sniffer looks at no more than 1445 bytes. */
const SNIFF_BYTES = 1445;

/** What the examination of a document needs from the running payguard. */
export interface ExaminationServices {
  readonly verifyPool: VerifyPool;
  readonly verifications: VerificationCache;
  readonly metrics: ProxyMetrics;
  readonly maxInspectBytes: number;
  /** With a shadow policy the decoded body is kept for its second look, so cached verdicts are decoded anyway. */
  readonly keepDecoded: boolean;
}

/** One upstream response under examination. */
export interface UpstreamResponse {
  readonly compiled: CompiledPolicy;
  readonly mode: RouteMode;
  /** The public URL of the page (what the browser resolves against). */
  readonly url: string;
  readonly status: number;
  readonly method: string;
  readonly headers: HeaderList;
  readonly body: Readable;
  readonly signal: AbortSignal;
  readonly ticket: InspectionTicket;
}

/** One response examined: what the verdict needs, and the body as far as it was read. */
export interface Examination {
  readonly inspection: Inspection;
  readonly body: HeldBody;
  readonly type: ResponseType | undefined;
  /** The page with SRI attributes on pinned third-party scripts, sent instead of the original bytes. */
  readonly sri?: Uint8Array;
  /** The decoded body of a verified document (for the shadow policy's second look). */
  readonly decoded?: Buffer;
  /** The verification-cache key when the verdict came from the cache: the page was seen before. */
  readonly cachedVerification?: string;
}

/** The examination stopped because the client left, or the upstream broke off mid-body. */
export type ExaminationOutcome =
  | { readonly kind: 'examined'; readonly examination: Examination }
  | { readonly kind: 'client-gone' }
  | { readonly kind: 'upstream-failed'; readonly failure: UpstreamFailure; readonly refusal: VerifyRefusal };

/** A stage's result: the value for the next stage, or the examination is finished. */
type Stage<T> = { readonly next: T; readonly finished?: undefined } | { readonly finished: Examination };

export async function examine(services: ExaminationServices, r: UpstreamResponse): Promise<ExaminationOutcome> {
  const examined = (examination: Examination): ExaminationOutcome => ({ kind: 'examined', examination });
  const headers = judgeHeaders(r);
  if (headers.finished) return examined(headers.finished);
  const headerViolations = headers.next;
  const ends = new Endings(r, headerViolations);

  if (hasNoBody(r.status, r.method)) {
    r.body.destroy();
    return examined(ends.passed({ kind: 'none' }));
  }
  const typed = classify(r, ends);
  if (typed.finished) return examined(typed.finished);
  const { type, codings } = typed.next;

  const read = await readDocument(services, r, ends, type, codings);
  if (read.kind !== 'read') return read;
  if (read.finished) return examined(read.finished);
  const rawBytes = read.bytes;
  r.ticket.hold(rawBytes.length);
  const held: HeldBody = { kind: 'buffered', bytes: rawBytes };
  const rewrite = r.mode === 'rewrite' && headerViolations.length === 0;
  const verifiedHeaders = contentTypeLines(r.headers);
  const cacheKey = services.verifications.enabled
    ? services.verifications.keyFor({ policyId: r.compiled.id, mode: r.mode, url: r.url, headers: verifiedHeaders, rewrite, codings, bytes: rawBytes })
    : undefined;

  // The same encoded bytes were verified (or are being verified) already: no decoding, no worker.
  const known = cacheKey && !services.keepDecoded ? services.verifications.known(cacheKey) : undefined;
  if (known) return examined(ends.verified(await refusable(() => timed(services, () => known)), held, type, undefined, cacheKey));

  const decoded = await refusable(() => decodeBody(rawBytes, codings, services.maxInspectBytes));
  if (!decoded.ok) return examined(ends.refused(decoded.refusal, held, type));
  if (decoded.value !== rawBytes) r.ticket.hold(rawBytes.length + decoded.value.length);
  if (type.kind === 'sniff' && codings.length > 0 && !sniffHtml(decoded.value)) return examined(ends.passed(held, type));

  const verify = (): Promise<InspectSuccess> =>
    services.verifyPool.inspect({ policy: r.compiled, bytes: decoded.value, url: r.url, headers: verifiedHeaders, mode: r.mode, rewrite, sinkPath: SINK_PATH });
  const reply = await refusable(() => timed(services, () => (cacheKey === undefined ? verify() : services.verifications.verification(cacheKey, verify))));
  return examined(ends.verified(reply, held, type, decoded.value));
}

/**
 * Stage 1, the headers: Location, Refresh, Link and Speculation-Rules judged on this thread (they
 * vary per response, so they stay out of the verification cache's key).
 */
function judgeHeaders(r: UpstreamResponse): Stage<readonly Finding[]> {
  const refused = (refusal: VerifyRefusal): Stage<never> => ({ finished: new Endings(r, []).refused(refusal, streaming(r)) });
  // Several different Location lines: which one the browser follows is not something to guess at.
  if (new Set(headerValues(r.headers, 'location').map((v) => v.trim())).size > 1) {
    return refused(new VerifyRefusal('ambiguous-header', 'several different Location headers'));
  }
  const judged = refusableSync(() => verifyHeaders(r.headers, r.url, r.compiled.policy).filter((f) => !f.allowed));
  return judged.ok ? { next: judged.value } : refused(judged.refusal);
}

/** Stage 2, the type and codings: can this response become a document, and can payguard decode it as the browser will? */
function classify(r: UpstreamResponse, ends: Endings): Stage<{ type: ResponseType; codings: string[] }> {
  const type = classifyResponse(r.headers);
  // The same decision `payguard scan` makes (type.ts typeDecision).
  const decided = typeDecision(type, r.status);
  if (decided.kind === 'not-a-document') return { finished: ends.passed(streaming(r), type) };
  if (decided.kind === 'refuse') return { finished: ends.refused(decided.refusal, streaming(r), type) };
  const codings = contentCodings(r.headers);
  const decodable = refusableSync(() => checkDecodable(codings));
  if (!decodable.ok) return { finished: ends.refused(decodable.refusal, streaming(r), type) };
  return { next: { type, codings } };
}

type ReadOutcome =
  | { readonly kind: 'read'; readonly bytes: Buffer; readonly finished?: undefined }
  | { readonly kind: 'read'; readonly finished: Examination }
  | Exclude<ExaminationOutcome, { kind: 'examined' }>;

/** Stage 3, the body: the sniffer's bytes first when the type is unknown, then all of it up to the cap. */
async function readDocument(services: ExaminationServices, r: UpstreamResponse, ends: Endings, type: ResponseType, codings: readonly string[]): Promise<ReadOutcome> {
  let raw: BufferedBody | undefined;
  if (type.kind === 'sniff' && codings.length === 0) {
    // Read only what the sniffer reads; a download that is not HTML then streams on unbuffered.
    const head = await readUpstreamBody(r, SNIFF_BYTES - 1);
    if (head.kind !== 'read') return head;
    raw = head.body;
    if (!sniffHtml(joined(raw))) return { kind: 'read', finished: ends.passed(raw.complete ? { kind: 'buffered', bytes: joined(raw) } : streaming(r, raw.chunks), type) };
  }
  const whole = await readUpstreamBody(r, services.maxInspectBytes, raw);
  if (whole.kind !== 'read') return whole;
  if (!whole.body.complete) {
    return { kind: 'read', finished: ends.refused(new VerifyRefusal('too-large', `body exceeds ${services.maxInspectBytes} bytes`), streaming(r, whole.body.chunks), type) };
  }
  return { kind: 'read', bytes: joined(whole.body) };
}

async function readUpstreamBody(
  r: UpstreamResponse,
  max: number,
  already?: BufferedBody,
): Promise<{ readonly kind: 'read'; readonly body: BufferedBody } | Exclude<ExaminationOutcome, { kind: 'examined' }>> {
  try {
    return { kind: 'read', body: await readCapped(r.body, max, already) };
  } catch (err) {
    if (r.signal.aborted) return { kind: 'client-gone' };
    const failure = classifyUpstreamError(err);
    return { kind: 'upstream-failed', failure, refusal: new VerifyRefusal(failure.reason, err instanceof Error ? err.message : String(err), { cause: err }) };
  }
}

/** Only the Content-Type lines reach the verifier (all the body's verification reads: the charset). */
function contentTypeLines(headers: HeaderList): HeaderList {
  return headers.filter(([name]) => name === 'content-type');
}

function streaming(r: UpstreamResponse, head: readonly Buffer[] = []): HeldBody {
  return { kind: 'stream', head, rest: r.body };
}

/** The ways an examination finishes, each carrying the header violations found in stage 1. */
class Endings {
  constructor(
    readonly r: UpstreamResponse,
    readonly headerViolations: readonly Finding[],
  ) {}

  refused(refusal: VerifyRefusal, body: HeldBody, type?: ResponseType): Examination {
    return { inspection: { kind: 'refused', refusal, headerViolations: this.headerViolations }, body, type };
  }

  /** Not a document (or no body): only its headers could do harm. */
  passed(body: HeldBody, type?: ResponseType): Examination {
    return { inspection: { kind: 'headers-only', headerViolations: this.headerViolations }, body, type };
  }

  verified(reply: Refusable<InspectSuccess>, body: HeldBody, type: ResponseType, decoded?: Buffer, cachedVerification?: string): Examination {
    if (!reply.ok) return this.refused(reply.refusal, body, type);
    const { verified, rewritten, sri } = reply.value;
    return {
      inspection: { kind: 'document', verified, rewritten, headerViolations: this.headerViolations },
      body,
      type,
      ...(decoded ? { decoded } : {}),
      ...(sri ? { sri } : {}),
      ...(cachedVerification ? { cachedVerification } : {}),
    };
  }
}

type Refusable<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: VerifyRefusal };

/** A verification or decoding that refused (VerifyRefusal) becomes a result; anything else is a bug and propagates. */
async function refusable<T>(run: () => T | Promise<T>): Promise<Refusable<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { ok: false, refusal: err };
    throw err;
  }
}

function refusableSync<T>(run: () => T): Refusable<T> {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { ok: false, refusal: err };
    throw err;
  }
}

async function timed(services: ExaminationServices, inspect: () => InspectSuccess | Promise<InspectSuccess>): Promise<InspectSuccess> {
  const started = performance.now();
  try {
    return await inspect();
  } finally {
    services.metrics.observeInspection((performance.now() - started) / 1000);
  }
}
