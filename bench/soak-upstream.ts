/**
 * The soak's storefront (bench/soak.ts): a child process on a fixed port, so the soak can stop it
 * and start it again on the same address while payguard keeps running. Every response says what
 * payguard must do with it (`x-soak-expect`) and the SHA-256 of the bytes it sent, so a client can
 * check the verdict and that a clean page arrived byte for byte.
 *
 *   node dist/bench/soak-upstream.js --port N
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { announceListening, isMainModule } from './child.js';
import { imageAsset, scriptAsset, styleAsset } from './pages/assets.js';
import { checkoutPage, FIXED_CHECKOUT, randomCart, type CheckoutContent } from './pages/checkout.js';
import { seededRandom } from './pages/random.js';

/** What payguard must do with a response: serve it unchanged, block it, or pass it through. */
export type SoakExpectation = 'clean' | 'blocked' | 'passed';

export const EXPECT_HEADER = 'x-soak-expect';
export const SHA256_HEADER = 'x-soak-sha256';

/** The routes of the soak storefront and the verdict each must get. */
export const SOAK_ROUTES = {
  uniqueClean: '/checkout/clean',
  repeatedClean: '/checkout/repeated',
  tampered: '/checkout/tampered',
  script: '/assets/shop.js',
  style: '/assets/shop.css',
  image: '/assets/hero.png',
} as const;

const HTML = 'text/html; charset=utf-8';
const ASSETS = new Map<string, { type: string; bytes: Buffer }>([
  [SOAK_ROUTES.script, { type: 'text/javascript; charset=utf-8', bytes: scriptAsset() }],
  [SOAK_ROUTES.style, { type: 'text/css; charset=utf-8', bytes: styleAsset() }],
  [SOAK_ROUTES.image, { type: 'image/png', bytes: imageAsset() }],
]);
const REPEATED = Buffer.from(checkoutPage(FIXED_CHECKOUT));

function uniqueContent(sequence: number): CheckoutContent {
  return { csrfToken: randomBytes(16).toString('hex'), orderId: `ORD-SOAK-${sequence}`, cart: randomCart(seededRandom(sequence)) };
}

function send(req: IncomingMessage, res: ServerResponse, type: string, identity: Buffer, expect: SoakExpectation): void {
  // The bench client sends exactly "gzip" or nothing (RFC 9110 §12.5.3 q-values are not needed here).
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? gzipSync(identity, { level: 1 }) : identity;
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    vary: 'Accept-Encoding',
    [EXPECT_HEADER]: expect,
    // Of the content before any coding: payguard may send a protected page decoded (with the
    // navigation guard inserted), and the checker compares content, not its transfer coding.
    [SHA256_HEADER]: createHash('sha256').update(identity).digest('hex'),
  });
  res.end(body);
}

export function createSoakUpstream(): Server {
  let sequence = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const asset = ASSETS.get(path);
    if (asset) return send(req, res, asset.type, asset.bytes, 'passed');
    if (path === SOAK_ROUTES.repeatedClean) return send(req, res, HTML, REPEATED, 'clean');
    if (path.startsWith(SOAK_ROUTES.uniqueClean)) return send(req, res, HTML, Buffer.from(checkoutPage(uniqueContent(++sequence))), 'clean');
    if (path.startsWith(SOAK_ROUTES.tampered)) {
      // The 2019 shape: the card form posts to a look-alike host.
      const page = checkoutPage(uniqueContent(++sequence), { foreignFormAction: true, foreignScript: false });
      return send(req, res, HTML, Buffer.from(page), 'blocked');
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const server = createSoakUpstream();
  server.listen(Number(values.port), '127.0.0.1', () => announceListening(server));
}
