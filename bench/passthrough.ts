/**
 * The baseline every ratio divides by: a plain http-proxy-3 pass-through, the same library
 * payguard forwards with, set up as the research (B.5) says it must be (a keep-alive agent, an
 * error listener) and doing no inspection at all.
 *
 *   node dist/bench/passthrough.js http://127.0.0.1:UPSTREAM_PORT
 */
import { Agent, createServer } from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { announceListening, isMainModule } from './child.js';

export function createPassthrough(upstream: URL) {
  // http-proxy's default is `agent: false`, a new upstream connection per request with
  // `connection: close`: 2-4 s p50 at 50 connections (node-http-proxy #929, #1058).
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512 });
  const proxy = createProxyServer({ target: upstream.href, agent, xfwd: true });
  proxy.on('error', (_err, _req, res) => {
    // `res` is a ServerResponse for web requests (a Socket only for WebSocket upgrades).
    if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    else res.destroy();
  });
  const server = createServer((req, res) => proxy.web(req, res));
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  return server;
}

if (isMainModule(import.meta.url)) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write('usage: node dist/bench/passthrough.js UPSTREAM_URL\n');
    process.exit(2);
  }
  const server = createPassthrough(new URL(target));
  server.listen(0, '127.0.0.1', () => announceListening(server));
}
