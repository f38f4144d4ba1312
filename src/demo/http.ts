/**
 * The little HTTP plumbing the demo's three sites share. The demo sites are teaching props, not
 * products, but they follow the same manners as payguard: bounded bodies, no card data kept.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { listenOn, type ListenAddress } from '../listen.js';
import { UsageError } from '../errors.js';

export interface RunningSite {
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a site; rejects with the listen error (EADDRINUSE…) so the caller can say what is wrong. */
export async function startSite(listen: ListenAddress, handler: RequestListener): Promise<RunningSite> {
  const server = createServer((req, res) => {
    try {
      handler(req, res);
    } catch (err) {
      // A bug in a demo page answers 500; it never takes the demo process down.
      if (!res.headersSent) sendHtml(res, 500, `<!doctype html><title>error</title><p>demo site error: ${escapeHtml(String(err))}`);
      else res.destroy();
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const url = await listenOn(server, listen.host, listen.port);
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}


export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendStatus(res: ServerResponse, status: number, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** Form bodies are small; anything bigger is not a demo form and is cut off. */
const MAX_FORM_BYTES = 16 * 1024;

/** Reads an urlencoded body (the only kind the demo forms and skimmer send). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) break;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An http(s) origin given on the command line, serialised as the WHATWG URL parser does. */
export function parseOrigin(value: string, flag: string): string {
  if (!URL.canParse(value)) throw new UsageError(`${flag} must be an http(s) URL such as http://127.0.0.1:3001, got "${value}"`);
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http(s) URL, got "${value}"`);
  }
  return url.origin;
}
