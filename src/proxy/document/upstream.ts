/**
 * The document path's connection to the storefront: an undici keep-alive Pool (docs/vectors.md, performance notes B.1:
 * a proxy without keep-alive opens a connection per request and collapses under load), the request
 * headers payguard sends, and what an upstream failure means.
 */
import type { IncomingMessage } from 'node:http';
import { Pool } from 'undici';
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { RefusalReason } from '../../reasons.js';
import type { HeaderList } from '../../verify/types.js';
import { upstreamAcceptEncoding } from './content-coding.js';
import type { ClientIdentity } from '../http/forwarded.js';
import { headerListFromRaw, headerValues } from '../http/header-list.js';
import { hopByHopNames } from '../http/hop-by-hop.js';

export function createUpstreamPool(upstream: URL, timeoutMs: number): Pool {
  return new Pool(upstream.origin, {
    connections: LIMITS.upstreamConnections,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    // Between body chunks, not for the whole body: a large page that keeps flowing is not "slow".
    bodyTimeout: timeoutMs,
    keepAliveTimeout: LIMITS.upstreamKeepAliveMs,
    // llhttp in strict mode (the default): a malformed response is an error, never guessed at (H-05).
  });
}

/** Headers payguard writes itself; an incoming copy is dropped whoever sent it. */
const REPLACED = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded', // RFC 7239: payguard speaks X-Forwarded-*, and a client-written Forwarded would contradict it
  'x-request-id',
  'accept-encoding', // only what payguard can decode (H-01)
  // Compression Dictionary Transport: dcb/dcz bodies cannot be decoded without the dictionary (H-01).
  'available-dictionary',
  'dictionary-id',
  // undici refuses Expect; the client's 100-continue is answered by Node before the handler runs.
  'expect',
]);

/**
 * Removed on protected routes so the upstream always answers with the whole body, which is then
 * verified: a 304 would let the browser render a cached copy payguard never saw, and a 206 is a
 * fragment that cannot be verified (H-06, H-07).
 */
const WHOLE_BODY_ONLY = new Set(['range', 'if-range', 'if-none-match', 'if-modified-since']);

export function upstreamRequestHeaders(req: IncomingMessage, client: ClientIdentity, protectedRoute: boolean): string[] {
  const incoming: HeaderList = headerListFromRaw(req.rawHeaders);
  const drop = hopByHopNames(headerValues(incoming, 'connection'));
  const flat: string[] = [];
  for (const [name, value] of incoming) {
    if (drop.has(name) || REPLACED.has(name)) continue;
    if (protectedRoute && WHOLE_BODY_ONLY.has(name)) continue;
    flat.push(name, value);
  }
  flat.push('x-forwarded-for', client.forwardedFor, 'x-forwarded-proto', client.forwardedProto);
  if (client.forwardedHost) flat.push('x-forwarded-host', client.forwardedHost);
  flat.push('x-request-id', client.requestId, 'accept-encoding', upstreamAcceptEncoding(headerValues(incoming, 'accept-encoding')));
  return flat;
}

/** The upstream path for a request target, under the upstream URL's path prefix if it has one. */
export function upstreamPath(upstream: URL, target: string): string {
  const prefix = upstream.pathname.replace(/\/+$/, '');
  return prefix + target;
}

/** What went wrong talking to the storefront, as a refusal reason and a metrics kind. */
export interface UpstreamFailure {
  readonly reason: Extract<RefusalReason, 'upstream-unavailable' | 'upstream-timeout' | 'upstream-error'>;
  readonly kind: 'connect' | 'timeout' | 'reset' | 'protocol';
}

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string } | undefined)?.code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return { reason: 'upstream-timeout', kind: 'timeout' };
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return { reason: 'upstream-unavailable', kind: 'connect' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return { reason: 'upstream-error', kind: 'reset' };
    default:
      return { reason: 'upstream-error', kind: 'protocol' };
  }
}

export function upstreamRefusal(failure: UpstreamFailure, err: unknown): VerifyRefusal {
  return new VerifyRefusal(failure.reason, err instanceof Error ? err.message : String(err), { cause: err });
}
