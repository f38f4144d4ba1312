/**
 * The storefront the bench measures against: a child process of its own, so its CPU never
 * counts against the proxy being measured. Prints one JSON line `{"port":N}` on stdout when it
 * listens on 127.0.0.1.
 *
 *   node dist/bench/upstream.js
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { imageAsset, scriptAsset, styleAsset } from './pages/assets.js';
import { categoryPage } from './pages/catalog.js';
import { checkoutPage, FIXED_CHECKOUT, randomCart, type CheckoutContent } from './pages/checkout.js';
import { seededRandom } from './pages/random.js';
import { isMainModule, announceListening } from './child.js';

const gzipAsync = promisify(gzip);

/** nginx's default `gzip_comp_level 1`: what most storefronts send. */
const GZIP_OPTIONS = { level: 1 };

/** Origins commonly write in 16 KiB pieces (nginx's default output buffer is 2 × 16k), so the proxy sees several chunks per page. */
const WRITE_PIECE_BYTES = 16 * 1024;

const HTML = 'text/html; charset=utf-8';

interface FixedBody {
  readonly contentType: string;
  readonly identity: Buffer;
  readonly gzip?: Buffer;
}

function fixedHtml(html: string): FixedBody {
  const identity = Buffer.from(html);
  return { contentType: HTML, identity, gzip: gzipSync(identity, GZIP_OPTIONS) };
}

function fixedBodies(): Map<string, FixedBody> {
  return new Map<string, FixedBody>([
    ['/checkout/repeated', fixedHtml(checkoutPage(FIXED_CHECKOUT))],
    ['/checkout/tampered', fixedHtml(checkoutPage(FIXED_CHECKOUT, { foreignFormAction: true, foreignScript: true }))],
    ['/c/teaware-10k', fixedHtml(categoryPage(10 * 1024))],
    ['/c/teaware-1m', fixedHtml(categoryPage(1024 * 1024))],
    ['/assets/shop.js', { contentType: 'text/javascript; charset=utf-8', identity: scriptAsset() }],
    ['/assets/shop.css', { contentType: 'text/css; charset=utf-8', identity: styleAsset() }],
    ['/assets/hero.png', { contentType: 'image/png', identity: imageAsset() }],
  ]);
}

/** A checkout as a real shop serves it: a fresh CSRF token and the visitor's own cart. */
function uniqueCheckout(sequence: number): string {
  const content: CheckoutContent = {
    csrfToken: randomBytes(16).toString('hex'),
    orderId: `ORD-2026-${String(sequence).padStart(9, '0')}`,
    cart: randomCart(seededRandom(sequence)),
  };
  return checkoutPage(content);
}

function acceptsGzip(req: IncomingMessage): boolean {
  // RFC 9110 §12.5.3; the bench client sends exactly "gzip" or nothing, so no q-value parsing.
  return /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
}

function send(res: ServerResponse, contentType: string, body: Buffer, encoding: 'gzip' | 'identity'): void {
  res.statusCode = 200;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', body.length);
  res.setHeader('vary', 'Accept-Encoding');
  if (encoding === 'gzip') res.setHeader('content-encoding', 'gzip');
  res.setHeader('cache-control', contentType === HTML ? 'no-store' : 'public, max-age=31536000, immutable');
  for (let offset = 0; offset < body.length; offset += WRITE_PIECE_BYTES) {
    res.write(body.subarray(offset, offset + WRITE_PIECE_BYTES));
  }
  res.end();
}

export function createUpstreamServer(): Server {
  const fixed = fixedBodies();
  let sequence = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const wantsGzip = acceptsGzip(req);
    const body = fixed.get(path);
    if (body) {
      if (wantsGzip && body.gzip) send(res, body.contentType, body.gzip, 'gzip');
      else send(res, body.contentType, body.identity, 'identity');
      return;
    }
    if (path === '/checkout/unique') {
      sequence += 1;
      const identity = Buffer.from(uniqueCheckout(sequence));
      if (!wantsGzip) return send(res, HTML, identity, 'identity');
      gzipAsync(identity, GZIP_OPTIONS).then(
        (compressed) => send(res, HTML, compressed, 'gzip'),
        (err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  });
  // Proxies keep idle upstream sockets between rows; a short server-side idle timeout would race
  // with their reuse (ECONNRESET on a socket the server just closed).
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}


if (isMainModule(import.meta.url)) {
  const server = createUpstreamServer();
  server.listen(0, '127.0.0.1', () => announceListening(server));
}
