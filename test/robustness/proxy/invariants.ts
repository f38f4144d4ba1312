/**
 * What the proxy fuzz asserts about one exchange, each as a sentence that names the broken rule.
 * The judge of "served as a document" is what the client received (status, headers, decoded body),
 * never payguard's own classification.
 */
import { compilePolicy } from '../../../src/policy/compiled.js';
import type { Policy } from '../../../src/policy/model.js';
import { decodedBody, receivedValues, type ClientRequest, type Exchange } from './client-request.js';
import { TAMPER_MARKER } from './response-plan.js';

/** Fetch §3.1 destinations rendered as documents; Sec-Fetch-Dest absent means "could be a navigation" (docs/proxy.md). */
const DOCUMENT_DESTINATIONS = new Set(['document', 'iframe', 'frame', 'object', 'embed', 'fencedframe']);

/** Types Chromium never renders as an HTML document whatever the body holds (the generator's non-document types). */
const NEVER_HTML = new Set(['image/png', 'application/json']);

/** payguard's documented promise: a request that may get a document back takes the inspecting path. */
export function mayReceiveDocument(req: ClientRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return true;
  if (req.secFetchDest === undefined || typeof req.secFetchDest !== 'string') return true;
  return DOCUMENT_DESTINATIONS.has(req.secFetchDest.trim().toLowerCase());
}

export function isProtected(policy: Policy, req: ClientRequest): boolean {
  return compilePolicy(policy).route(req.path).mode !== 'report';
}

/**
 * The MIME essence a browser takes from what the client got: Fetch §3.1.7 "extract a MIME type"
 * over every Content-Type line, comma-split, the last parsable type winning (quoted commas in
 * parameters are not handled: the generator sends none).
 */
function receivedEssence(exchange: Exchange): string | undefined {
  let essence: string | undefined;
  for (const item of receivedValues(exchange.rawHeaders, 'content-type').join(',').split(',')) {
    const candidate = item.split(';')[0]!.trim().toLowerCase();
    if (/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(candidate) && candidate !== '*/*') essence = candidate;
  }
  return essence;
}

function hasToken(exchange: Exchange, name: string, token: string): boolean {
  return receivedValues(exchange.rawHeaders, name).some((v) => v.toLowerCase().split(',').map((t) => t.trim()).includes(token));
}

/** Every broken invariant of one exchange, as sentences (empty: all held). */
export function brokenInvariants(policy: Policy, req: ClientRequest, exchange: Exchange): string[] {
  const broken: string[] = [];
  if (exchange.hung) broken.push(`(b) the exchange hung: ${exchange.error}`);
  if (exchange.error?.includes('HPE_')) broken.push(`payguard sent the client a malformed response: ${exchange.error}`);
  if (exchange.interim.length > 0) broken.push(`a 1xx (${exchange.interim.join(', ')}) reached the client unchecked`);
  if (exchange.status === undefined) return broken;
  const body = decodedBody(exchange.rawHeaders, exchange.body);
  const tamperedBody = body.includes(TAMPER_MARKER);
  const essence = receivedEssence(exchange);
  if (mayReceiveDocument(req) && isProtected(policy, req)) {
    if (tamperedBody && !(essence && NEVER_HTML.has(essence))) {
      broken.push(`(c) a tampered body reached the client as ${essence ?? 'an untyped response'} (status ${exchange.status}) on a protected route`);
    }
    for (const name of ['location', 'refresh', 'link']) {
      if (receivedValues(exchange.rawHeaders, name).some((v) => v.includes(TAMPER_MARKER))) broken.push(`(c) a foreign ${name} header reached the client on a protected route`);
    }
  } else if (!mayReceiveDocument(req) && tamperedBody && !(essence && NEVER_HTML.has(essence))) {
    // Pass-through: never inspected (docs/proxy.md), so it must be unstorable and unsniffable.
    if (!hasToken(exchange, 'cache-control', 'no-store') || !hasToken(exchange, 'x-content-type-options', 'nosniff')) {
      broken.push(`a pass-through response that could render as a page lacks no-store/nosniff (${essence ?? 'untyped'})`);
    }
  }
  return broken;
}
