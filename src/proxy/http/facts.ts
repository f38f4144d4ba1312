/** One request as the handlers and the log see it (never its query string, body or cookies). */
import type { IncomingMessage } from 'node:http';
import { identify, type ClientIdentity, type TrustedProxies } from './forwarded.js';
import { pathOnly, requestTarget } from './request-kind.js';

export interface RequestFacts {
  readonly client: ClientIdentity;
  readonly method: string;
  /** Path and query, as sent upstream. */
  readonly target: string;
  /** Path only: for logs and route matching. */
  readonly path: string;
}

export function requestFacts(req: IncomingMessage, trusted: TrustedProxies): RequestFacts {
  const target = requestTarget(req);
  return { client: identify(req, trusted), method: req.method ?? 'GET', target, path: pathOnly(target) };
}
