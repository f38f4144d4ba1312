/**
 * What fills each platform page: per site (origins, and data the platform prints the same for every
 * visitor), per session (WordPress nonces, Magento's form key, Shopify's visitor id, the cart) and
 * per request (time(), Shopify's request id, Magento's captcha timestamp and CSP nonce, Symfony's
 * randomised CSRF tokens, where the Next.js RSC stream is cut).
 */
import { createHash } from 'node:crypto';
import {
  type Cart, type CartLine, decimal4, escapeHtml, jsescJson, magentoEscapeJs, magentoJson, money, nextStringContent,
  phpJson, rawurlencode, shopifyJson, stringContent, yen,
} from './carts.js';
import type { Fill, Values } from './page-text.js';
import type { Rng } from './random.js';

export interface Origins {
  /** The storefront's public origin, e.g. `https://shop.example`. */
  readonly site: string;
  /** The payment gateway's origin (tokenizer script, card form, card brand image). */
  readonly gateway: string;
}

/** One request of one session. */
export interface Visit {
  readonly origins: Origins;
  /** Values that live as long as the visitor's session. Draw from it in a fixed order. */
  readonly session: Rng;
  /** Values of this request alone. */
  readonly request: Rng;
  readonly cart: Cart;
  /** Unix seconds when the session began. */
  readonly sessionStart: number;
  /** Unix seconds of this request (after the session's start; grows with the request number). */
  readonly time: number;
}

export interface PlatformModel {
  readonly file: string;
  /** The path the page is served at (the policy routes it in block mode). */
  readonly path: string;
  /** The real template this page follows. */
  readonly models: string;
  /** Placeholders every page of the site carries alike: the policy is written with them filled in. */
  siteValues(origins: Origins): Values;
  visitFill(visit: Visit): Fill;
  /** Placeholders and sections whose value changes from one request of a session to the next. */
  readonly perRequest: readonly string[];
}

/** The origins as each platform writes them. */
export function commonSiteValues({ site, gateway }: Origins): Record<string, string> {
  return {
    site,
    gateway,
    host: new URL(site).host,
    site_json: site.replace(/\//g, '\\/'),
    gateway_json: gateway.replace(/\//g, '\\/'),
    site_magento_js: magentoEscapeJs(site),
  };
}

const slugOf = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const b64url = (bytes: Buffer): string => bytes.toString('base64url');
const iso = (unix: number): string => new Date(unix * 1000).toISOString();
const mysqlTime = (unix: number): string => iso(unix).slice(0, 19).replace('T', ' ');

// ---------------------------------------------------------------------------------------------
// WooCommerce classic checkout (WordPress 6.5, WooCommerce 8.9, Storefront 4.5).

const woocommerceClassic: PlatformModel = {
  file: 'woocommerce-classic.html',
  path: '/checkout/',
  models:
    'WooCommerce 8.9 classic [woocommerce_checkout] page on Storefront: wp_localize_script *-js-extra blocks (wc_checkout_params with the ' +
    'update-order-review/apply-coupon/remove-coupon nonces, woocommerce_params, wc_country_select_params, wc_address_i18n_params, ' +
    'wc_cart_fragments_params, wc_add_to_cart_params, wc_order_attribution), a card gateway plugin\'s localized params with the cart, ' +
    'its wp_add_inline_script before/after blocks, and wc_no_js()',
  siteValues: commonSiteValues,
  perRequest: [],
  visitFill({ origins: { site }, session, cart }) {
    const shipping = cart.lines.length > 0 ? 500 : 0;
    const total = cart.subtotal + shipping;
    const displayItems = cart.lines.map((l) => ({
      label: `${l.product.name} × ${l.qty}`,
      amount: l.lineTotal,
      quantity: l.qty,
      sku: l.product.sku,
      url: `${site}/product/${l.product.slug}/`,
      image: `${site}/wp-content/uploads/2024/02/${l.product.image}`,
      // PHP: an empty array is `[]`, a keyed one an object.
      attributes: l.options.length === 0 ? [] : Object.fromEntries(l.options.map((o) => [`attribute_pa_${slugOf(o.name)}`, o.value])),
    }));
    return {
      values: {
        update_order_review_nonce: session.hex(10),
        apply_coupon_nonce: session.hex(10),
        remove_coupon_nonce: session.hex(10),
        create_intent_nonce: session.hex(10),
        process_checkout_nonce: session.hex(10),
        gateway_session: `pgs_${session.alnum(24)}`,
        cart_total_minor: String(total),
        cart_json: phpJson(displayItems),
        cart_count: String(cart.itemCount),
        cart_count_text: `${cart.itemCount} ${cart.itemCount === 1 ? 'item' : 'items'}`,
        cart_total_html: `<span class="woocommerce-Price-currencySymbol">&#36;</span>${money(total)}`,
        subtotal: money(cart.subtotal),
        total: money(total),
      },
      sections: {
        line: cart.lines.map((l) => ({
          line_name: escapeHtml(l.product.name),
          line_qty: String(l.qty),
          line_meta:
            l.options.length === 0
              ? ''
              : `<dl class="variation">${l.options
                  .map((o) => `<dt class="variation-${slugOf(o.name)}">${escapeHtml(o.name)}:</dt><dd class="variation-${slugOf(o.name)}"><p>${escapeHtml(o.value)}</p></dd>`)
                  .join('')}</dl>`,
          line_total: money(l.lineTotal),
        })),
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// WooCommerce block checkout (WordPress 6.5, WooCommerce 8.9, Twenty Twenty-Four, fr_FR, EUR).

/** The store settings the asset data registry prints as wcSettings (the same for every visitor). */
function wcSettings({ site, gateway }: Origins): unknown {
  return {
    shippingCostRequiresAddress: false,
    adminUrl: `${site}/wp-admin/`,
    countries: { BE: 'Belgique', CA: 'Canada', CH: 'Suisse', DE: 'Allemagne', FR: 'France', LU: 'Luxembourg' },
    currency: { code: 'EUR', precision: 2, symbol: '€', symbolPosition: 'right_space', decimalSeparator: ',', priceFormat: '%2$s\u00a0%1$s', thousandSeparator: '\u202f' },
    currentUserId: 0,
    currentUserIsAdmin: false,
    dateFormat: 'j F Y',
    homeUrl: `${site}/`,
    locale: { siteLocale: 'fr_FR', userLocale: 'fr_FR', weekdaysShort: ['dim', 'lun', 'mar', 'mer', 'jeu', 'ven', 'sam'] },
    dashboardUrl: `${site}/mon-compte/`,
    orderStatuses: { pending: 'Attente paiement', processing: 'En cours', 'on-hold': 'En attente', completed: 'Terminée', cancelled: 'Annulée', refunded: 'Remboursée', failed: 'Échouée' },
    placeholderImgSrc: `${site}/wp-content/uploads/woocommerce-placeholder-300x300.png`,
    productsSettings: { cartRedirectAfterAdd: false },
    siteTitle: 'Boutique Exemple',
    storePages: {
      myaccount: { id: 9, title: 'Mon compte', permalink: `${site}/mon-compte/` },
      shop: { id: 5, title: 'Boutique', permalink: `${site}/boutique/` },
      cart: { id: 6, title: 'Panier', permalink: `${site}/panier/` },
      checkout: { id: 7, title: 'Commande', permalink: `${site}/commande/` },
      privacy: { id: 3, title: 'Politique de confidentialité', permalink: `${site}/politique-de-confidentialite/` },
      terms: { id: 12, title: 'CGV', permalink: `${site}/cgv/` },
    },
    wcAssetUrl: `${site}/wp-content/plugins/woocommerce/assets/`,
    wcVersion: '8.9.1',
    wpLoginUrl: `${site}/wp-login.php`,
    wpVersion: '6.5.3',
    collectableMethodIds: ['pickup_location'],
    shippingMethodsExist: true,
    checkoutAllowsGuest: true,
    checkoutAllowsSignup: false,
    checkoutShowLoginReminder: true,
    displayCartPricesIncludingTax: true,
    displayItemizedTaxes: false,
    forcedBillingAddress: false,
    taxesEnabled: true,
    couponsEnabled: true,
    shippingEnabled: true,
    isBlockTheme: true,
    paygateway_data: {
      title: 'Carte bancaire',
      description: 'Paiement sécurisé par carte. Vos données de carte ne transitent jamais par cette boutique.',
      publishableKey: 'pk_live_51Hx2bKEXAMPLEshopPUBLISHABLEkey00Qw',
      sdkUrl: `${gateway}/v3/token.js`,
      apiUrl: `${gateway}/v1`,
      icons: [{ id: 'cards', src: `${gateway}/assets/card-brands.svg`, alt: 'Visa, Mastercard, CB' }],
      supports: ['products', 'refunds'],
    },
    wcBlocksConfig: {
      buildPhase: 1,
      pluginUrl: `${site}/wp-content/plugins/woocommerce/`,
      productCount: 42,
      restApiRoutes: { '/wc/store/v1': ['batch', 'cart', 'cart/add-item', 'cart/apply-coupon', 'cart/items', 'cart/remove-item', 'cart/select-shipping-rate', 'cart/update-customer', 'cart/update-item', 'checkout', 'products'] },
      wordCountType: 'words',
    },
  };
}

/** The Store API's /cart response body for this cart (what the preloading middleware replays). */
function storeApiCart(site: string, cart: Cart, itemKeys: readonly string[]): unknown {
  const eur = { currency_code: 'EUR', currency_symbol: '€', currency_minor_unit: 2, currency_decimal_separator: ',', currency_thousand_separator: '\u202f', currency_prefix: '', currency_suffix: ' €' };
  return {
    items: cart.lines.map((l, i) => {
      const thumb = l.product.image.replace(/\.jpg$/, '-300x300.jpg');
      return {
        key: itemKeys[i],
        id: l.product.id,
        type: l.options.length > 0 ? 'variation' : 'simple',
        quantity: l.qty,
        quantity_limits: { minimum: 1, maximum: 9999, multiple_of: 1, editable: true },
        name: l.product.name,
        short_description: '',
        description: '',
        sku: l.product.sku,
        low_stock_remaining: null,
        backorders_allowed: false,
        show_backorder_badge: false,
        sold_individually: false,
        permalink: `${site}/produit/${l.product.slug}/`,
        images: [{ id: l.product.id + 500, src: `${site}/wp-content/uploads/2024/03/${l.product.image}`, thumbnail: `${site}/wp-content/uploads/2024/03/${thumb}`, srcset: `${site}/wp-content/uploads/2024/03/${l.product.image} 800w, ${site}/wp-content/uploads/2024/03/${thumb} 300w`, sizes: '(max-width: 800px) 100vw, 800px', name: l.product.image, alt: '' }],
        variation: l.options.map((o) => ({ attribute: o.name, value: o.value })),
        item_data: [],
        prices: { price: String(l.unitPrice), regular_price: String(l.unitPrice), sale_price: String(l.unitPrice), price_range: null, ...eur, raw_prices: { precision: 6, price: String(l.unitPrice * 10000), regular_price: String(l.unitPrice * 10000), sale_price: String(l.unitPrice * 10000) } },
        totals: { line_subtotal: String(l.lineTotal), line_subtotal_tax: '0', line_total: String(l.lineTotal), line_total_tax: '0', ...eur },
        catalog_visibility: 'visible',
        extensions: {},
      };
    }),
    coupons: [],
    fees: [],
    totals: { total_items: String(cart.subtotal), total_items_tax: '0', total_fees: '0', total_fees_tax: '0', total_discount: '0', total_discount_tax: '0', total_shipping: null, total_shipping_tax: null, total_price: String(cart.subtotal), total_tax: '0', tax_lines: [], ...eur },
    shipping_address: { first_name: '', last_name: '', company: '', address_1: '', address_2: '', city: '', state: '', postcode: '', country: 'FR', phone: '' },
    billing_address: { first_name: '', last_name: '', company: '', address_1: '', address_2: '', city: '', state: '', postcode: '', country: 'FR', email: '', phone: '' },
    needs_payment: cart.lines.length > 0,
    needs_shipping: cart.lines.length > 0,
    payment_requirements: ['products'],
    has_calculated_shipping: false,
    shipping_rates: [],
    items_count: cart.itemCount,
    items_weight: 0,
    cross_sells: [],
    errors: [],
    payment_methods: ['paygateway', 'bacs'],
    extensions: {},
  };
}

const woocommerceBlocks: PlatformModel = {
  file: 'woocommerce-blocks.html',
  path: '/commande/',
  models:
    'WooCommerce 8.9 Checkout block on Twenty Twenty-Four (fr_FR): wc-blocks-middleware-js-before (Store API nonce + time()), ' +
    'wc-settings-js-before (wcSettings and the preloading middleware carrying the /wc/store/v1/cart response with its Nonce and ' +
    'Cart-Token headers, both rawurlencode(wp_json_encode())), wp-api-fetch-js-after (root URL and wp_rest nonce middleware), ' +
    'wp-i18n and translation scripts, the skip-link script, the interactivity import map and data block, the mini-cart block',
  siteValues: (origins) => ({ ...commonSiteValues(origins), wc_settings: rawurlencode(phpJson(wcSettings(origins))) }),
  perRequest: ['timestamp', 'wc_preloaded'],
  visitFill({ origins: { site }, session, request, cart, time }) {
    const restNonce = session.hex(10);
    const storeApiNonce = session.hex(10);
    const cartUser = `t_${session.hex(30)}`;
    const cartHash = session.hex(32);
    const itemKeys = cart.lines.map(() => session.hex(32));
    // Store API Cart-Token: a JWT whose exp is time() + 2 days, so it changes on every request.
    const jwtPart = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cartToken = `${jwtPart({ alg: 'HS256', typ: 'JWT' })}.${jwtPart({ user_id: cartUser, exp: time + 172800, iss: 'store-api' })}.${b64url(request.bytes(32))}`;
    const preloaded = {
      '/wc/store/v1/cart': {
        body: storeApiCart(site, cart, itemKeys),
        headers: { Nonce: storeApiNonce, 'Nonce-Timestamp': String(time), 'User-ID': 0, 'Cart-Token': cartToken, 'Cart-Hash': cartHash },
      },
    };
    const miniCartTotals = { currency_code: 'EUR', currency_symbol: '€', currency_minor_unit: 2, currency_decimal_separator: ',', currency_thousand_separator: '\u202f', currency_prefix: '', currency_suffix: ' €', total_price: String(cart.subtotal), total_tax: '0' };
    return {
      values: {
        rest_nonce: restNonce,
        store_api_nonce: storeApiNonce,
        timestamp: String(time),
        wc_preloaded: rawurlencode(phpJson(preloaded)),
        mini_cart_totals: escapeHtml(phpJson(miniCartTotals)),
        cart_count: String(cart.itemCount),
      },
      sections: {},
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Magento 2.4.7 Luma one-page checkout (checkout_index_index), guest.

const MAGENTO_IMAGE_CACHE = '/media/catalog/product/cache/3a98496dd7cb0c8b28c4c254a98f915a';

const magento: PlatformModel = {
  file: 'magento.html',
  path: '/checkout/',
  models:
    'Magento 2.4.7 Luma checkout_index_index (guest): require.js.phtml BASE_URL/require config, Magento_Csp sri/hashes.phtml ' +
    '(window.sriHashes), onepage.phtml (window.checkoutConfig with formKey, quoteData, quoteItemData, imageData, totalsData, captcha ' +
    'timestamps, payment config; and the mage/url + block-loader require()), the cookie-status secureRenderer script with its ' +
    'escaped type attribute, window.authenticationPopup, window.checkout, the text/x-magento-init blocks (jsLayout, section-config, ' +
    'customer-data, pageCache, the 2.4.7-p1 nonce injector) and the form_key hidden input',
  siteValues: commonSiteValues,
  perRequest: ['timestamp', 'csp_nonce'],
  visitFill({ origins: { site }, session, request, cart, sessionStart, time }) {
    const formKey = session.alnum(16);
    const maskedQuoteId = session.alnum(32);
    const quoteId = session.int(1000, 99999);
    const createdAt = sessionStart - session.int(600, 7200);
    const updatedAt = createdAt + session.int(5, 500);
    const clientToken = session.bytes(48).toString('base64');
    const firstItemId = session.int(10000, 90000);
    const itemIds = cart.lines.map((_l, i) => String(firstItemId + i * 3));
    const amount = (minor: number): number => minor / 100;
    const imagePath = (image: string): string => `/${image[0]}/${image[1]}/${image}`;
    const items = cart.lines.map((l, i) => ({
      item_id: itemIds[i],
      quote_id: String(quoteId),
      created_at: mysqlTime(createdAt),
      updated_at: mysqlTime(updatedAt),
      product_id: String(l.product.id),
      store_id: 1,
      parent_item_id: null,
      is_virtual: '0',
      sku: l.options.length > 0 ? `${l.product.sku}-${l.options.map((o) => slugOf(o.value).toUpperCase()).join('-')}` : l.product.sku,
      name: l.product.name,
      description: null,
      applied_rule_ids: null,
      additional_data: null,
      is_qty_decimal: false,
      no_discount: '0',
      weight: (l.product.grams / 1000).toFixed(4),
      qty: l.qty,
      price: amount(l.unitPrice),
      base_price: amount(l.unitPrice),
      custom_price: null,
      discount_percent: 0,
      discount_amount: 0,
      base_discount_amount: 0,
      tax_percent: 0,
      tax_amount: 0,
      base_tax_amount: 0,
      row_total: amount(l.lineTotal),
      base_row_total: amount(l.lineTotal),
      row_total_with_discount: 0,
      row_weight: (l.product.grams * l.qty / 1000).toFixed(4),
      product_type: l.options.length > 0 ? 'configurable' : 'simple',
      options: l.options.map((o) => ({ label: o.name, value: o.value })),
      thumbnail: `${site}${MAGENTO_IMAGE_CACHE}${imagePath(l.product.image)}`,
      message: '',
      product: {
        entity_id: String(l.product.id),
        attribute_set_id: '4',
        type_id: l.options.length > 0 ? 'configurable' : 'simple',
        sku: l.product.sku,
        has_options: l.options.length > 0 ? '1' : '0',
        required_options: l.options.length > 0 ? '1' : '0',
        name: l.product.name,
        url_key: l.product.slug,
        request_path: `${l.product.slug}.html`,
        small_image: imagePath(l.product.image),
        thumbnail: imagePath(l.product.image),
        status: '1',
        visibility: '4',
        tax_class_id: '2',
        price: decimal4(l.unitPrice),
        is_salable: '1',
      },
    }));
    const imageData = cart.lines.length === 0
      ? [] // PHP json_encode of an empty array
      : Object.fromEntries(cart.lines.map((l, i) => [itemIds[i], { src: `${site}${MAGENTO_IMAGE_CACHE}${imagePath(l.product.image)}`, alt: l.product.name, width: 165, height: 165 }]));
    const totals = {
      grand_total: amount(cart.subtotal),
      base_grand_total: amount(cart.subtotal),
      subtotal: amount(cart.subtotal),
      base_subtotal: amount(cart.subtotal),
      discount_amount: 0,
      base_discount_amount: 0,
      subtotal_with_discount: amount(cart.subtotal),
      base_subtotal_with_discount: amount(cart.subtotal),
      shipping_amount: 0,
      base_shipping_amount: 0,
      tax_amount: 0,
      base_tax_amount: 0,
      weee_tax_applied_amount: null,
      shipping_tax_amount: 0,
      base_shipping_tax_amount: 0,
      subtotal_incl_tax: amount(cart.subtotal),
      shipping_incl_tax: 0,
      base_shipping_incl_tax: 0,
      base_currency_code: 'USD',
      quote_currency_code: 'USD',
      items_qty: cart.itemCount,
      items: cart.lines.map((l, i) => ({
        item_id: Number(itemIds[i]),
        price: amount(l.unitPrice),
        base_price: amount(l.unitPrice),
        qty: l.qty,
        row_total: amount(l.lineTotal),
        base_row_total: amount(l.lineTotal),
        row_total_with_discount: 0,
        tax_amount: 0,
        base_tax_amount: 0,
        tax_percent: 0,
        discount_amount: 0,
        base_discount_amount: 0,
        discount_percent: 0,
        price_incl_tax: amount(l.unitPrice),
        base_price_incl_tax: amount(l.unitPrice),
        row_total_incl_tax: amount(l.lineTotal),
        base_row_total_incl_tax: amount(l.lineTotal),
        // The item options travel as a JSON string inside the JSON (serialised twice).
        options: phpJson(l.options.map((o) => ({ value: o.value, label: o.name }))),
        weee_tax_applied_amount: null,
        weee_tax_applied: null,
        name: l.product.name,
      })),
      total_segments: [
        { code: 'subtotal', title: 'Subtotal', value: amount(cart.subtotal) },
        { code: 'shipping', title: 'Shipping & Handling', value: null },
        { code: 'tax', title: 'Tax', value: 0, extension_attributes: { tax_grandtotal_details: [] } },
        { code: 'grand_total', title: 'Grand Total', value: amount(cart.subtotal), area: 'footer' },
      ],
    };
    return {
      values: {
        form_key: formKey,
        masked_quote_id: maskedQuoteId,
        quote_created_at: mysqlTime(createdAt),
        quote_updated_at: mysqlTime(updatedAt),
        items_count: String(cart.lines.length),
        items_qty: `${cart.itemCount}.0000`,
        grand_total: decimal4(cart.subtotal),
        base_grand_total: decimal4(cart.subtotal),
        quote_subtotal: decimal4(cart.subtotal),
        quote_base_subtotal: decimal4(cart.subtotal),
        grand_total_amount: String(amount(cart.subtotal)),
        quote_item_data: magentoJson(items),
        image_data: magentoJson(imageData),
        totals_data: magentoJson(totals),
        gateway_client_token: stringContent(clientToken, magentoJson),
        timestamp: String(time),
        // Magento_Csp CspNonceProvider: 32 random characters, base64-encoded, one per request.
        csp_nonce: stringContent(Buffer.from(request.alnum(32)).toString('base64'), phpJson),
      },
      sections: {},
    };
  },
};

// ---------------------------------------------------------------------------------------------
// EC-CUBE 4.3 order page (Shopping/index.twig in default_frame.twig).

const FAMILY = [['佐藤', 'サトウ'], ['鈴木', 'スズキ'], ['高橋', 'タカハシ'], ['田中', 'タナカ'], ['渡辺', 'ワタナベ'], ["O'Brien", 'オブライエン']] as const;
const GIVEN = [['花子', 'ハナコ'], ['太郎', 'タロウ'], ['翔太', 'ショウタ'], ['さくら', 'サクラ'], ['Zoë & Co.', 'ゾーイ']] as const;

/**
 * Symfony's CsrfTokenManager::randomize (BREACH mitigation, symfony/security-csrf ≥ 6.3 as EC-CUBE 4.3
 * ships): the same token reads differently on every request.
 */
function randomizedCsrf(token: string, rng: Rng): string {
  const key = rng.bytes(32);
  const value = Buffer.from(token);
  const xored = Buffer.from(value.map((b, i) => b ^ key[i % key.length]!));
  const prefix = createHash('md5').update(key).digest('hex').slice(0, 1 + (key[0]! % 32));
  return `${prefix}.${b64url(key)}.${b64url(xored)}`;
}

const eccube: PlatformModel = {
  file: 'eccube.html',
  path: '/shopping',
  models:
    'EC-CUBE 4.3 default theme, Shopping/index.twig inside default_frame.twig: the eccube-csrf-token meta (read by the static ' +
    'ajaxSetup script), common/lang.twig (var eccube_lang), the order page\'s $(function(){…}) with absolute url() URLs and its ' +
    'guest-only part ({% if is_granted(\'ROLE_USER\') == false %}), the form _token inputs',
  siteValues: commonSiteValues,
  perRequest: ['csrf_token', 'form_token', 'logout_token'],
  visitFill({ session, request, cart }) {
    const member = session.chance(0.35);
    const [family, familyKana] = session.pick(FAMILY);
    const [given, givenKana] = session.pick(GIVEN);
    const csrfToken = b64url(session.bytes(32));
    const formToken = b64url(session.bytes(32));
    const email = `${session.alnum(8).toLowerCase()}@example.jp`;
    const postal = `${session.int(100, 999)}${session.int(1000, 9999)}`;
    const shipping = cart.lines.length > 0 ? 1000 : 0;
    return {
      values: {
        csrf_token: randomizedCsrf(csrfToken, request),
        form_token: randomizedCsrf(formToken, request),
        logout_token: randomizedCsrf(csrfToken, request),
        customer_name01: escapeHtml(family),
        customer_name02: escapeHtml(given),
        customer_kana01: escapeHtml(familyKana),
        customer_kana02: escapeHtml(givenKana),
        customer_email: escapeHtml(email),
        customer_postal_code: postal,
        cart_count: String(cart.itemCount),
        subtotal: yen(cart.subtotal),
        total: yen(cart.subtotal + shipping),
      },
      sections: {
        member: member ? [{}] : [],
        guest: member ? [] : [{}],
        line: cart.lines.map((l) => ({
          line_image: l.product.image,
          line_name: escapeHtml(l.product.name),
          line_name_attr: escapeHtml(l.product.name),
          line_meta: l.options.map((o) => `<p>${escapeHtml(o.name)}：${escapeHtml(o.value)}</p>`).join(''),
          line_price: yen(l.unitPrice),
          line_qty: String(l.qty),
        })),
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Shopify Dawn 15 cart page (/cart), with the platform's content_for_header.

const shopifyDawn: PlatformModel = {
  file: 'shopify-dawn.html',
  path: '/cart',
  models:
    'Shopify Dawn 15 /cart: content_for_header (Shopify.* globals, var __st with the per-request reqid and the visitor id, ' +
    'ShopifyAnalytics.meta with the request id, web-pixels-manager-setup with the cart in initData, shopify-features and ' +
    'apple-pay JSON blocks), theme.liquid (shopUrl/routes/cartStrings script, designMode script, onload="this.media=\'all\'" ' +
    'stylesheets), cart-drawer onclick="this.closest(\'cart-drawer\').close()", main-cart-items rows, and a theme\'s ' +
    '<script type="application/json"> cart block ({{ cart | json }})',
  siteValues: commonSiteValues,
  perRequest: ['reqid', 'analytics_reqid'],
  visitFill({ origins: { site }, session, request, cart }) {
    const host = new URL(site).host;
    const visitorId = session.hex(12);
    const cartToken = `Z2NwLWV1cm9wZS13ZXN0NDowMU${session.chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 26)}`;
    const cartKey = session.hex(32);
    const lineKeys = cart.lines.map((l) => `${l.variantId}:${session.hex(32)}`);
    const reqid = request.uuid();
    const eur = (minor: number): number => minor / 100;
    const variantTitle = (l: CartLine): string | null => (l.options.length > 0 ? l.options.map((o) => o.value).join(' / ') : null);
    const cartJs = {
      token: `${cartToken}?key=${cartKey}`,
      note: null,
      attributes: {},
      original_total_price: cart.subtotal,
      total_price: cart.subtotal,
      total_discount: 0,
      total_weight: cart.lines.reduce((n, l) => n + l.product.grams * l.qty, 0),
      item_count: cart.itemCount,
      items: cart.lines.map((l, i) => ({
        id: l.variantId,
        properties: {},
        quantity: l.qty,
        variant_id: l.variantId,
        key: lineKeys[i],
        title: variantTitle(l) === null ? l.product.name : `${l.product.name} - ${variantTitle(l)}`,
        price: l.unitPrice,
        original_price: l.unitPrice,
        presentment_price: eur(l.unitPrice),
        discounted_price: l.unitPrice,
        line_price: l.lineTotal,
        original_line_price: l.lineTotal,
        total_discount: 0,
        discounts: [],
        sku: l.product.sku,
        grams: l.product.grams,
        vendor: 'Example Shop',
        taxable: true,
        product_id: 8_000_000_000 + l.product.id,
        product_has_only_default_variant: l.options.length === 0,
        gift_card: l.product.type === 'Gift card',
        final_price: l.unitPrice,
        final_line_price: l.lineTotal,
        url: `/products/${l.product.slug}?variant=${l.variantId}`,
        featured_image: { aspect_ratio: 1.0, alt: l.product.name, height: 1200, url: `${site}/cdn/shop/files/${l.product.image}?v=1704300000`, width: 1200 },
        image: `${site}/cdn/shop/files/${l.product.image}?v=1704300000`,
        handle: l.product.slug,
        requires_shipping: l.product.grams > 0,
        product_type: l.product.type,
        product_title: l.product.name,
        product_description: `${l.product.name}, from our ${l.product.type.toLowerCase()} range.`,
        variant_title: variantTitle(l),
        variant_options: l.options.length > 0 ? l.options.map((o) => o.value) : ['Default Title'],
        options_with_values: l.options.length > 0 ? l.options.map((o) => ({ name: o.name, value: o.value })) : [{ name: 'Title', value: 'Default Title' }],
        line_level_discount_allocations: [],
        line_level_total_discount: 0,
        quantity_rule: { min: 1, max: null, increment: 1 },
        has_components: false,
      })),
      requires_shipping: cart.lines.some((l) => l.product.grams > 0),
      currency: 'EUR',
      items_subtotal_price: cart.subtotal,
      cart_level_discount_applications: [],
    };
    const wpmCart = {
      id: cartToken,
      cost: { totalAmount: { amount: eur(cart.subtotal), currencyCode: 'EUR' } },
      lines: cart.lines.map((l) => ({
        cost: { totalAmount: { amount: eur(l.lineTotal), currencyCode: 'EUR' } },
        merchandise: {
          id: String(l.variantId),
          image: { src: `//${host}/cdn/shop/files/${l.product.image}?v=1704300000` },
          price: { amount: eur(l.unitPrice), currencyCode: 'EUR' },
          product: { id: String(8_000_000_000 + l.product.id), title: l.product.name, untranslatedTitle: l.product.name, url: `/products/${l.product.slug}`, type: l.product.type, vendor: 'Example Shop' },
          sku: l.product.sku,
          title: variantTitle(l) ?? 'Default Title',
          untranslatedTitle: variantTitle(l) ?? 'Default Title',
        },
        quantity: l.qty,
      })),
      totalQuantity: cart.itemCount,
    };
    return {
      values: {
        reqid,
        analytics_reqid: reqid,
        visitor_id: visitorId,
        wpm_cart: shopifyJson(wpmCart),
        cart_json: shopifyJson(cartJs),
        cart_count: String(cart.itemCount),
        total: money(cart.subtotal, ',', ' '),
        total_minor: String(cart.subtotal),
      },
      sections: {
        line: cart.lines.map((l, i) => ({
          line_index: String(i + 1),
          line_url: `/products/${l.product.slug}?variant=${l.variantId}`,
          line_image: `//${host}/cdn/shop/files/${l.product.image}?v=1704300000&amp;width=300`,
          line_name: escapeHtml(l.product.name, '&#39;'),
          line_price: money(l.unitPrice, ',', ' '),
          line_total: money(l.lineTotal, ',', ' '),
          line_meta:
            l.options.length === 0
              ? ''
              : `<dl>${l.options.map((o) => `<div class="product-option"><dt>${escapeHtml(o.name, '&#39;')}: </dt><dd>${escapeHtml(o.value, '&#39;')}</dd></div>`).join('')}</dl>`,
          line_qty: String(l.qty),
          line_variant_id: String(l.variantId),
          line_key: lineKeys[i]!,
        })),
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Next.js App Router storefront (Next.js Commerce style), /cart rendered dynamically.

/** React Flight escapes a string that starts with `$` by doubling it. */
function flightValue(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith('$') ? `$${value}` : value;
  if (Array.isArray(value)) return value.map(flightValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flightValue(v)]));
  return value;
}

const NEXT_CSS = '/_next/static/css/7e2b0f0c3a1d9e44.css';
const NEXT_BODY_CLASS = 'bg-neutral-50 text-black selection:bg-teal-300 dark:bg-neutral-900 dark:text-white dark:selection:bg-pink-500 dark:selection:text-white';

/** The RSC flight payload of the /cart page for this cart (rows as Next.js 14 writes them). */
function flightPayload(site: string, cart: Cart, cartId: string, lineIds: readonly string[], renderedAt: string): string {
  const usd = (minor: number): { amount: string; currencyCode: string } => ({ amount: money(minor, '.', ''), currencyCode: 'USD' });
  const cartData = flightValue({
    id: cartId,
    checkoutUrl: `${site}/checkout?cart=${encodeURIComponent(cartId)}`,
    cost: { subtotalAmount: usd(cart.subtotal), totalAmount: usd(cart.subtotal), totalTaxAmount: usd(0) },
    lines: cart.lines.map((l, i) => ({
      id: lineIds[i],
      quantity: l.qty,
      cost: { totalAmount: usd(l.lineTotal) },
      merchandise: {
        id: `gid://shopify/ProductVariant/${l.variantId}`,
        title: l.options.length > 0 ? l.options.map((o) => o.value).join(' / ') : 'Default Title',
        selectedOptions: l.options.map((o) => ({ name: o.name, value: o.value })),
        product: { id: `gid://shopify/Product/${8_000_000_000 + l.product.id}`, handle: l.product.slug, title: l.product.name, featuredImage: { url: `/products/${l.product.image}`, altText: l.product.name, width: 1200, height: 1200 } },
      },
    })),
    totalQuantity: cart.itemCount,
  });
  const notFound = '[["$","title",null,{"children":"404: This page could not be found."}],["$","div",null,{"style":{"fontFamily":"system-ui,\\"Segoe UI\\",Roboto,Helvetica,Arial,sans-serif","height":"100vh","textAlign":"center","display":"flex","flexDirection":"column","alignItems":"center","justifyContent":"center"},"children":["$","div",null,{"children":[["$","h1",null,{"className":"next-error-h1","children":"404"}],["$","div",null,{"children":["$","h2",null,{"children":"This page could not be found."}]}]]}]}]]';
  const router = (segmentPath: string, notFoundTree: string): string =>
    `["$","$L5",null,{"parallelRouterKey":"children","segmentPath":${segmentPath},"error":"$undefined","errorStyles":"$undefined","errorScripts":"$undefined","template":["$","$L6",null,{}],"templateStyles":"$undefined","templateScripts":"$undefined","notFound":${notFoundTree},"notFoundStyles":${notFoundTree === '"$undefined"' ? '"$undefined"' : '[]'}}]`;
  const rows = [
    '1:HL["/_next/static/media/a34f9d1faa5f3315-s.p.woff2","font",{"crossOrigin":"","type":"font/woff2"}]',
    `2:HL["${NEXT_CSS}","style"]`,
    `0:["Xq3mH9vT2bLkR8dW1pZ0c",[[["",{"children":["cart",{"children":["__PAGE__",{}]}]},"$undefined","$undefined",true],["",{"children":["cart",{"children":["__PAGE__",{},[["$L3","$L4",null],null],null]},[null,${router('["children","cart","children"]', '"$undefined"')}],null]},[[[["$","link","0",{"rel":"stylesheet","href":"${NEXT_CSS}","precedence":"next","crossOrigin":"$undefined"}]],["$","html",null,{"lang":"en","className":"__variable_3a0388","children":["$","body",null,{"className":"${NEXT_BODY_CLASS}","children":[["$","$L7",null,{"cartCount":${cart.itemCount}}],["$","main",null,{"children":${router('["children"]', notFound)}}],["$","$L8",null,{}]]}]}]],null],null],["$L9",null]]]]`,
    '5:I[7767,[],""]',
    '6:I[4839,[],""]',
    '7:I[1245,["185","static/chunks/app/layout-0f1e2d3c4b5a6978.js"],"Navbar"]',
    '8:I[3187,["185","static/chunks/app/layout-0f1e2d3c4b5a6978.js"],"Footer"]',
    'a:I[2911,["972","static/chunks/972-6d0f6b1e2c3a4b59.js","931","static/chunks/app/cart/page-1a2b3c4d5e6f7a8b.js"],"CartView"]',
    `9:[["$","meta","0",{"name":"viewport","content":"width=device-width, initial-scale=1"}],["$","meta","1",{"charSet":"utf-8"}],["$","title","2",{"children":"Cart | Acme Store"}],["$","meta","3",{"name":"description","content":"High-performance ecommerce store built with Next.js, Vercel, and a headless commerce backend."}],["$","meta","4",{"name":"robots","content":"noindex, follow"}],["$","meta","5",{"property":"og:title","content":"Acme Store"}],["$","meta","6",{"property":"og:url","content":"${site}/cart"}],["$","meta","7",{"property":"og:type","content":"website"}],["$","meta","8",{"name":"twitter:card","content":"summary_large_image"}],["$","link","9",{"rel":"icon","href":"/favicon.ico","type":"image/x-icon","sizes":"16x16"}]]`,
    '3:null',
    `4:["$","div",null,{"className":"mx-auto max-w-screen-2xl px-4","children":["$","$La",null,{"cart":${JSON.stringify(cartData)},"renderedAt":"${renderedAt}","checkoutAction":"${site}/checkout"}]}]`,
  ];
  return rows.map((r) => `${r}\n`).join('');
}

/**
 * The flight stream cut into `count` pieces, as Next.js writes a push script for each chunk the
 * flight stream yields: React flushes a row, or a large row in pieces of its 2048-byte view buffer
 * (ReactServerStreamConfigEdge VIEW_SIZE), so a cut can fall anywhere in a row, and where depends
 * on the rows before it: it changes per request. A piece is at least MIN_FLUSH characters, and a
 * cut never splits a surrogate pair (Next.js decodes the stream as UTF-8 with stream: true).
 * A cut can leave a piece that starts with `//shopify/…` (right after `gid:`) or ends in the
 * middle of a URL (`https://shop.exam`); both must verify clean (verify.test.ts builds the first on
 * purpose).
 */
const MIN_FLUSH = 96;

function cutStream(text: string, count: number, rng: Rng): string[] {
  const pieces = Math.max(1, Math.min(count, Math.floor(text.length / MIN_FLUSH)));
  // Spread the slack past the minimum sizes over the pieces at random.
  const slack = text.length - pieces * MIN_FLUSH;
  const weights = Array.from({ length: pieces }, () => rng.next() + 0.05);
  const total = weights.reduce((a, b) => a + b, 0);
  const cuts: number[] = [];
  let at = 0;
  for (let i = 0; i < pieces - 1; i++) {
    at += MIN_FLUSH + Math.floor((slack * weights[i]!) / total);
    if (/[\udc00-\udfff]/.test(text[at]!)) at -= 1;
    cuts.push(at);
  }
  const bounds = [0, ...cuts, text.length];
  return bounds.slice(1).map((end, i) => text.slice(bounds[i], end));
}

const nextjs: PlatformModel = {
  file: 'nextjs.html',
  path: '/cart',
  models:
    'Next.js 14 App Router storefront (Next.js Commerce layout) /cart rendered per request: the flight bootstrap ' +
    '(self.__next_f=self.__next_f||[]).push([0]) and 8–13 self.__next_f.push([1,"…"]) scripts carrying the RSC payload ' +
    '(htmlEscapeJsonString: < > & as \\u003c \\u003e \\u0026), cut where the stream was flushed; server-action forms',
  siteValues: commonSiteValues,
  perRequest: ['rendered_at', 'rsc'],
  visitFill({ origins: { site }, session, request, cart, time }) {
    const cartId = `gid://shopify/Cart/Z2NwLXVzLWVhc3QxOjAxSF${session.chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 24)}?key=${session.hex(32)}`;
    const lineIds = cart.lines.map(() => `gid://shopify/CartLine/${session.uuid()}?cart=${cartId.slice(19, 45)}`);
    const renderedAt = iso(time);
    const payload = flightPayload(site, cart, cartId, lineIds, renderedAt);
    const chunks = cutStream(payload, request.int(8, 13), request);
    const react = (text: string): string => escapeHtml(text, '&#x27;');
    const image = (file: string, width: number): string => `/_next/image?url=%2Fproducts%2F${encodeURIComponent(file)}&amp;w=${width}&amp;q=75`;
    return {
      values: {
        cart_id: escapeHtml(cartId, '&#x27;'),
        rendered_at: renderedAt,
        cart_count: String(cart.itemCount),
        tax: '0.00',
        total: money(cart.subtotal),
      },
      sections: {
        rsc: chunks.map((chunk) => ({ rsc_chunk: nextStringContent(chunk) })),
        line: cart.lines.map((l) => ({
          line_name: react(l.product.name),
          line_image_1x: image(l.product.image, 64),
          line_image_2x: image(l.product.image, 128),
          line_url: `/product/${l.product.slug}`,
          line_meta: l.options.length === 0 ? '' : `<p class="text-sm text-neutral-500 dark:text-neutral-400">${react(l.options.map((o) => o.value).join(' / '))}</p>`,
          line_total: money(l.lineTotal),
          line_qty: String(l.qty),
        })),
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// EverShop 1.x cart page.

const evershop: PlatformModel = {
  file: 'evershop.html',
  path: '/cart',
  models:
    'EverShop 1.x /cart (ServerHtml): <script>var eContext = …</script> from serializeEContext (jsesc json + isScriptContext) ' +
    'with graphqlResponse (the visitor\'s cart, store settings, menu, theme config), propsMap, widgets and notifications',
  siteValues: commonSiteValues,
  perRequest: [],
  visitFill({ session, cart }) {
    const cartUuid = session.uuid();
    const usd = (minor: number): { value: number; text: string } => ({ value: minor / 100, text: `$${money(minor)}` });
    const items = cart.lines.map((l) => {
      const cartItemId = session.uuid();
      return {
        cartItemId,
        thumbnail: `/assets/catalog/${l.product.id}/thumb/${l.product.image}`,
        qty: l.qty,
        productName: l.product.name,
        productSku: l.product.sku,
        productUrl: `/product/${l.product.slug}`,
        variantOptions: l.options.map((o, i) => ({ attributeCode: slugOf(o.name), attributeName: o.name, attributeId: 10 + i, optionId: 100 + l.product.options[i]!.values.indexOf(o.value), optionText: o.value })),
        productPrice: usd(l.unitPrice),
        productPriceInclTax: usd(l.unitPrice),
        finalPrice: usd(l.unitPrice),
        finalPriceInclTax: usd(l.unitPrice),
        total: usd(l.lineTotal),
        removeApi: `/api/cart/mine/items/${cartItemId}`,
        updateQtyApi: `/api/cart/mine/items/${cartItemId}`,
        errors: [],
      };
    });
    const cartData = {
      uuid: cartUuid,
      totalQty: cart.itemCount,
      subTotal: usd(cart.subtotal),
      subTotalInclTax: usd(cart.subtotal),
      grandTotal: usd(cart.subtotal),
      taxAmount: usd(0),
      discountAmount: usd(0),
      coupon: null,
      items,
      addItemApi: `/api/cart/mine/items`,
      addPaymentMethodApi: `/api/carts/${cartUuid}/paymentMethods`,
      addShippingMethodApi: `/api/carts/${cartUuid}/shippingMethods`,
      addContactInfoApi: `/api/carts/${cartUuid}/contacts`,
      addAddressApi: `/api/carts/${cartUuid}/addresses`,
    };
    return {
      values: {
        cart_json: jsescJson(cartData),
        cart_uuid: cartUuid,
        coupon_api: `/api/carts/${cartUuid}/coupons`,
        apply_coupon_api: `/api/carts/${cartUuid}/coupons`,
        cart_count: String(cart.itemCount),
        subtotal: money(cart.subtotal),
        total: money(cart.subtotal),
      },
      sections: {
        line: cart.lines.map((l) => ({
          line_image: `/assets/catalog/${l.product.id}/thumb/${l.product.image}`,
          line_name: escapeHtml(l.product.name, '&#x27;'),
          line_url: `/product/${l.product.slug}`,
          line_meta:
            l.options.length === 0
              ? ''
              : `<div class="cart-item-variant-options mt-05"><ul>${l.options.map((o) => `<li><span class="attribute-name font-semibold">${escapeHtml(o.name, '&#x27;')}: </span><span>${escapeHtml(o.value, '&#x27;')}</span></li>`).join('')}</ul></div>`,
          line_price: money(l.unitPrice),
          line_qty: String(l.qty),
          line_total: money(l.lineTotal),
        })),
      },
    };
  },
};

export const MODELS = {
  'woocommerce-classic': woocommerceClassic,
  'woocommerce-blocks': woocommerceBlocks,
  magento,
  eccube,
  'shopify-dawn': shopifyDawn,
  nextjs,
  evershop,
} as const satisfies Record<string, PlatformModel>;
