/**
 * The checkout page: the page the 2019 incident altered. Order summary, shipping address form,
 * card form posting to the payment gateway, the gateway's hosted 3-D Secure frame, and
 * recommendations padding it to a realistic size (about 100 KB, as real checkout pages are).
 */
import { GATEWAY_FORM, LOOKALIKE_FORM, SITE, SKIMMER_SCRIPT } from './origins.js';
import { documentHead, escapeText, productCardsUpTo, productName, siteFooter, siteHeader, yen } from './parts.js';
import { integerBetween, seededRandom, type Random } from './random.js';

export interface CartLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceYen: number;
}

export interface CheckoutContent {
  /** Changes on every request on a real shop (a per-session or per-form token). */
  readonly csrfToken: string;
  readonly orderId: string;
  readonly cart: readonly CartLine[];
}

/**
 * What an attacker who owns the storefront changes: the card form's action to a look-alike
 * host, and a skimmer script from a foreign host. A rewrite-mode policy must neutralise both.
 */
export interface Tampering {
  readonly foreignFormAction: boolean;
  readonly foreignScript: boolean;
}

export const NOT_TAMPERED: Tampering = { foreignFormAction: false, foreignScript: false };

export const CHECKOUT_BYTES = 100 * 1024;

/** A cart of 1–12 lines drawn from `random`. */
export function randomCart(random: Random): CartLine[] {
  const lines = integerBetween(random, 1, 12);
  return Array.from({ length: lines }, (_, i) => ({
    sku: `SKU-${integerBetween(random, 100000, 999999)}`,
    name: productName(random),
    quantity: integerBetween(random, 1, 4),
    unitPriceYen: integerBetween(random, 8, 240) * 50 + i,
  }));
}

/** The content every "repeated" request gets: same token, same cart, same bytes. */
export const FIXED_CHECKOUT: CheckoutContent = {
  csrfToken: 'b7f3c1e0a9d24c6f8e5a1b2c3d4e5f60',
  orderId: 'ORD-2026-000417',
  cart: randomCart(seededRandom(417)),
};

export function checkoutPage(content: CheckoutContent, tampering: Tampering = NOT_TAMPERED, targetBytes = CHECKOUT_BYTES): string {
  const totalYen = content.cart.reduce((sum, line) => sum + line.quantity * line.unitPriceYen, 0);
  const top =
    documentHead({ title: 'ご注文手続き | Checkout | Shop Example', jsonLd: orderJsonLd(content, totalYen), csrfToken: content.csrfToken }) +
    siteHeader() +
    `    <main id="checkout">
      <ol class="breadcrumbs"><li><a href="/cart">Cart</a></li><li aria-current="step">Checkout</li><li>Confirmation</li></ol>
${orderSummary(content.cart, totalYen)}${addressForm(content.csrfToken)}${paymentForm(content, totalYen, tampering)}      <section class="recommendations">
        <h2>Customers also bought</h2>
        <ul class="product-grid">
`;
  const bottom =
    `        </ul>
      </section>
    </main>
` +
    (tampering.foreignScript ? `    <script src="${SKIMMER_SCRIPT}/collect.js"></script>\n` : '') +
    siteFooter();
  const padding = productCardsUpTo(targetBytes, Buffer.byteLength(top) + Buffer.byteLength(bottom), targetBytes);
  return top + padding + bottom;
}

function orderJsonLd(content: CheckoutContent, totalYen: number): unknown {
  return {
    '@context': 'https://schema.org',
    '@type': 'Order',
    orderNumber: content.orderId,
    orderStatus: 'https://schema.org/OrderProcessing',
    seller: { '@type': 'Organization', name: 'Shop Example K.K.', url: SITE },
    priceCurrency: 'JPY',
    price: totalYen,
    orderedItem: content.cart.map((line) => ({
      '@type': 'OrderItem',
      orderQuantity: line.quantity,
      orderedItem: { '@type': 'Product', sku: line.sku, name: line.name, url: `${SITE}/p/${line.sku.toLowerCase()}` },
    })),
  };
}

function orderSummary(cart: readonly CartLine[], totalYen: number): string {
  const rows = cart
    .map(
      (line) => `          <tr data-sku="${line.sku}">
            <td><img src="https://cdn.shop.example/img/p/${line.sku}.jpg" alt="" width="64" height="64"></td>
            <td><a href="/p/${line.sku.toLowerCase()}">${escapeText(line.name)}</a></td>
            <td><input form="address" name="qty[${line.sku}]" type="number" min="0" max="9" value="${line.quantity}" aria-label="Quantity"></td>
            <td class="price">${yen(line.quantity * line.unitPriceYen)}</td>
          </tr>
`,
    )
    .join('');
  return `      <section class="order-summary">
        <h2>ご注文内容 / Your order</h2>
        <table>
          <thead><tr><th></th><th>Item</th><th>Qty</th><th>Price</th></tr></thead>
          <tbody>
${rows}          </tbody>
          <tfoot><tr><th colspan="3">合計 (税込)</th><td class="price">${yen(totalYen)}</td></tr></tfoot>
        </table>
      </section>
`;
}

const COUNTRIES = Array.from({ length: 240 }, (_, i) => `Country ${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26) + 1}`);
const PREFECTURES = [
  '北海道', '青森県', '岩手県', '宮城県', '秋田県', '山形県', '福島県', '茨城県', '栃木県', '群馬県', '埼玉県', '千葉県',
  '東京都', '神奈川県', '新潟県', '富山県', '石川県', '福井県', '山梨県', '長野県', '岐阜県', '静岡県', '愛知県', '三重県',
  '滋賀県', '京都府', '大阪府', '兵庫県', '奈良県', '和歌山県', '鳥取県', '島根県', '岡山県', '広島県', '山口県', '徳島県',
  '香川県', '愛媛県', '高知県', '福岡県', '佐賀県', '長崎県', '熊本県', '大分県', '宮崎県', '鹿児島県', '沖縄県',
];

function options(values: readonly string[], selected?: string): string {
  return values.map((v) => `            <option value="${escapeText(v)}"${v === selected ? ' selected' : ''}>${escapeText(v)}</option>`).join('\n');
}

// Built once: the same on every page, and the longest part of the form.
const COUNTRY_OPTIONS = options(COUNTRIES, 'Country J1');
const PREFECTURE_OPTIONS = options(PREFECTURES, '東京都');

function field(id: string, label: string, type: string, autocomplete: string): string {
  return `          <p><label for="${id}">${label}</label> <input id="${id}" name="${id}" type="${type}" autocomplete="${autocomplete}" required></p>\n`;
}

function addressForm(csrfToken: string): string {
  return `      <form id="address" class="address" action="/checkout/address" method="post">
        <input type="hidden" name="csrf_token" value="${csrfToken}">
        <fieldset>
          <legend>お届け先 / Shipping address</legend>
${field('family-name', '姓', 'text', 'family-name')}${field('given-name', '名', 'text', 'given-name')}${field('email', 'Email', 'email', 'email')}${field('tel', '電話番号', 'tel', 'tel')}${field('postal-code', '郵便番号', 'text', 'postal-code')}          <p><label for="country">Country</label>
          <select id="country" name="country" autocomplete="country">
${COUNTRY_OPTIONS}
          </select></p>
          <p><label for="prefecture">都道府県</label>
          <select id="prefecture" name="prefecture" autocomplete="address-level1">
${PREFECTURE_OPTIONS}
          </select></p>
${field('address-line1', '住所 1', 'text', 'address-line1')}${field('address-line2', '住所 2', 'text', 'address-line2')}          <p><label for="delivery">配達時間帯</label>
          <select id="delivery" name="delivery">
${options(['指定なし', '午前中', '14-16時', '16-18時', '18-20時', '19-21時'])}
          </select></p>
          <p><label><input type="radio" name="shipping" value="standard" checked> Standard (2–3 days)</label>
             <label><input type="radio" name="shipping" value="express"> Express (next day)</label></p>
        </fieldset>
        <button type="submit">Save address</button>
      </form>
`;
}

function paymentForm(content: CheckoutContent, totalYen: number, tampering: Tampering): string {
  const action = `${tampering.foreignFormAction ? LOOKALIKE_FORM : GATEWAY_FORM}/v1/charge`;
  const months = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(2, '0'));
  const years = Array.from({ length: 15 }, (_, i) => String(2026 + i));
  return `      <form id="payment" class="payment" action="${action}" method="post" autocomplete="on">
        <input type="hidden" name="csrf_token" value="${content.csrfToken}">
        <input type="hidden" name="order_id" value="${content.orderId}">
        <input type="hidden" name="amount" value="${totalYen}">
        <input type="hidden" name="currency" value="JPY">
        <fieldset>
          <legend>お支払い / Card payment</legend>
${field('cc-name', 'Name on card', 'text', 'cc-name')}${field('cc-number', 'Card number', 'text', 'cc-number')}          <p><label for="cc-exp-month">Expiry</label>
          <select id="cc-exp-month" name="cc-exp-month" autocomplete="cc-exp-month">
${options(months)}
          </select>
          <select id="cc-exp-year" name="cc-exp-year" autocomplete="cc-exp-year">
${options(years)}
          </select></p>
${field('cc-csc', 'Security code', 'text', 'cc-csc')}        </fieldset>
        <iframe src="${GATEWAY_FORM}/v1/3ds-frame?order=${content.orderId}" title="3-D Secure" width="400" height="120" sandbox="allow-forms allow-scripts allow-same-origin"></iframe>
        <button type="submit">Pay ${yen(totalYen)}</button>
      </form>
`;
}
