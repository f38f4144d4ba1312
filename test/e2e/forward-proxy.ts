/**
 * The forward HTTP proxy Chromium is pointed at (`--proxy-server`). It is the suite's internet:
 * - `shop.test` is forwarded to a target (payguard, or the storefront itself for the run that
 *   proves the attack works without payguard), with the response's raw headers kept as sent
 *   (duplicate Content-Type lines must reach the browser as they left the storefront);
 * - every other host is served here by a virtual host (the gateway, the CDN, the attackers, a
 *   partner), or refused;
 * - every request, to any host, is recorded (host, method, path, body) so a test can see whether
 *   the card number, or anything at all, reached a host outside the policy.
 * One proxy per case run, so parallel runs never share a record.
 */
import http from 'node:http';
import { listenOnLoopback } from '../helpers/upstreams.js';
import { virtualHostResponse } from './virtual-hosts.js';

export interface RecordedRequest {
  /** Lower-case host name without port, as the browser addressed it. */
  readonly host: string;
  readonly method: string;
  /** Path and query as requested. */
  readonly path: string;
  /** The request body as latin1 text (forms are ASCII after URL encoding). */
  readonly body: string;
  /** The status the browser got back (for shop.test: payguard's or the storefront's). */
  status?: number;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT`, for Chromium's proxy setting. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** Requests received whose response has not been sent in full yet. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus the proxy ones Chromium adds; never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const MAX_BODY_BYTES = 1 << 20;

/** Start a forward proxy on 127.0.0.1 that sends `shopHost` requests to `shopTarget` (`http://127.0.0.1:PORT`). */
export async function startForwardProxy(shopHost: string, shopTarget: string): Promise<ForwardProxy> {
  const requests: RecordedRequest[] = [];
  const target = new URL(shopTarget);
  const agent = new http.Agent({ keepAlive: false });

  let inFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    res.on('close', () => inFlight--);
    void collectBody(req).then((body) => {
      const url = absoluteUrl(req);
      if (!url) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('forward proxy: absolute URL expected\n');
        return;
      }
      const record: RecordedRequest = {
        host: url.hostname.toLowerCase(),
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        body: body.toString('latin1'),
      };
      requests.push(record);
      res.on('finish', () => (record.status = res.statusCode));
      if (record.host === shopHost) forwardToShop(req, res, body, url, target, agent);
      else serveVirtualHost(record, res);
    });
  });
  // Chromium may try CONNECT for an https:// URL: record it and refuse (every origin here is http).
  server.on('connect', (req: http.IncomingMessage, socket) => {
    const host = (req.url ?? '').split(':')[0]?.toLowerCase() ?? '';
    requests.push({ host, method: 'CONNECT', path: req.url ?? '', body: '', status: 405 });
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
  });

  const url = await listenOnLoopback(server);
  return {
    url,
    requests,
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function absoluteUrl(req: http.IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '');
  } catch {
    return undefined;
  }
}

async function collectBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function forwardToShop(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
  url: URL,
  target: URL,
  agent: http.Agent,
): void {
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, req.rawHeaders[i + 1] as string]);
  }
  const upstream = http.request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: url.pathname + url.search,
    headers: headers.flat(),
    agent,
  });
  upstream.on('response', (up) => {
    const raw: string[] = [];
    for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
      const name = up.rawHeaders[i] as string;
      if (!HOP_BY_HOP.has(name.toLowerCase())) raw.push(name, up.rawHeaders[i + 1] as string);
    }
    // A flat [name, value, name, value…] array keeps duplicate lines (Node merges or drops them otherwise).
    res.writeHead(up.statusCode ?? 502, up.statusMessage, raw);
    up.pipe(res);
  });
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' });
    res.end(`forward proxy: shop target failed: ${error.message}\n`);
  });
  upstream.end(body);
}

function serveVirtualHost(record: RecordedRequest, res: http.ServerResponse): void {
  const answer = virtualHostResponse(record.host, record.method, record.path, record.body);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
