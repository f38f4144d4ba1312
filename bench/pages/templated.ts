/**
 * Ten templated inline scripts, the kind every real checkout carries (WooCommerce nonces and
 * timestamps, Shopify's per-request id, Magento's checkoutConfig, Next.js flight pushes, EverShop's
 * eContext, GTM's dataLayer; ../shared/research/dynamic-inline-scripts.md), with the policy
 * entries that allow them: as templates with typed slots, or (for the comparison run) by the exact
 * hashes of one rendering. For issue 18's goal: template matching under 10% of the verifier.
 */
import { cspSha256 } from '../policy.js';
import type { Random } from './random.js';

interface Templated {
  readonly template: string;
  readonly slots: string;
  readonly values: (random: Random) => Record<string, string>;
}

const hex = (random: Random, n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
const digits = (random: Random, n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');

function rows(random: Random, n: number): string {
  return JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i + 1, sku: `SKU-${digits(random, 5)}`, name: `Tea set "${i}"`, price: Math.round(random() * 1e4) / 100, qty: 1 + (i % 3) })));
}

const TEMPLATED: readonly Templated[] = [
  { template: "var wcBlocksMiddlewareConfig = { storeApiNonce: $slot$nonce, wcStoreApiNonceTimestamp: $slot$time };", slots: '{ nonce: { type: string, charset: hex, length: [10, 10] }, time: { type: string, charset: digits, length: [10, 10] } }', values: (r) => ({ nonce: `'${hex(r, 10)}'`, time: `'${digits(r, 10)}'` }) },
  { template: 'var wc_checkout_params = {"ajax_url":"\\/wp-admin\\/admin-ajax.php","update_order_review_nonce":$slot$a,"apply_coupon_nonce":$slot$b,"remove_coupon_nonce":$slot$c,"option_guest_checkout":"yes","is_checkout":"1"};', slots: '{ a: { type: string, charset: hex, length: [10, 10] }, b: { type: string, charset: hex, length: [10, 10] }, c: { type: string, charset: hex, length: [10, 10] } }', values: (r) => ({ a: `"${hex(r, 10)}"`, b: `"${hex(r, 10)}"`, c: `"${hex(r, 10)}"` }) },
  { template: 'var __st={"a":61204955,"offset":-14400,"reqid":$slot$reqid,"pageurl":"shop.example\\/checkout","u":$slot$u,"p":"page"};', slots: '{ reqid: { type: string, charset: token, length: [36, 36] }, u: { type: string, charset: hex, length: [12, 12] } }', values: (r) => ({ reqid: `"${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}"`, u: `"${hex(r, 12)}"` }) },
  { template: 'window.checkoutConfig = $slot$config;\nwindow.isCustomerLoggedIn = window.checkoutConfig.isCustomerLoggedIn;\nwindow.customerData = window.checkoutConfig.customerData;', slots: '{ config: { type: json } }', values: (r) => ({ config: `{"formKey":"${hex(r, 16)}","isCustomerLoggedIn":false,"customerData":[],"quoteItemData":${rows(r, 4)},"totalsData":{"grand_total":${digits(r, 3)}.5}}` }) },
  { template: 'self.__next_f.push([1,$slot$payload])', slots: '{ payload: { type: string, length: [0, 100000] } }', values: (r) => ({ payload: JSON.stringify(`${digits(r, 2)}:["$","div",null,{"className":"cart","children":"${hex(r, 20)}"}]\n`) }) },
  { template: 'self.__next_f.push([1,$slot$payload])', slots: '{ payload: { type: string, length: [0, 100000] } }', values: (r) => ({ payload: JSON.stringify(`${digits(r, 2)}:I["${digits(r, 4)}",["static/chunks/${hex(r, 8)}.js"],"Cart"]\n`) }) },
  { template: 'var eContext = $slot$context', slots: '{ context: { type: json } }', values: (r) => ({ context: `{"graphqlResponse":{"cart":{"uuid":"${hex(r, 32)}","items":${rows(r, 3)}}},"propsMap":{"e${digits(r, 2)}":[{"origin":"cartId","alias":"c${digits(r, 3)}"}]}}` }) },
  { template: "window.dataLayer = window.dataLayer || [];\ndataLayer.push({ event: 'begin_checkout', ecommerce: { currency: 'EUR', value: $slot$value, items: $slot$items } });", slots: '{ value: { type: number, min: 0 }, items: { type: json } }', values: (r) => ({ value: `${digits(r, 3)}.${digits(r, 2)}`, items: rows(r, 2) }) },
  { template: "require(['mage/url', 'Magento_Ui/js/block-loader'], function (url, blockLoader) { blockLoader($slot$loader); return url.setBaseUrl($slot$base); });", slots: '{ loader: { type: string, length: [1, 512] }, base: { type: string, length: [1, 512] } }', values: (r) => ({ loader: `'https://shop.example/static/version${digits(r, 10)}/frontend/Magento/luma/en_US/images/loader-1.gif'`, base: "'https://shop.example/'" }) },
  { template: "window.storeApiProxyToken = $slot$token; window.activeNavigationId = $slot$nav; window.customerLoggedInState = $slot$state;", slots: '{ token: { type: string, charset: token, length: [20, 128] }, nav: { type: string, charset: hex, length: [32, 32] }, state: { type: number, integer: true, min: 0, max: 1 } }', values: (r) => ({ token: `'${hex(r, 43)}'`, nav: `'${hex(r, 32)}'`, state: String(Math.floor(r() * 2)) }) },
];

function render(t: Templated, random: Random): string {
  const values = t.values(random);
  return t.template.replace(/\$slot\$(\w+)/g, (_, name: string) => values[name]!);
}

/** The ten scripts of one rendering, as `<script>` elements for a page's head. */
export function templatedScripts(random: Random): { markup: string; texts: string[] } {
  const texts = TEMPLATED.map((t) => render(t, random));
  return { markup: texts.map((text) => `<script>${text}</script>`).join('\n'), texts };
}

/** `allow.inline` YAML entries: the ten templates. */
export function templateEntriesYaml(): string {
  return TEMPLATED.map((t) => `    - template: ${JSON.stringify(t.template)}\n      slots: ${t.slots}\n      why: bench templated script`).join('\n');
}

/** `allow.inline` YAML entries: the exact hashes of one rendering's scripts (what a template saves the policy). */
export function hashEntriesYaml(texts: readonly string[]): string {
  return texts.map((text) => `    - { hash: "${cspSha256(text)}", why: bench rendering }`).join('\n');
}
