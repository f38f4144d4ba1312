/**
 * The admin port: /metrics, /healthz, /readyz. It is a separate listener (default 127.0.0.1:9464,
 * the OpenTelemetry Prometheus exporter's default port) so nothing operational is reachable through
 * the public port the shop's customers hit.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../listen.js';
import type { PayguardMetrics } from './metrics.js';

export interface AdminOptions {
  readonly host: string;
  /** 0 picks a free port; the returned url says which. */
  readonly port: number;
  readonly metrics: Pick<PayguardMetrics, 'registry'>;
  /** True while a verified policy is in force (the proxy serves nothing otherwise). */
  readonly isReady: () => boolean;
  /** False once the process should be restarted; defaults to always live. */
  readonly isLive?: () => boolean;
}

export interface AdminServer {
  /** e.g. `http://127.0.0.1:9464` */
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminOptions): Promise<AdminServer> {
  const server = createServer((req, res) => {
    answer(options, req, res).catch((err: unknown) => {
      // A failed scrape is an answer (500), never a crash of the process serving the shop.
      if (!res.headersSent) sendText(res, req, 500, `metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  // A scraper that disconnects mid-response must not surface as an unhandled 'error'.
  server.on('clientError', (_err, socket) => socket.destroy());
  const url = await listenOn(server, options.host, options.port);
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Scrapers keep connections alive; without this close() waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

const PATHS = new Set(['/metrics', '/healthz', '/readyz']);

async function answer(options: AdminOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === undefined || !PATHS.has(path)) return sendText(res, req, 404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendText(res, req, 405, 'method not allowed\n');
  }
  if (path === '/healthz') {
    const live = probe(options.isLive ?? (() => true));
    return sendText(res, req, live ? 200 : 503, live ? 'ok\n' : 'not live\n');
  }
  if (path === '/readyz') {
    const ready = probe(options.isReady);
    return sendText(res, req, ready ? 200 : 503, ready ? 'ready\n' : 'not ready: no verified policy in force\n');
  }
  const registry = options.metrics.registry;
  const text = await registry.metrics();
  sendText(res, req, 200, text, registry.contentType);
}

/** A probe that throws answers "no": readiness must fail closed. */
function probe(check: () => boolean): boolean {
  try {
    return check() === true;
  } catch {
    return false;
  }
}

function sendText(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
