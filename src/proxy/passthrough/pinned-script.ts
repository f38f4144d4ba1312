/**
 * First-party script pinning (docs/vectors.md S-20: British Airways 2018, 22 lines appended to the
 * shop's own Modernizr file). For an allow.script url entry with `integrity` on the site's origin,
 * payguard buffers the script (scripts are small; capped), hashes the decoded body and serves it
 * only when it matches; a mismatch is a 502, counted and logged with both hashes. Such a URL takes
 * this path whatever its Sec-Fetch-Dest says, so no request can get the bytes unverified.
 * Service worker scripts take it too (named by the policy, scope not widened: service-worker.ts).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Pool } from 'undici';
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { CompiledPolicy } from '../../policy/compiled.js';
import type { AllowEntry } from '../../policy/model.js';
import type { ReasonCode } from '../../reasons.js';
import type { HeaderList } from '../../verify/types.js';
import type { SecondLayer } from '../browser/layer.js';
import { isServiceWorkerScriptRequest, namedServiceWorker, widensScope } from '../browser/service-worker.js';
import { joined, readCapped } from '../document/body.js';
import { checkDecodable, contentCodings, decodeBody } from '../document/content-coding.js';
import { classifyUpstreamError, upstreamPath, upstreamRequestHeaders } from '../document/upstream.js';
import type { RequestFacts } from '../http/facts.js';
import { headerListFromRaw, headerValues } from '../http/header-list.js';
import { publicUrl } from '../http/request-kind.js';
import type { PolicySource } from '../ports.js';
import { sendBlockPage } from '../verdict/block-page.js';
import { decide, type PinRefusal } from '../verdict/decide.js';
import { recordDecision, type DecisionRecorder } from '../verdict/record.js';
import { passOnHeaders, sendResponse } from '../verdict/send.js';

/** What serving a pinned script needs from the running payguard. */
export interface PinnedScriptServices extends DecisionRecorder {
  readonly upstream: URL;
  readonly upstreamPool: Pool;
  readonly policy: PolicySource;
  readonly secondLayer: SecondLayer;
}

/** Why a request takes the pinned path: the policy entry pinning it, and whether it is a service worker's. */
export interface PinnedScript {
  readonly url: URL;
  readonly entry: AllowEntry | undefined;
  readonly integrity: readonly string[];
  readonly serviceWorker: boolean;
}

/**
 * The pinned-script facts of a request, or undefined when it is an ordinary request. Decided from
 * the request alone (method, target, Service-Worker header), before any upstream byte.
 */
export function pinnedScriptFor(compiled: CompiledPolicy, req: IncomingMessage, target: string): PinnedScript | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const serviceWorker = isServiceWorkerScriptRequest(req);
  // The hot path: most policies pin nothing on the site, and most requests are not workers.
  if (!serviceWorker && compiled.sitePins.length === 0) return undefined;
  const url = new URL(publicUrl(compiled.policy.site, target));
  const entry = compiled.sitePin(url) ?? (serviceWorker ? namedServiceWorker(compiled.policy, url) : undefined);
  if (!entry && !serviceWorker) return undefined;
  const integrity = entry && entry.type !== 'hash' ? (entry.integrity ?? []) : [];
  return { url, entry, integrity, serviceWorker };
}

/** Why a pinned or worker script is not served: a reason code, and what the log line says. */
class ScriptRefused extends Error {
  constructor(
    readonly reason: ReasonCode,
    readonly event: string | undefined,
    readonly fields: object = {},
    readonly status: 502 | 504 = 502,
  ) {
    super(reason);
  }

  get refusal(): PinRefusal {
    return { reason: this.reason, status: this.status };
  }
}

/** The script as received: headers, the bytes to pass on, and the decoded body that was hashed. */
interface VerifiedScript {
  readonly headers: HeaderList;
  readonly raw: Buffer;
  readonly decoded: Buffer;
}

export async function servePinnedScript(ctx: PinnedScriptServices, req: IncomingMessage, res: ServerResponse, facts: RequestFacts, pin: PinnedScript): Promise<void> {
  const route = ctx.policy.current().compiled.route(facts.path).label;
  const headOnly = req.method === 'HEAD';
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let script: VerifiedScript;
  try {
    script = await fetchVerifiedScript(ctx, req, facts, pin, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) return;
    if (!(err instanceof ScriptRefused)) throw err;
    if (err.event) ctx.logger.event(err.event, { requestId: facts.client.requestId, path: facts.path, ...err.fields });
    const refused = decide('block', { kind: 'pinned-script', refusal: err.refusal });
    recordDecision(ctx, facts, route, refused);
    if (refused.action === 'block') sendBlockPage(res, refused.status, facts.client.requestId, headOnly);
    return;
  }
  ctx.secondLayer.vantage.served(pin.url.href, script.decoded);
  // A pin is enforced on every route (decide.ts), so the route's mode does not enter the decision.
  recordDecision(ctx, facts, route, decide('block', { kind: 'pinned-script', refusal: undefined }));
  const out = passOnHeaders(script.headers, ['content-length', 'x-request-id']);
  if (!out.some(([n]) => n === 'x-content-type-options')) out.push(['x-content-type-options', 'nosniff']);
  out.push(['content-length', String(script.raw.length)], ['x-request-id', facts.client.requestId]);
  await sendResponse(res, 200, out, { kind: 'buffered', bytes: script.raw }, headOnly);
}

/** Fetches the whole script and checks it: named (workers), scope, status, size, coding, integrity. */
async function fetchVerifiedScript(ctx: PinnedScriptServices, req: IncomingMessage, facts: RequestFacts, pin: PinnedScript, signal: AbortSignal): Promise<VerifiedScript> {
  if (pin.serviceWorker && !pin.entry) {
    req.resume();
    throw new ScriptRefused('service-worker', 'service-worker-refused', { why: 'not named in allow.script' });
  }
  const upstream = await requestScript(ctx, req, facts, signal);
  const headers = headerListFromRaw(upstream.headers as unknown as string[]);
  try {
    if (pin.serviceWorker && widensScope(pin.url, headerValues(headers, 'service-worker-allowed'))) {
      throw new ScriptRefused('service-worker', 'service-worker-refused', { why: 'Service-Worker-Allowed widens its scope' });
    }
    const { raw, decoded } = await readScript(ctx, upstream.body, headers);
    // Only a whole 200 can be verified; any other status would be a script or page nobody pinned.
    if (upstream.statusCode !== 200) throw new ScriptRefused('tampered-script', 'script-pin-mismatch', { status: upstream.statusCode });
    if (pin.integrity.length > 0) {
      const verdict = matchIntegrity(pin.integrity, decoded);
      if (!verdict.matches) throw new ScriptRefused('tampered-script', 'script-pin-mismatch', { expected: verdict.expected, actual: verdict.actual });
    }
    return { headers, raw, decoded };
  } finally {
    if (!upstream.body.readableEnded) upstream.body.destroy();
  }
}

async function requestScript(ctx: PinnedScriptServices, req: IncomingMessage, facts: RequestFacts, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  try {
    const upstream = await ctx.upstreamPool.request({
      method: 'GET',
      path: upstreamPath(ctx.upstream, facts.target),
      // As on protected routes: no Range, no conditionals, so the whole body comes back to be hashed.
      headers: upstreamRequestHeaders(req, facts.client, true),
      signal,
      responseHeaders: 'raw',
    });
    upstream.body.on('error', () => undefined);
    return upstream;
  } catch (err) {
    // The client went away: not the storefront's failure, and nobody to answer.
    if (signal.aborted) throw err;
    throw upstreamFailure(ctx, err);
  }
}

/** The body, capped, and decoded: SRI (W3C SRI §3.3.5) hashes what the browser sees, after content decoding. */
async function readScript(ctx: PinnedScriptServices, body: Readable, headers: HeaderList): Promise<{ raw: Buffer; decoded: Buffer }> {
  let read;
  try {
    // Scripts are small; a pinned script above the cap is refused rather than held in memory.
    read = await readCapped(body, LIMITS.maxPinnedScriptBytes);
  } catch (err) {
    throw upstreamFailure(ctx, err);
  }
  if (!read.complete) throw new ScriptRefused('too-large', undefined);
  const raw = joined(read);
  try {
    const codings = contentCodings(headers);
    checkDecodable(codings);
    return { raw, decoded: await decodeBody(raw, codings, LIMITS.maxPinnedScriptBytes) };
  } catch (err) {
    if (err instanceof VerifyRefusal) throw new ScriptRefused(err.reason, undefined);
    throw err;
  }
}

function upstreamFailure(ctx: PinnedScriptServices, err: unknown): ScriptRefused {
  const failure = classifyUpstreamError(err);
  ctx.metrics.recordUpstreamError(failure.kind);
  return new ScriptRefused(failure.reason, undefined, {}, failure.reason === 'upstream-timeout' ? 504 : 502);
}

/**
 * W3C SRI §3.3.5 "Does response match metadataList": only the strongest algorithm present counts,
 * and the body matches when its digest equals any token of that algorithm.
 */
export function matchIntegrity(tokens: readonly string[], body: Uint8Array): { matches: boolean; expected: string[]; actual: string } {
  const strongest = ['sha512', 'sha384', 'sha256'].find((alg) => tokens.some((t) => t.startsWith(`${alg}-`))) ?? 'sha384';
  const expected = tokens.filter((t) => t.startsWith(`${strongest}-`));
  const actual = `${strongest}-${createHash(strongest).update(body).digest('base64')}`;
  return { matches: expected.includes(actual), expected, actual };
}
