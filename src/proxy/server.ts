/**
 * The public listener: every request is identified, then goes to payguard's reserved paths, the
 * document path or the pass-through path; WebSocket upgrades go through. Also the drain on SIGTERM.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../listen.js';
import type { Duplex } from 'node:stream';
import type { ProxyContext, RequestFacts } from './context.js';
import { failSafe, serveDocument } from './document-path.js';
import { identify } from './forwarded.js';
import type { ListenAddress } from './options.js';
import { mayReceiveDocument, pathOnly, requestTarget } from './request-kind.js';
import { createReservedHandlers, isReservedPath, serveReserved } from './reserved.js';
import { pinnedScriptFor, servePinnedScript } from './script-pinning.js';
import type { SubresourceProxy } from './subresource-path.js';

export interface PublicServer {
  readonly url: string;
  /** Stop accepting; wait up to graceMs for in-flight requests, then cut what is left. */
  close(graceMs: number): Promise<void>;
}

export async function startPublicServer(ctx: ProxyContext, subresources: SubresourceProxy, listen: ListenAddress): Promise<PublicServer> {
  const reserved = createReservedHandlers();
  let draining = false;

  // Strict llhttp whatever NODE_OPTIONS says: `--insecure-http-parser` would accept CL with TE,
  // obs-fold and bare LFs, the ambiguities request smuggling lives on (RFC 9112 §11.2; docs/robustness.md).
  const server = createServer({ insecureHTTPParser: false }, (req, res) => {
    const facts = factsOf(ctx, req);
    const headOnly = req.method === 'HEAD';
    if (draining) {
      // Tell keep-alive clients to reconnect elsewhere (another replica) rather than reuse this connection.
      res.setHeader('connection', 'close');
      res.on('finish', () => server.closeIdleConnections());
    }
    try {
      // A pinned script (or a service worker's) is verified before it is served, whatever Sec-Fetch-Dest says.
      const pin = pinnedScriptFor(ctx.policy.current().policy, req, facts.target);
      if (isReservedPath(facts.path)) serveReserved(reserved, ctx, req, res, facts);
      else if (pin) servePinnedScript(ctx, req, res, facts, pin).catch((err: unknown) => failSafe(ctx, res, facts, err, headOnly));
      else if (mayReceiveDocument(req)) serveDocument(ctx, req, res, facts).catch((err: unknown) => failSafe(ctx, res, facts, err, headOnly));
      else subresources.web(req, res, facts);
    } catch (err) {
      failSafe(ctx, res, facts, err, headOnly);
    }
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const facts = factsOf(ctx, req);
    if (draining || isReservedPath(facts.path)) {
      socket.destroy();
      return;
    }
    subresources.ws(req, socket, head, facts);
  });

  const url = await listenOn(server, listen.host, listen.port);

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

function factsOf(ctx: ProxyContext, req: IncomingMessage): RequestFacts {
  const target = requestTarget(req);
  return { client: identify(req, ctx.trusted), method: req.method ?? 'GET', target, path: pathOnly(target) };
}

export type { ServerResponse };
