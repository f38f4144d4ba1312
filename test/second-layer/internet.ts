/**
 * The network Chromium sees in the second-layer tests, as an HTTP forward proxy on 127.0.0.1:
 * - `shop.localhost` is forwarded to payguard, raw headers kept (two CSP lines stay two lines);
 * - `gateway.localhost` serves the gateway's tokenizer (genuine or modified) with CORS, as a CDN
 *   serving SRI-pinned scripts must;
 * - `evil.localhost` is the attacker: it answers everything and records what reached it.
 * `*.localhost` names are potentially trustworthy origins (Secure Contexts §3.1), so the Reporting
 * API delivers to them over plain http, and they never leave the machine.
 */
import http from 'node:http';
import { listenOnLoopback } from '../helpers/upstreams.js';
import { TOKENIZER_JS } from './world.js';

export const SITE = 'http://shop.localhost';
export const GATEWAY = 'http://gateway.localhost';
export const ATTACKER = 'http://evil.localhost';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

export interface Internet {
  /** For Chromium's proxy setting. */
  readonly proxyUrl: string;
  /** What reached the attacker. */
  readonly attacker: Received[];
  /** The gateway's tokenizer as the gateway's CDN serves it now. */
  tokenizer: Buffer;
  close(): Promise<void>;
}

export async function startInternet(payguardUrl: string): Promise<Internet> {
  const payguard = new URL(payguardUrl);
  const internet: Internet = { proxyUrl: '', attacker: [], tokenizer: TOKENIZER_JS, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', `http://${req.headers.host ?? 'unknown'}`);
    if (target.hostname === 'shop.localhost') return forward(req, res, payguard, target);
    if (target.hostname === 'gateway.localhost') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*', 'cache-control': 'no-store' });
      res.end(internet.tokenizer);
      return;
    }
    if (target.hostname === 'evil.localhost') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        internet.attacker.push({ method: req.method ?? '', path: target.pathname + target.search, body: Buffer.concat(chunks).toString('latin1') });
        res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
        res.end('ok');
      });
      return;
    }
    req.resume();
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('no such host in the test network');
  });
  const proxyUrl = await listenOnLoopback(server);
  return Object.assign(internet, {
    proxyUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** Proxy-only request headers Chromium adds; never sent on. */
const PROXY_HEADERS = new Set(['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive']);

function forward(req: http.IncomingMessage, res: http.ServerResponse, payguard: URL, target: URL): void {
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (!PROXY_HEADERS.has(req.rawHeaders[i]!.toLowerCase())) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  }
  const upstream = http.request(
    { host: payguard.hostname, port: payguard.port, method: req.method, path: target.pathname + target.search, headers: headers.flat() as unknown as http.OutgoingHttpHeaders },
    (answer) => {
      // Raw headers, so repeated lines (two Content-Security-Policy headers) reach the browser as sent.
      const raw = answer.rawHeaders.filter((_, i, all) => !['connection', 'keep-alive', 'transfer-encoding'].includes((i % 2 === 0 ? all[i] : all[i - 1])!.toLowerCase()));
      res.writeHead(answer.statusCode ?? 502, raw);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}
