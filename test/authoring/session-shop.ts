/**
 * A storefront with sessions, for the inventory's learning run (issue 18 item 4): the checkout
 * exists only with items in the cart (an empty cart redirects to /cart, as EverShop and Magento
 * do), adding to the cart needs the form key of the product page, and the checkout's inline code
 * carries per-session (form key, cart) and per-request (time, order number) values. The page is
 * fixtures/session-shop/checkout.html with its {{placeholders}} filled.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../helpers/upstreams.js';

/** Where shoppers reach the shop (payguard's policy site); its pages name their images there. */
export const PUBLIC_SITE = 'https://shop.example';

const CHECKOUT = readFileSync(new URL('./fixtures/session-shop/checkout.html', import.meta.url), 'utf8');

interface Cart {
  readonly formKey: string;
  /** Per session, as Magento's quote id or EverShop's cart id. */
  readonly cartId: string;
  readonly items: { sku: string; name: string; qty: number; image: string }[];
}

export interface SessionShop {
  readonly origin: string;
  /** A fresh checkout rendering of a new session with `items` rows, as the shop serves it. */
  render(items: number): string;
  close(): Promise<void>;
}

export async function startSessionShop(): Promise<SessionShop> {
  const sessions = new Map<string, Cart>();
  let origin = '';
  const checkout = (cart: Cart): string => {
    const values: Record<string, string> = {
      form_key: cart.formKey,
      time: String(Math.floor(Date.now() / 1000) + Math.floor(Math.random() * 1000)),
      cart: JSON.stringify({ cartId: cart.cartId, items: cart.items }).replace(/</g, '\\u003C'),
      order: String(100000 + Math.floor(Math.random() * 900000)),
    };
    return CHECKOUT.replace(/\{\{(\w+)\}\}/g, (_, name: string) => values[name]!);
  };
  const session = (req: IncomingMessage, res: ServerResponse): Cart => {
    const sid = /(?:^|;\s*)sid=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
    const known = sid ? sessions.get(sid) : undefined;
    if (known) return known;
    const fresh = randomBytes(8).toString('hex');
    const cart: Cart = { formKey: randomBytes(8).toString('hex'), cartId: randomBytes(6).toString('base64url'), items: [] };
    sessions.set(fresh, cart);
    res.setHeader('set-cookie', `sid=${fresh}; Path=/; HttpOnly`);
    return cart;
  };
  const server: Server = createServer((req, res) => {
    const cart = session(req, res);
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(body);
    };
    if (req.method === 'POST' && req.url === '/api/carts') {
      // A JSON cart API, as EverShop's and Magento's: the cart id comes back in the answer, and
      // adding to it needs that id in the path and the page's CSRF token in a header.
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { cartId: cart.cartId, items: cart.items.length } }));
    } else if (req.method === 'POST' && req.url === `/api/carts/${encodeURIComponent(cart.cartId)}/items`) {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        const item = JSON.parse(body) as { sku?: unknown; qty?: unknown };
        if (req.headers['x-csrf-token'] !== cart.formKey || typeof item.sku !== 'string' || typeof item.qty !== 'number') {
          res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"bad token or item"}');
          return;
        }
        cart.items.push({ sku: item.sku, name: `Tee "${cart.items.length + 1}"`, qty: item.qty, image: `${PUBLIC_SITE}/media/tee.jpg` });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { cartId: cart.cartId, qty: item.qty } }));
      });
    } else if (req.method === 'GET' && req.url === '/product/tee') {
      html(`<!DOCTYPE html><meta name=csrf-token content="${cart.formKey}"><form method=post action=/cart/add><input type=hidden name=form_key value="${cart.formKey}"><input name=sku value=TEE-1><button>Add</button></form>`);
    } else if (req.method === 'POST' && req.url === '/cart/add') {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        if (form.get('form_key') !== cart.formKey) {
          res.writeHead(403).end('bad form key');
          return;
        }
        cart.items.push({ sku: form.get('sku') ?? 'TEE-1', name: `Tee "${cart.items.length + 1}"`, qty: 1, image: `${PUBLIC_SITE}/media/tee.jpg` });
        res.writeHead(302, { location: '/checkout' }).end();
      });
    } else if (req.method === 'GET' && req.url === '/checkout') {
      if (cart.items.length === 0) res.writeHead(302, { location: '/cart' }).end();
      else html(checkout(cart));
    } else if (req.method === 'GET' && req.url === '/cart') {
      html('<!DOCTYPE html><p>Your cart is empty</p>');
    } else {
      res.writeHead(404).end();
    }
  });
  origin = await listenOnLoopback(server);
  return {
    origin,
    render: (items) => checkout({ formKey: randomBytes(8).toString('hex'), cartId: randomBytes(6).toString('base64url'), items: Array.from({ length: items }, (_, i) => ({ sku: `SKU-${i}`, name: `Item ${i} </b>`, qty: 1 + i, image: `${PUBLIC_SITE}/media/${i}.jpg` })) }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
