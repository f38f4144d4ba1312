/**
 * Magento 2 storefront pages for the S-18 tests: a checkout shaped as Magento renders one (the
 * onepage checkout's `#checkout` jsLayout, the minicart's `[data-block='minicart']` and `*` blocks,
 * customer-data and page-cache blocks, `data-mage-init` attributes), with the values that change
 * per request (form key, quote and customer ids, section URLs, cookie domain) drawn from a seed;
 * and the places an attacker can put a component name, in every spelling and JSON escaping.
 * Written for payguard from what Magento's templates emit (Checkout onepage.phtml and
 * cart/minicart.phtml, layout checkout_index_index.xml), not copied from them.
 */
import { pick, type Random } from '../../bench/pages/random.js';
import { SITE } from './policy.js';

function token(random: Random, length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/** Magento's Json serializer escapes `/` as `\/` (PHP json_encode's default). */
function phpJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/');
}

function attr(value: unknown): string {
  return JSON.stringify(value).replace(/&/g, '&amp;').replace(/'/g, '&#039;');
}

/** A clean checkout: everything a real one carries, nothing foreign. */
export function magentoCheckout(random: Random, insert: { head?: string; body?: string } = {}): string {
  const formKey = token(random, 16);
  const quoteId = token(random, 32);
  const customerId = Math.floor(random() * 1_000_000);
  const version = `version${Math.floor(random() * 2_000_000_000)}`;
  const staticBase = `${SITE}/static/${version}/frontend/Magento/luma/en_US/`;
  const region = {
    component: 'Magento_Ui/js/form/element/region',
    config: { template: 'ui/form/field', elementTmpl: 'ui/form/element/select', customEntry: 'shippingAddress.region' },
    validation: { 'required-entry': true },
    filterBy: { target: '${ $.provider }:${ $.parentScope }.country_id', field: 'country_id' },
  };
  const jsLayout = {
    types: { 'form.input': { component: 'Magento_Ui/js/form/element/abstract', config: { provider: 'checkoutProvider', deps: ['checkoutProvider'], template: 'ui/form/field', elementTmpl: 'ui/form/element/input' } } },
    components: {
      checkout: {
        component: 'uiComponent',
        config: { template: 'Magento_Checkout/onepage' },
        children: {
          errors: { sortOrder: '0', component: 'Magento_Ui/js/view/messages', displayArea: 'messages' },
          steps: {
            component: 'uiComponent',
            displayArea: 'steps',
            children: {
              'shipping-step': {
                component: 'uiComponent',
                children: {
                  shippingAddress: {
                    component: 'Magento_Checkout/js/view/shipping',
                    provider: 'checkoutProvider',
                    config: { deps: ['checkout.steps.shipping-step.step-config', 'checkoutProvider'], popUpForm: { element: '#opc-new-shipping-address', options: { type: 'popup', title: 'Shipping Address' } } },
                    children: { 'shipping-address-fieldset': { children: { region_id: region, postcode: { component: 'Magento_Ui/js/form/element/post-code' } } } },
                  },
                },
              },
              'billing-step': {
                component: 'uiComponent',
                children: { payment: { component: 'Magento_Checkout/js/view/payment', config: { title: 'Payment' }, children: { renders: { children: { gateway: { component: 'Gateway_Payment/js/view/payment/gateway', methods: { gateway_cc: { isBillingAddressRequired: true } } } } } } } },
              },
            },
          },
        },
      },
      checkoutProvider: { component: 'uiComponent', dictionaries: { country_id: [{ value: 'JP', label: 'Japan' }, { value: 'US', label: 'United States' }] } },
    },
  };
  const checkoutConfig = {
    formKey,
    quoteData: { entity_id: quoteId, customer_id: customerId },
    payment: { gateway_cc: { actionUrl: 'https://pay.gateway.example/charge', logo: 'https://img.cdn.example/brands/visa.svg' } },
    checkoutUrl: `${SITE}/checkout/`,
    staticBaseUrl: staticBase,
  };
  const sections = {
    '*': {
      'Magento_Customer/js/section-config': {
        sections: { 'stores/store/switch': ['*'], 'checkout/cart/add': ['cart', 'directory-data'] },
        clientSideSections: ['checkout-data', 'cart-data'],
        baseUrls: [`${SITE}/`],
        sectionNames: ['messages', 'customer', 'cart'],
      },
      'Magento_Customer/js/customer-data': {
        sectionLoadUrl: `${SITE}/customer/section/load/`,
        expirableSectionLifetime: 60,
        expirableSectionNames: ['cart', 'persistent'],
        cookieLifeTime: '3600',
        updateSessionUrl: `${SITE}/customer/account/updateSession/`,
      },
      'Magento_Customer/js/invalidation-processor': { invalidationRules: { 'website-rule': { 'Magento_Customer/js/invalidation-rules/website-rule': { scopeConfig: { websiteId: '1' } } } } },
    },
  };
  const pageCache = {
    body: { pageCache: { url: `${SITE}/page_cache/block/render/id/${customerId}/`, handles: ['default', 'checkout_index_index'], originalRequest: { route: 'checkout', controller: 'index', action: 'index', uri: '/checkout/' }, versionCookieName: 'private_content_version' } },
    '*': { 'Magento_PageCache/js/form-key-provider': { isPaginationCacheEnabled: 0 }, 'mage/cookies': { expires: null, path: '\u002F', domain: `.${new URL(SITE).hostname}`, secure: true, lifetime: '3600' } },
  };
  const minicart = {
    "[data-block='minicart']": { 'Magento_Ui/js/core/app': { components: { minicart_content: { children: { 'subtotal.container': { children: { subtotal: { children: { 'subtotal.totals': { config: { display_cart_subtotal_incl_tax: 0, template: 'Magento_Tax/checkout/minicart/subtotal/totals' }, children: { 'subtotal.totals.msrp': { component: 'Magento_Msrp/js/view/checkout/minicart/subtotal/totals', config: { displayArea: 'minicart-subtotal-hidden', template: 'Magento_Msrp/checkout/minicart/subtotal/totals' } } }, component: 'Magento_Tax/js/view/checkout/minicart/subtotal/totals' } }, component: 'uiComponent' } } } }, config: { itemRenderer: { default: 'defaultRenderer' }, template: 'Magento_Checkout/minicart/content' }, component: 'Magento_Checkout/js/view/minicart' } }, types: [] } },
    '*': { 'Magento_Ui/js/block-loader': `${staticBase}images/loader-1.gif` },
  };
  const searchId = token(random, 8, 'abcdefghijklmnopqrstuvwxyz');
  const widget = pick(random, ['dropdownDialog', 'collapsible', 'Magento_Theme/js/view/breadcrumbs', 'menu']);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Checkout</title>
<script type="text/x-magento-init">${phpJson(sections)}</script>
${insert.head ?? ''}
</head>
<body data-container="body" data-mage-init='${attr({ loaderAjax: {}, loader: { icon: `${staticBase}images/loader-2.gif` } })}'>
<div class="panel header"><a class="action skip" href="#contentarea" data-mage-init='${attr({ [widget]: { trigger: `#${searchId}` } })}'>Skip</a></div>
<form class="form minisearch" id="search_mini_form" action="${SITE}/catalogsearch/result/" method="get">
  <input id="${searchId}" type="text" name="q" data-mage-init='${attr({ quickSearch: { formSelector: '#search_mini_form', url: `${SITE}/search/ajax/suggest/`, destinationSelector: `#${searchId}_autocomplete`, minSearchLength: '3' } })}'>
</form>
<div data-block="minicart" class="minicart-wrapper">
  <div class="block block-minicart" data-role="dropdownDialog" data-mage-init='${attr({ dropdownDialog: { appendTo: '[data-block=minicart]', triggerTarget: '.showcart', timeout: '2000', closeOnMouseLeave: false, closeOnEscape: true, triggerClass: 'active', parentClass: 'active', buttons: [] } })}'></div>
  <script type="text/x-magento-init">${phpJson(minicart)}</script>
</div>
<div id="checkout" data-bind="scope:'checkout'" class="checkout-container">
  <div id="checkout-loader" data-role="checkout-loader" class="loading-mask" data-mage-init='{"checkoutLoader": {}}'></div>
  <script type="text/x-magento-init">
    {
      "#checkout": {
        "Magento_Ui/js/core/app": ${phpJson(jsLayout)}
      }
    }
  </script>
  <script type="application/json" id="checkout-config">${phpJson(checkoutConfig)}</script>
</div>
<input name="form_key" type="hidden" value="${formKey}">
${insert.body ?? ''}
<script type="text/x-magento-init">${phpJson(pageCache)}</script>
</body>
</html>
`;
}

/** What the verifier must report for an inserted component name. */
export type Expected =
  | { readonly reason: 'foreign-script' | 'data-url-code'; readonly url: string }
  | { readonly reason: 'unreadable-component' }
  /** A same-site URL: allowed without a release manifest, judged by it with one. */
  | { readonly reason: 'same-site'; readonly url: string };

/** Component names as an attacker writes them, as JSON.parse gives them to Magento. */
export const SPELLINGS: readonly { readonly name: string; readonly expect: Expected }[] = [
  { name: 'https://evil.example/x.js', expect: { reason: 'foreign-script', url: 'https://evil.example/x.js' } },
  { name: 'https://evil.example/x', expect: { reason: 'foreign-script', url: 'https://evil.example/x' } },
  { name: '//evil.example/x', expect: { reason: 'foreign-script', url: 'https://evil.example/x' } },
  { name: 'HTTPS://EVIL.EXAMPLE/X.JS', expect: { reason: 'foreign-script', url: 'https://evil.example/X.JS' } },
  { name: ' https://evil.example/x.js ', expect: { reason: 'foreign-script', url: 'https://evil.example/x.js' } },
  { name: '\thttps://evil.ex\nample/x.js\r\n', expect: { reason: 'foreign-script', url: 'https://evil.example/x.js' } },
  { name: '\\\\evil.example\\x.js', expect: { reason: 'foreign-script', url: 'https://evil.example/x.js' } },
  { name: '//evil.example/x?', expect: { reason: 'foreign-script', url: 'https://evil.example/x?' } },
  { name: 'https://evil.example/p.js!Magento_Ui/js/core/app', expect: { reason: 'foreign-script', url: 'https://evil.example/p.js' } },
  { name: 'text!https://evil.example/t.html', expect: { reason: 'foreign-script', url: 'https://evil.example/t.html' } },
  { name: 'data:text/javascript,alert(1)', expect: { reason: 'data-url-code', url: 'data:text/javascript,alert(1)' } },
  // Not a URL to RequireJS (no leading `/`, `:`, `?` or `.js`): baseUrl + name + '.js'; still no module id payguard reads.
  { name: ' //evil.example/x', expect: { reason: 'unreadable-component' } },
  { name: 'Magento_Ui/js/core/app\u2028', expect: { reason: 'unreadable-component' } },
  { name: '!x', expect: { reason: 'unreadable-component' } },
  { name: '/x.js', expect: { reason: 'same-site', url: `${SITE}/x.js` } },
  { name: '/media/upload/x', expect: { reason: 'same-site', url: `${SITE}/media/upload/x` } },
  { name: 'x.js', expect: { reason: 'same-site', url: `${SITE}/checkout/x.js` } },
];

/** How the name is written inside the JSON string. */
export const ESCAPINGS: readonly { readonly label: string; readonly write: (name: string) => string }[] = [
  { label: 'plain', write: (name) => JSON.stringify(name) },
  { label: 'first character \\u-escaped', write: (name) => `"${uEscape(name.slice(0, 1))}${JSON.stringify(name.slice(1)).slice(1)}` },
  { label: 'every character \\u-escaped', write: (name) => `"${uEscape(name)}"` },
  { label: 'slashes escaped', write: (name) => JSON.stringify(name).replace(/\//g, '\\/') },
];

/** A JSON string inside a single-quoted attribute value: `&` and `'` as character references. */
function singleQuoted(written: string): string {
  return written.replace(/&/g, '&amp;').replace(/'/g, '&#39;');
}

function uEscape(text: string): string {
  return [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
}

/** Where Magento loads a name from; `N` stands for the written JSON string. */
export const POSITIONS: readonly { readonly label: string; readonly markup: (written: string) => string }[] = [
  { label: 'block, selector *', markup: (n) => `<script type="text/x-magento-init">{"*": {${n}: {}}}</script>` },
  { label: 'block, selector #checkout', markup: (n) => `<script type="text/x-magento-init">{"#checkout": {"Magento_Ui/js/core/app": {}, ${n}: {"a": 1}}}</script>` },
  { label: 'block in SVG', markup: (n) => `<svg><script type="text/x-magento-init">{"*": {${n}: {}}}</script></svg>` },
  { label: 'block in MathML', markup: (n) => `<math><script type="text/x-magento-init">{"*": {${n}: {}}}</script></math>` },
  { label: 'block, uppercase type', markup: (n) => `<script type="TEXT/X-MAGENTO-INIT">{"*": {${n}: {}}}</script>` },
  { label: 'block, mixin', markup: (n) => `<script type="text/x-magento-init">{"*": {"mage/url": {"mixins": ["mage/dataPost", ${n}]}}}</script>` },
  { label: 'block, uiComponent child', markup: (n) => `<script type="text/x-magento-init">{"#checkout": {"Magento_Ui/js/core/app": {"components": {"checkout": {"component": "uiComponent", "children": {"x": {"component": ${n}}}}}}}}</script>` },
  { label: 'block, uiComponent config.component, key escaped', markup: (n) => `<script type="text/x-magento-init">{"#checkout": {"Magento_Ui/js/core/app": {"components": {"x": {"config": {"\\u0063omponent": ${n}}}}}}}</script>` },
  { label: 'block, uiComponent type', markup: (n) => `<script type="text/x-magento-init">{"*": {"Magento_Ui/js/core/app": {"types": {"form.input": {"component": ${n}}}}}}</script>` },
  { label: 'data-mage-init', markup: (n) => `<div data-mage-init='{${singleQuoted(n)}: {}}'></div>` },
  { label: 'data-mage-init, entity-quoted', markup: (n) => `<span data-mage-init="{${n.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}: {&quot;a&quot;: 1}}"></span>` },
  { label: 'data-mage-init, mixin', markup: (n) => `<div data-mage-init='{"collapsible": {"mixins": [${singleQuoted(n)}]}}'></div>` },
  { label: 'data-mage-init, uiComponent child', markup: (n) => `<div data-mage-init='{"Magento_Ui/js/core/app": {"components": {"x": {"component": ${singleQuoted(n)}}}}}'></div>` },
];
