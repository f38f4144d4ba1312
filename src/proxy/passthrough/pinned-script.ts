/**
 * First-party script pinning (docs/vectors.md S-20: British Airways 2018, 22 lines appended to the
 * shop's own Modernizr file). For an allow.script url entry with `integrity` on the site's origin,
 * and for every script and data file of the policy's release manifest (`firstParty`, looked up by
 * path whatever the query or spelling: policy/first-party.ts), payguard buffers the file (capped),
 * hashes the decoded body and serves it only when it matches; a mismatch is a 502, counted and
 * logged with both hashes. Such a path takes this path whatever its Sec-Fetch-Dest says, so no
 * request (a `<script>`, a module import, a `fetch()` whose text is eval'd, a navigation) gets the
 * bytes unverified. Identical bytes are verified once (verified-bytes.ts).
 * Under a manifest, a same-origin request the manifest does not list is refused here, without
 * asking the storefront, when it is requested as code (Sec-Fetch-Dest script, worker, json…) or is
 * a code file under the manifest's base whatever requests it. Scripts the manifest names as
 * generated per request go the ordinary pass-through way, counted.
 * Service worker scripts take this path too (named by the policy, scope not widened: service-worker.ts).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Pool } from 'undici';
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { CompiledPolicy } from '../../policy/compiled.js';
import { firstPartyRequest, SCRIPT_DESTINATIONS, type FetchUse, type FirstPartyRequest } from '../../policy/first-party.js';
import { entryIntegrity, type AllowEntry } from '../../policy/model.js';
import type { ReasonCode } from '../../reasons.js';
import type { HeaderList } from '../../verify/types.js';
import type { SecondLayer } from '../browser/layer.js';
import { servedHashOf } from '../browser/vantage.js';
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
import { requirementKey, type VerifiedBytes } from './verified-bytes.js';
import { unlistedUrlsInJson } from '../../verify/finders/carried-urls.js';

/** What serving a pinned script needs from the running payguard. */
export interface PinnedScriptServices extends DecisionRecorder {
  readonly upstream: URL;
  readonly upstreamPool: Pool;
  readonly policy: PolicySource;
  readonly secondLayer: SecondLayer;
  readonly verifiedBytes: VerifiedBytes;
}

/** Why a request takes the pinned path: what pins it, and whether it is a service worker's. */
export interface PinnedScript {
  readonly url: URL;
  /** The allow.script entry pinning it (or naming the service worker). */
  readonly entry: AllowEntry | undefined;
  /** The SRI metadata of each pin (allow.script entry, manifest file); the body must match every one. */
  readonly integrity: readonly (readonly string[])[];
  readonly serviceWorker: boolean;
  /** What the release manifest says of the path, when the policy has one. */
  readonly firstParty: FirstPartyRequest | undefined;
}

/**
 * The pinned-script facts of a request, or undefined when it is an ordinary request. Decided from
 * the request alone (method, target, Service-Worker header), before any upstream byte.
 */
export function pinnedScriptFor(compiled: CompiledPolicy, req: IncomingMessage, target: string): PinnedScript | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const serviceWorker = isServiceWorkerScriptRequest(req);
  const manifest = compiled.policy.firstParty;
  // The hot path: most policies pin nothing on the site, and most requests are not workers.
  if (!serviceWorker && compiled.sitePins.length === 0 && !manifest) return undefined;
  const firstParty = manifest ? firstPartyRequest(manifest, target, fetchUse(req)) : undefined;
  if (!serviceWorker && compiled.sitePins.length === 0 && !firstParty) return undefined;
  const url = new URL(publicUrl(compiled.policy.site, target));
  const entry = compiled.sitePin(url) ?? (serviceWorker ? namedServiceWorker(compiled.policy, url) : undefined);
  if (!entry && !serviceWorker && !firstParty) return undefined;
  const integrity: (readonly string[])[] = [];
  const pinned = entry ? entryIntegrity(entry) : undefined;
  if (pinned && pinned.length > 0) integrity.push(pinned);
  if (firstParty?.kind === 'listed') integrity.push(firstParty.file.integrity);
  return { url, entry, integrity, serviceWorker, firstParty };
}

/**
 * How the response will be used, from Sec-Fetch-Dest (Fetch Metadata). It comes from the shopper's
 * browser, which an attacker who tampered with the shop does not control; browsers that send none
 * are left to the page check and the CSP (docs/policy.md "First-party code").
 */
function fetchUse(req: IncomingMessage): FetchUse {
  const dest = req.headers['sec-fetch-dest'];
  if (typeof dest !== 'string') return 'unknown';
  return SCRIPT_DESTINATIONS.has(dest.trim().toLowerCase()) ? 'code' : 'other';
}

/**
 * A script the manifest names as generated per request: it has no fixed bytes to pin, so it goes the
 * ordinary pass-through way (its Location, Refresh and Link headers judged there), and is counted
 * and logged so the unhashed code shows in the metrics, not only in the policy.
 */
export function noteGeneratedScript(ctx: PinnedScriptServices, facts: RequestFacts, pin: PinnedScript): boolean {
  if (pin.firstParty?.kind !== 'generated' || pin.serviceWorker || pin.integrity.length > 0) return false;
  ctx.secondLayer.metrics.recordGeneratedScript(pin.firstParty.script.path);
  return true;
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

/** The script as received: headers, the bytes to pass on, and the sha256 of its decoded body (dual vantage). */
interface VerifiedScript {
  readonly headers: HeaderList;
  readonly raw: Buffer;
  readonly servedHash: string;
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
  ctx.secondLayer.vantage.recordServed(pin.url.href, script.servedHash);
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
  // Under a manifest, code nobody released is refused before the storefront is asked: a pin in
  // allow.script still verifies it, anything else would be served unverified.
  const unlisted = pin.firstParty?.kind === 'unlisted' && pin.integrity.length === 0 ? pin.firstParty : undefined;
  if (unlisted) {
    req.resume();
    throw new ScriptRefused('unlisted-first-party-script', 'first-party-refused', { why: unlisted.why });
  }
  const upstream = await requestScript(ctx, req, facts, signal);
  const headers = headerListFromRaw(upstream.headers as unknown as string[]);
  try {
    if (pin.serviceWorker && widensScope(pin.url, headerValues(headers, 'service-worker-allowed'))) {
      throw new ScriptRefused('service-worker', 'service-worker-refused', { why: 'Service-Worker-Allowed widens its scope' });
    }
    const raw = await readScript(ctx, upstream.body);
    // Only a whole 200 can be verified; any other status would be a script or page nobody pinned.
    if (upstream.statusCode !== 200) throw new ScriptRefused('tampered-script', 'script-pin-mismatch', { status: upstream.statusCode });
    const codings = scriptCodings(headers);
    const requirement = requirementKey(pin.integrity, codings);
    const known = ctx.verifiedBytes.lookup(requirement, raw);
    if (known !== undefined) {
      ctx.secondLayer.metrics.recordPinnedCheck('remembered');
      return { headers, raw, servedHash: known };
    }
    const decoded = await decodeScript(raw, codings);
    for (const tokens of pin.integrity) {
      const verdict = matchIntegrity(tokens, decoded);
      if (!verdict.matches) throw new ScriptRefused('tampered-script', 'script-pin-mismatch', { expected: verdict.expected, actual: verdict.actual });
    }
    checkCarriedUrls(ctx, facts, pin, decoded);
    const servedHash = servedHashOf(decoded);
    ctx.verifiedBytes.remember(requirement, raw, servedHash);
    ctx.secondLayer.metrics.recordPinnedCheck('hashed');
    return { headers, raw, servedHash };
  } finally {
    if (!upstream.body.readableEnded) upstream.body.destroy();
  }
}

/**
 * A JSON data file of the manifest is data the shop's scripts read (issue 17 class 4, docs/vectors.md
 * N-06): a URL in it on an origin neither the site nor any allow list names is refused where the
 * file's route is protected, and logged (with the list it would need) where it is a report route.
 * Checked once per distinct bytes: what passes is remembered with the integrity check.
 */
function checkCarriedUrls(ctx: PinnedScriptServices, facts: RequestFacts, pin: PinnedScript, decoded: Buffer): void {
  if (pin.firstParty?.kind !== 'listed' || pin.firstParty.list !== 'data') return;
  const compiled = ctx.policy.current().compiled;
  const unlisted = unlistedUrlsInJson(compiled.policy, decoded.toString('utf8'));
  if (unlisted.length === 0) return;
  const first = unlisted[0]!;
  const fields = { origin: new URL(first.url).origin, list: first.list, count: unlisted.length };
  if (compiled.route(facts.path).mode !== 'report') throw new ScriptRefused('unlisted-url', 'first-party-data-url', fields);
  ctx.logger.event('first-party-data-url', { requestId: facts.client.requestId, path: facts.path, ...fields });
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

/** The body as received, capped: scripts are small; a pinned script above the cap is refused rather than held in memory. */
async function readScript(ctx: PinnedScriptServices, body: Readable): Promise<Buffer> {
  let read;
  try {
    read = await readCapped(body, LIMITS.maxPinnedScriptBytes);
  } catch (err) {
    throw upstreamFailure(ctx, err);
  }
  if (!read.complete) throw new ScriptRefused('too-large', undefined);
  return joined(read);
}

/** The content codings of the response, refused when payguard cannot decode them as the browser would. */
function scriptCodings(headers: HeaderList): string[] {
  try {
    const codings = contentCodings(headers);
    checkDecodable(codings);
    return codings;
  } catch (err) {
    if (err instanceof VerifyRefusal) throw new ScriptRefused(err.reason, undefined);
    throw err;
  }
}

/** SRI (W3C SRI §3.3.5) hashes what the browser sees, after content decoding. */
async function decodeScript(raw: Buffer, codings: readonly string[]): Promise<Buffer> {
  try {
    return await decodeBody(raw, codings, LIMITS.maxPinnedScriptBytes);
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
