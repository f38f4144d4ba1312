/**
 * The visitor's cart, and the ways each platform writes data into a page.
 *
 * The catalogue is picked to hurt: quotes of both kinds, an apostrophe, `&`, `<`, `</>` and a
 * literal `</script>` (the sequence that ends a script element, HTML §13.2.5.4), non-ASCII in the
 * BMP (é, –, “”, 抹茶) and outside it (🧦, a surrogate pair), a newline in a gift message, a `$`
 * at the start of nothing in particular. Each platform escapes them its own way, and the pages
 * must carry them the way the platform does, or the fixtures test a shop that does not exist.
 */
import type { Rng } from './random.js';

export interface ProductOption {
  readonly name: string;
  readonly values: readonly string[];
}

export interface Product {
  readonly id: number;
  readonly sku: string;
  readonly slug: string;
  readonly name: string;
  /** Minor units (cents), or yen on the yen shop. */
  readonly price: number;
  readonly image: string;
  readonly type: string;
  readonly grams: number;
  readonly options: readonly ProductOption[];
}

export const CATALOGUE: readonly Product[] = [
  { id: 101, sku: 'TEA-SEN-100', slug: 'sencha-asamushi', name: 'Sencha "Asamushi" 100 g', price: 1450, image: 'sencha-asamushi.jpg', type: 'Tea', grams: 120, options: [{ name: 'Size', values: ['50 g', '100 g', '250 g'] }] },
  { id: 102, sku: 'CAF-CRM-250', slug: 'cafe-creme', name: 'Café crème — 250 g', price: 990, image: 'cafe-creme.jpg', type: 'Coffee', grams: 270, options: [{ name: 'Grind', values: ['Whole bean', 'Espresso', 'Filter'] }] },
  { id: 103, sku: 'MAT-UJI-30', slug: 'uji-matcha', name: '抹茶 宇治 (Uji matcha) 30g', price: 2800, image: 'uji-matcha.jpg', type: 'Tea', grams: 45, options: [] },
  { id: 104, sku: 'HOOD-ONL', slug: 'oneill-hoodie', name: "O'Neill Hoodie – Navy", price: 5900, image: 'oneill-hoodie.jpg', type: 'Apparel', grams: 620, options: [{ name: 'Size', values: ['XS', 'S', 'M', 'L', 'XL'] }, { name: 'Color', values: ['Navy', 'Heather grey'] }] },
  { id: 105, sku: 'POS-LTM-A2', slug: 'poster-less-more', name: 'Poster "Less </> More" A2', price: 2200, image: 'poster-less-more.jpg', type: 'Print', grams: 300, options: [{ name: 'Frame', values: ['None', 'Oak', 'Black aluminium'] }] },
  { id: 106, sku: 'MILL-SP-SET', slug: 'salt-pepper-mill-set', name: 'Salt & Pepper Mill Set', price: 3900, image: 'salt-pepper-mill-set.jpg', type: 'Kitchen', grams: 800, options: [] },
  { id: 107, sku: 'SOCK-3PK', slug: 'socks-3-pack', name: 'Socks 3-pack 🧦', price: 1500, image: 'socks-3-pack.jpg', type: 'Apparel', grams: 150, options: [{ name: 'Size', values: ['36–40', '41–46'] }, { name: 'Pattern', values: ['Stripes', 'Dots', 'Plain'] }] },
  { id: 108, sku: 'TOWEL-ZRH', slug: 'tea-towel-zurich', name: 'Tea towel “Zürich”', price: 1200, image: 'tea-towel-zurich.jpg', type: 'Kitchen', grams: 90, options: [] },
  { id: 109, sku: 'MUG-03L', slug: 'stoneware-mug', name: 'Mug 0.3 l, stoneware', price: 1800, image: 'stoneware-mug.jpg', type: 'Kitchen', grams: 380, options: [{ name: 'Glaze', values: ['Celadon', 'Tenmoku', 'Shino'] }] },
  { id: 110, sku: 'NB-A5-DOT', slug: 'notebook-a5-dotted', name: 'Notebook A5 / dotted', price: 850, image: 'notebook-a5-dotted.jpg', type: 'Stationery', grams: 210, options: [{ name: 'Cover', values: ['Kraft', 'Black'] }, { name: 'Pages', values: ['96', '192'] }, { name: 'Personalisation', values: ['Initials: "J.K."', 'Name: Zoë <3', "d'Artagnan"] }] },
  { id: 111, sku: 'GIFT-25', slug: 'gift-card', name: 'Gift card €25', price: 2500, image: 'gift-card.jpg', type: 'Gift card', grams: 0, options: [{ name: 'Message', values: ['Happy birthday!', "Joyeux anniversaire, l'ami !", 'お誕生日おめでとう', 'Line one\nLine two'] }] },
  { id: 112, sku: 'STK-TAGS', slug: 'sticker-pack-tags', name: 'Sticker pack: <script>, </script> & <style>', price: 600, image: 'sticker-pack-tags.jpg', type: 'Stationery', grams: 20, options: [] },
];

export interface CartLine {
  readonly product: Product;
  readonly qty: number;
  /** The chosen value of each of the product's options (0–3 of them: rows of varying length). */
  readonly options: readonly { readonly name: string; readonly value: string }[];
  /** The variant id a platform would give this combination. */
  readonly variantId: number;
  readonly unitPrice: number;
  readonly lineTotal: number;
}

export interface Cart {
  readonly lines: readonly CartLine[];
  readonly itemCount: number;
  readonly subtotal: number;
}

/** 0–6 lines of distinct products. */
export function makeCart(rng: Rng): Cart {
  const products = rng.sample(CATALOGUE, rng.int(0, 6));
  const lines = products.map((product): CartLine => {
    const options = product.options.map((o) => ({ name: o.name, value: rng.pick(o.values) }));
    const variantIndex = product.options.reduce((n, o, i) => n * 7 + o.values.indexOf(options[i]!.value), 0);
    const qty = rng.int(1, 3);
    return { product, qty, options, variantId: 40_000_000_000 + product.id * 1000 + variantIndex, unitPrice: product.price, lineTotal: product.price * qty };
  });
  return { lines, itemCount: lines.reduce((n, l) => n + l.qty, 0), subtotal: lines.reduce((n, l) => n + l.lineTotal, 0) };
}

// ---------------------------------------------------------------------------------------------
// How each platform serialises data into a script.

/** Every non-ASCII UTF-16 unit as `\uXXXX` (astral characters become a surrogate pair). */
function escapeNonAscii(json: string, upper: boolean): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  });
}

/**
 * PHP json_encode with no flags (WordPress wp_json_encode, wp_localize_script): `/` as `\/`,
 * non-ASCII as lower-case `\uXXXX`, `<` left alone (so `</script>` arrives as `<\/script>`).
 */
export function phpJson(value: unknown): string {
  return escapeNonAscii(JSON.stringify(value).replace(/\//g, '\\/'), false);
}

/**
 * Magento's JsonHexTag serializer (json_encode with JSON_HEX_TAG, used for the checkout config and
 * the x-magento-init layouts): PHP's escapes plus `<` and `>` as `\u003C` and `\u003E`.
 */
export function magentoJson(value: unknown): string {
  return phpJson(value).replace(/</g, '\\u003C').replace(/>/g, '\\u003E');
}

/**
 * Shopify Liquid's `json` filter (and the platform's own JSON in content_for_header): `/` as `\/`,
 * `<`, `>` and `&` as `\u003c` `\u003e` `\u0026`, other characters as UTF-8.
 */
export function shopifyJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/').replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * EverShop's serializeEContext: jsesc(value, { json: true, isScriptContext: true }) — non-ASCII as
 * upper-case `\uXXXX`, `</script` and `</style` as `<\/script`, `<!--` as `\u003C!--`, slashes
 * otherwise as they are.
 */
export function jsescJson(value: unknown): string {
  return escapeNonAscii(JSON.stringify(value), true)
    .replace(/<\/(script|style)/gi, '<\\/$1')
    .replace(/<!--/g, '\\u003C!--');
}

/**
 * Next.js htmlEscapeJsonString over JSON.stringify: `<`, `>`, `&`, U+2028 and U+2029 as lower-case
 * `\uXXXX` (packages/next/src/server/htmlescape.ts). Returns the string literal without its quotes.
 */
export function nextStringContent(text: string): string {
  const literal = JSON.stringify(text)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return literal.slice(1, -1);
}

/** The inside of a JSON string literal as `encode` writes it (for a placeholder between quotes). */
export function stringContent(value: string, encode: (v: unknown) => string): string {
  return encode(value).slice(1, -1);
}

/** PHP rawurlencode: everything but A-Z a-z 0-9 - _ . ~ percent-encoded, upper-case hex. */
export function rawurlencode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Magento Escaper::escapeJs: every character outside [a-z0-9,._] (case-insensitive) as
 * `\uXXXX`, upper-case hex (so `https://` is `https\u003A\u002F\u002F`).
 */
export function magentoEscapeJs(text: string): string {
  return text.replace(/[^a-z0-9,._]/gi, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

// ---------------------------------------------------------------------------------------------
// HTML text and attribute values.

/**
 * htmlspecialchars(ENT_QUOTES) as PHP platforms call it (esc_html, Magento escapeHtml, Twig):
 * `&#039;` for the apostrophe. Liquid writes `&#39;`, React `&#x27;`.
 */
export function escapeHtml(text: string, apostrophe: '&#039;' | '&#39;' | '&#x27;' = '&#039;'): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, apostrophe);
}

/** `1234` minor units as `12.34` (or `12,34` with a comma), thousands grouped. */
export function money(minor: number, decimal: '.' | ',' = '.', group = ','): string {
  const whole = Math.floor(minor / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${whole}${decimal}${(minor % 100).toString().padStart(2, '0')}`;
}

/** Yen: no minor unit, grouped by commas. */
export function yen(amount: number): string {
  return amount.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1234` minor units as Magento's decimal(12,4) column text: `12.3400`. */
export function decimal4(minor: number): string {
  return `${Math.floor(minor / 100)}.${(minor % 100).toString().padStart(2, '0')}00`;
}
