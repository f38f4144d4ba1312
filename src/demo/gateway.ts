/**
 * The demo payment gateway: the card form's legitimate target. It answers "payment accepted"
 * and discards the card fields unread: it never stores, logs or echoes card data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, readForm, sendHtml, startSite, type RunningSite } from './http.js';
import type { ListenAddress } from '../listen.js';
import { GATEWAY_BRAND, layout } from './layout.js';

export interface GatewayOptions {
  readonly listen: ListenAddress;
}

export function startGateway(options: GatewayOptions): Promise<RunningSite> {
  return startSite(options.listen, (req, res) => {
    void answer(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendHtml(res, 500, layout(GATEWAY_BRAND, 'Error', `<p>${escapeHtml(String(err))}</p>`));
    });
  });
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway.invalid');
  if (url.pathname === '/pay' && (req.method === 'GET' || req.method === 'HEAD')) {
    return sendHtml(res, 200, hostedPaymentPage(GATEWAY_BRAND, '/pay', amountOf(url.searchParams)));
  }
  if (url.pathname === '/pay' && req.method === 'POST') {
    const form = await readForm(req);
    return sendHtml(res, 200, acceptedPage(amountOf(form), returnTo(form)));
  }
  if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    return sendHtml(res, 200, layout(GATEWAY_BRAND, 'Gateway', '<h1>PayGate</h1><p>The demo payment gateway. Shops post card forms to <code>/pay</code>.</p>'));
  }
  sendHtml(res, 404, layout(GATEWAY_BRAND, 'Not found', '<h1>Not found</h1>'));
}

/**
 * The gateway's own card page. The attacker serves the very same markup with its own action:
 * a look-alike only works because nothing on the page itself differs.
 */
export function hostedPaymentPage(brand: typeof GATEWAY_BRAND, action: string, amount: string, notice = ''): string {
  return layout(
    brand,
    'Secure payment',
    `<h1>Secure payment</h1>
${notice}<p>Amount due: <strong>${yen(amount)}</strong></p>
<form method="post" action="${escapeHtml(action)}" data-card-form>
<input type="hidden" name="amount" value="${escapeHtml(amount)}">
<label for="card">Card number</label><input id="card" name="card" autocomplete="cc-number" inputmode="numeric">
<label for="exp">Expiry (MM/YY)</label><input id="exp" name="exp" autocomplete="cc-exp">
<label for="cvc">Security code</label><input id="cvc" name="cvc" autocomplete="cc-csc" inputmode="numeric">
<button type="submit">Pay</button>
</form>`,
  );
}

function acceptedPage(amount: string, back: string | undefined): string {
  const link = back ? `<p><a href="${escapeHtml(back)}">Return to the shop</a></p>` : '';
  return layout(
    GATEWAY_BRAND,
    'Payment accepted',
    `<h1>Payment accepted</h1>
<p>${yen(amount)} was charged. (Demo gateway: nothing was charged, and the card number was discarded without being stored.)</p>
${link}`,
  );
}

/** The amount in yen as digits, or "" when absent or malformed. */
export function amountOf(params: URLSearchParams): string {
  const amount = params.get('amount') ?? '';
  return /^\d{1,9}$/.test(amount) ? amount : '';
}

function yen(amount: string): string {
  return amount === '' ? '—' : `¥${Number(amount).toLocaleString('en')}`;
}

/** Only an http(s) URL is offered as the way back; anything else is dropped. */
function returnTo(form: URLSearchParams): string | undefined {
  const value = form.get('return_to');
  if (!value || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}
