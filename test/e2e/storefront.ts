/**
 * The tampered storefront: serves each case's pages with the exact status, headers and content
 * codings the case asks for (duplicate Content-Type lines, no Content-Type, gzip, br, stacked
 * codings, Shift_JIS bytes, 302s, Refresh, Link), plus the shop's own pages every case may use
 * (first-party script, cart, login, search, order). Pages are read from test/e2e/cases/ as bytes,
 * so a Shift_JIS or UTF-16 file is served exactly as it sits on disk.
 * Opening test/e2e/cases/<id>.html directly in a browser shows every attack that lives in the markup;
 * the header-borne ones (302, Refresh, Link, duplicate Content-Type) are in the case table.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { listenOnLoopback } from '../helpers/upstreams.js';

export const CASES_DIR = fileURLToPath(new URL('./cases/', import.meta.url));

/** One response of the storefront, as a case describes it. */
export interface StorefrontResponse {
  /** The body, a file under test/e2e/cases/ served byte for byte. No file: empty body. */
  readonly file?: string;
  readonly status?: number;
  /** Raw header lines in order; duplicates allowed (a case may send two Content-Type lines). */
  readonly headers?: readonly (readonly [string, string])[];
  /**
   * The Content-Type line when `headers` has none: default `text/html; charset=utf-8`;
   * null sends no Content-Type at all (the browser sniffs).
   */
  readonly contentType?: string | null;
  /** Content codings applied to the body in this order, listed in one Content-Encoding line. */
  readonly encoding?: readonly ('gzip' | 'br')[];
  /** Replace `{{card}}` in the body by the `cardnumber` field of the POSTed form (a tampered confirm page). */
  readonly echoCard?: boolean;
}

export interface Storefront {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

const HTML_UTF8 = 'text/html; charset=utf-8';

/** The shop's own pages, the same in every case. */
const SHOP_PAGES: Readonly<Record<string, StorefrontResponse>> = {
  '/js/shop.js': { file: '_shop.js', contentType: 'text/javascript; charset=utf-8' },
  '/cart': { file: '_done.html' },
  '/login': { file: '_done.html' },
  '/search': { file: '_done.html' },
  '/order': { file: '_done.html' },
  '/favicon.ico': { status: 204, contentType: 'image/x-icon' },
};

/** Start the storefront on 127.0.0.1 (port 0) serving `pages` (path → response) and the shop's own pages. */
export async function startStorefront(pages: ReadonlyMap<string, StorefrontResponse>): Promise<Storefront> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const spec = pages.get(path) ?? SHOP_PAGES[path];
      if (!spec) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const body = bodyOf(spec, Buffer.concat(chunks).toString('latin1'));
      res.writeHead(spec.status ?? 200, headerLines(spec, body));
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function bodyOf(spec: StorefrontResponse, requestBody: string): Buffer {
  let body = spec.file ? readFileSync(CASES_DIR + spec.file) : Buffer.alloc(0);
  if (spec.echoCard) {
    const card = new URLSearchParams(requestBody).get('cardnumber') ?? '';
    body = Buffer.from(body.toString('latin1').replaceAll('{{card}}', card.replace(/\D/g, '')), 'latin1');
  }
  for (const coding of spec.encoding ?? []) {
    body = coding === 'gzip' ? zlib.gzipSync(body) : zlib.brotliCompressSync(body);
  }
  return body;
}

/** A flat [name, value, …] list: Node keeps duplicate lines only in this form. */
function headerLines(spec: StorefrontResponse, body: Buffer): string[] {
  const lines: string[] = [];
  const given = spec.headers ?? [];
  const hasContentType = given.some(([name]) => name.toLowerCase() === 'content-type');
  const contentType = spec.contentType === undefined ? HTML_UTF8 : spec.contentType;
  if (!hasContentType && contentType !== null) lines.push('Content-Type', contentType);
  for (const [name, value] of given) lines.push(name, value);
  // RFC 9110 §8.4: codings are listed in the order they were applied.
  if (spec.encoding?.length) lines.push('Content-Encoding', spec.encoding.join(', '));
  lines.push('Content-Length', String(body.length), 'Cache-Control', 'no-store');
  return lines;
}
