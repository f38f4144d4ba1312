/**
 * The public listener: every request is identified, then handed to the route the composition root
 * chose for it (payguard.ts: reserved paths, pinned scripts, the document path, the pass-through
 * path); WebSocket upgrades go through. Also the drain on SIGTERM. A throw in a handler or a
 * listener ends in `onFailure` (one 502), never in the process's uncaught-exception path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { listenOn } from '../../listen.js';
import type { ListenAddress } from '../../listen.js';
import { requestFacts, type RequestFacts } from './facts.js';
import { newRequestId, type TrustedProxies } from './forwarded.js';
import { guarded, type ListenerFaults } from './listener-guard.js';
import { pathOnly } from './request-kind.js';

export interface PublicServer {
  readonly url: string;
  /** Stop accepting; wait up to graceMs for in-flight requests, then cut what is left. */
  close(graceMs: number): Promise<void>;
}

/** What the listener hands each request to. */
export interface RequestHandlers {
  /** Answer one request; a rejected promise or a throw ends in onFailure. */
  request(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): void | Promise<void>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, facts: RequestFacts): void;
  /** The last resort for a request whose handler failed (verdict/fail-safe.ts). */
  onFailure(res: ServerResponse, facts: RequestFacts, err: unknown): void;
  /** An upgrade whose handler failed: logged and counted, the socket cut. */
  onUpgradeFailure(socket: Duplex, facts: RequestFacts, err: unknown): void;
}

/** The HTTP server's own limits (limits.ts): how long a client may take, and how often that is checked. */
export interface ServerTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsCheckingIntervalMs: number;
}

export interface PublicServerOptions {
  readonly listen: ListenAddress;
  readonly trusted: TrustedProxies;
  readonly timeouts: ServerTimeouts;
  readonly listenerFaults?: ListenerFaults | undefined;
}

export async function startPublicServer(options: PublicServerOptions, handlers: RequestHandlers): Promise<PublicServer> {
  let draining = false;
  const { timeouts, listenerFaults } = options;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    let facts: RequestFacts | undefined;
    const answer = guarded(
      'request',
      listenerFaults,
      (err) => handlers.onFailure(res, facts ?? anonymousFacts(req), err),
      () => {
        facts = requestFacts(req, options.trusted);
        if (draining) {
          // Tell keep-alive clients to reconnect elsewhere (another replica) rather than reuse this connection.
          res.setHeader('connection', 'close');
          res.on('finish', () => server.closeIdleConnections());
        }
        const known = facts;
        const answered = handlers.request(req, res, known);
        if (answered) answered.catch((err: unknown) => handlers.onFailure(res, known, err));
      },
    );
    answer();
  };

  // Strict llhttp whatever NODE_OPTIONS says: `--insecure-http-parser` would accept CL with TE,
  // obs-fold and bare LFs, the ambiguities request smuggling lives on (RFC 9112 §11.2; docs/robustness.md).
  const server = createServer(
    {
      insecureHTTPParser: false,
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default): a client dribbling its
      // headers kept its connection 90 s against a 60 s limit. Checked often enough to cut it promptly.
      connectionsCheckingInterval: timeouts.connectionsCheckingIntervalMs,
    },
    onRequest,
  );

  server.on(
    'upgrade',
    guarded(
      'upgrade',
      listenerFaults,
      (err, req: IncomingMessage, socket: Duplex) => handlers.onUpgradeFailure(socket, anonymousFacts(req), err),
      (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const facts = requestFacts(req, options.trusted);
        if (draining) {
          socket.destroy();
          return;
        }
        handlers.upgrade(req, socket, head, facts);
      },
    ),
  );

  const url = await listenOn(server, options.listen.host, options.listen.port);

  return {
    url,
    close(graceMs) {
      draining = true;
      return new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        // A keep-alive connection whose response was in flight turns idle when it finishes; without
        // this it would hold close() until its keep-alive timeout.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        server.close(() => {
          clearTimeout(cut);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
        if (graceMs === 0) server.closeAllConnections();
      });
    },
  };
}

/**
 * The facts of a request whose handler failed before its own facts were taken: a fresh request id,
 * and nothing read from headers (reading them may be what failed).
 */
function anonymousFacts(req: IncomingMessage): RequestFacts {
  const target = typeof req.url === 'string' && req.url.startsWith('/') ? req.url : '/';
  const peer = req.socket?.remoteAddress ?? '';
  return {
    client: { requestId: newRequestId(), forwardedFor: peer, forwardedProto: 'http', forwardedHost: undefined },
    method: req.method ?? 'GET',
    target,
    path: pathOnly(target),
  };
}
