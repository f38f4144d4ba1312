/**
 * A static HTTP server on 127.0.0.1 (port 0) that serves exact bytes with exact headers,
 * duplicates and odd values included, so a browser sees what a test hands the verifier.
 * It records the method and path of every request (never bodies or query values).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticResponse {
  readonly status?: number;
  /** Sent in this order, one header line per pair (so duplicate Content-Type lines stay duplicates). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

export interface ServedRequest {
  readonly method: string;
  /** Path without the query string (query values may hold card data in a real submission). */
  readonly path: string;
}

export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Every request received so far, in order. */
  readonly requests: readonly ServedRequest[];
  /** Serve `response` at `path` (exact match on the path, query ignored). */
  set(path: string, response: StaticResponse): void;
  close(): Promise<void>;
}

/** What a path nobody set answers: an empty page, so a form submission or a self frame lands somewhere. */
const EMPTY_PAGE: StaticResponse = {
  status: 404,
  headers: [['content-type', 'text/html; charset=utf-8']],
  body: new Uint8Array(0),
};

export async function startStaticServer(initial: Iterable<[string, StaticResponse]> = []): Promise<StaticServer> {
  const routes = new Map<string, StaticResponse>(initial);
  const requests: ServedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = pathOf(req);
    requests.push({ method: req.method ?? 'GET', path });
    // Drain any request body without looking at it: a submitted form may carry card fields.
    req.resume();
    req.on('end', () => send(res, routes.get(path) ?? EMPTY_PAGE, req.method === 'HEAD'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    set: (path, response) => void routes.set(path, response),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return q < 0 ? raw : raw.slice(0, q);
}

function send(res: ServerResponse, response: StaticResponse, headOnly: boolean): void {
  // A flat [name, value, name, value…] list is written as given: Node neither merges nor reorders it.
  const flat: string[] = [];
  for (const [name, value] of response.headers) flat.push(name, value);
  flat.push('content-length', String(response.body.byteLength));
  res.writeHead(response.status ?? 200, flat);
  res.end(headOnly ? undefined : response.body);
}
