/**
 * First-party script pinning (evasion-vectors S-20: British Airways 2018, 22 lines appended to the
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
import { VerifyRefusal } from '../errors.js';
import { routeFor } from '../policy/allow.js';
import type { AllowEntry, Policy, UrlEntry } from '../policy/model.js';
import type { ReasonCode } from '../reasons.js';
import type { HeaderList } from '../verify/types.js';
import { joined, readCapped } from './body.js';
import { sendBlockPage } from './block-page.js';
import { checkDecodable, contentCodings, decodeBody } from './content-coding.js';
import type { ProxyContext, RequestFacts } from './context.js';
import { headerListFromRaw, headerValues } from './header-list.js';
import { recordDecision } from './record.js';
import { publicUrl } from './request-kind.js';
import { passOnHeaders, sendResponse } from './respond.js';
import { isServiceWorkerScriptRequest, namedServiceWorker, widensScope } from './service-worker.js';
import { classifyUpstreamError, upstreamPath, upstreamRequestHeaders } from './upstream.js';

/** Scripts are small; a pinned script above this is refused rather than held in memory. */
export const MAX_PINNED_SCRIPT_BYTES = 4 * 1024 * 1024;

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
export function pinnedScriptFor(policy: Policy, req: IncomingMessage, target: string): PinnedScript | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const serviceWorker = isServiceWorkerScriptRequest(req);
  // The hot path: most policies pin nothing on the site, and most requests are not workers.
  if (!serviceWorker && sitePins(policy).length === 0) return undefined;
  const url = new URL(publicUrl(policy.site, target));
  const entry = pinningEntry(policy, url) ?? (serviceWorker ? namedServiceWorker(policy, url) : undefined);
  if (!entry && !serviceWorker) return undefined;
  const integrity = entry && entry.type !== 'hash' ? (entry.integrity ?? []) : [];
  return { url, entry, integrity, serviceWorker };
}

const pinsByPolicy = new WeakMap<Policy, readonly UrlEntry[]>();

/** allow.script url entries on the site's own origin that carry integrity (third parties are pinned with SRI instead). */
function sitePins(policy: Policy): readonly UrlEntry[] {
  let pins = pinsByPolicy.get(policy);
  if (!pins) {
    pins = policy.allow.script.filter(
      (e): e is UrlEntry => e.type === 'url' && (e.integrity?.length ?? 0) > 0 && new URL(e.url).origin === policy.site,
    );
    pinsByPolicy.set(policy, pins);
  }
  return pins;
}

function pinningEntry(policy: Policy, url: URL): AllowEntry | undefined {
  const href = url.href.split('#')[0]!;
  return sitePins(policy).find((e) => (e.prefix ? href.startsWith(e.url) : href === e.url));
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
}

/** The script as received: headers, the bytes to pass on, and the decoded body that was hashed. */
interface VerifiedScript {
  readonly headers: HeaderList;
  readonly raw: Buffer;
  readonly decoded: Buffer;
}

export async function servePinnedScript(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, facts: RequestFacts, pin: PinnedScript): Promise<void> {
  const route = routeFor(ctx.policy.current().policy, facts.target).label;
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
    recordDecision(ctx, facts, route, { action: 'block', verdict: 'blocked', status: err.status, reason: err.reason, violations: [] });
    sendBlockPage(res, err.status, facts.client.requestId, headOnly);
    return;
  }
  ctx.secondLayer.vantage.served(pin.url.href, script.decoded);
  ctx.metrics.recordResponse(route, 'clean');
  const out = passOnHeaders(script.headers, ['content-length', 'x-request-id']);
  if (!out.some(([n]) => n === 'x-content-type-options')) out.push(['x-content-type-options', 'nosniff']);
  out.push(['content-length', String(script.raw.length)], ['x-request-id', facts.client.requestId]);
  await sendResponse(res, 200, out, { kind: 'buffered', bytes: script.raw }, headOnly);
}

/** Fetches the whole script and checks it: named (workers), scope, status, size, coding, integrity. */
async function fetchVerifiedScript(ctx: ProxyContext, req: IncomingMessage, facts: RequestFacts, pin: PinnedScript, signal: AbortSignal): Promise<VerifiedScript> {
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

async function requestScript(ctx: ProxyContext, req: IncomingMessage, facts: RequestFacts, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
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
async function readScript(ctx: ProxyContext, body: Readable, headers: HeaderList): Promise<{ raw: Buffer; decoded: Buffer }> {
  let read;
  try {
    read = await readCapped(body, MAX_PINNED_SCRIPT_BYTES);
  } catch (err) {
    throw upstreamFailure(ctx, err);
  }
  if (!read.complete) throw new ScriptRefused('too-large', undefined);
  const raw = joined(read);
  try {
    const codings = contentCodings(headers);
    checkDecodable(codings);
    return { raw, decoded: await decodeBody(raw, codings, MAX_PINNED_SCRIPT_BYTES) };
  } catch (err) {
    if (err instanceof VerifyRefusal) throw new ScriptRefused(err.reason, undefined);
    throw err;
  }
}

function upstreamFailure(ctx: ProxyContext, err: unknown): ScriptRefused {
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
