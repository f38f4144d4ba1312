/**
 * The policy a careful operator would sign for each platform page (issue 18; the template format is
 * the one /tmp/spec/inline-templates.md fixes and src/policy/inline-template.ts reads).
 *
 * How the inline entries are written, as an operator does it from view-source:
 * - A script or handler whose text carries only site-fixed values (the origins, the store's
 *   settings) is allowed by the sha256 of its text as the DOM holds it.
 * - A script that carries per-session or per-request values becomes a template: its text with
 *   `$slot$name` where the page file has `{{name}}` (the whole literal, quotes included), each slot
 *   typed as narrowly as the platform allows (a WordPress nonce is ten hex digits; a cart is JSON).
 *   A value that occurs twice in one script gets a slot per occurrence (`timestamp`, `timestamp_2`).
 * - Markup the platform sometimes leaves out (EC-CUBE's guest-only script part) gives one entry
 *   per shape: the page with each section kept once, and with every section left out.
 *
 * The slot types and the reasons below are the operator's judgement, written by hand; the template
 * text is taken from the page file, so the policy cannot drift from the page it was written for.
 */
import { createHash } from 'node:crypto';
import { parse, type Node } from 'acorn';
import { Document, isMap, isScalar, visit } from 'yaml';
import { inlineCodeOf, partialFill } from './page-text.js';
import { platformModel, platformPage, type Origins, type Platform } from './render.js';

/** A slot as the policy states it (the spec's `slots:` values). */
export type SlotDeclaration =
  | { readonly type: 'string'; readonly charset?: 'digits' | 'hex' | 'alnum' | 'base64' | 'base64url' | 'token' | 'text'; readonly length?: readonly [number, number] }
  | { readonly type: 'number'; readonly min?: number; readonly max?: number; readonly integer?: boolean }
  | { readonly type: 'boolean' }
  | { readonly type: 'null' }
  | { readonly type: 'json'; readonly maxLength?: number };

const WP_NONCE = { type: 'string', charset: 'hex', length: [10, 10] } as const;
const UNIX_TIME = { type: 'string', charset: 'digits', length: [10, 10] } as const;
const UUID = { type: 'string', charset: 'token', length: [36, 36] } as const;
const CART = { type: 'json', maxLength: 262_144 } as const;
const MAGENTO_DECIMAL = { type: 'string', charset: 'token', length: [6, 16] } as const;

interface PlatformPolicy {
  /** Routes served in block mode (the page's own among them). */
  readonly protectedPaths: readonly string[];
  /** Every slot a script of the page can carry, by placeholder name. */
  readonly slots: Readonly<Record<string, SlotDeclaration>>;
  /** Why each template is signed: the first entry whose marker the script contains. */
  readonly templateWhy: readonly (readonly [marker: string, why: string])[];
}

const PLATFORM_POLICIES: Record<Platform, PlatformPolicy> = {
  'woocommerce-classic': {
    protectedPaths: ['/checkout/**', '/cart/**', '/my-account/**'],
    slots: {
      update_order_review_nonce: WP_NONCE,
      apply_coupon_nonce: WP_NONCE,
      remove_coupon_nonce: WP_NONCE,
      create_intent_nonce: WP_NONCE,
      cart_total_minor: { type: 'number', integer: true, min: 0, max: 100_000_000 },
      cart_json: CART,
      gateway_session: { type: 'string', charset: 'token', length: [28, 28] },
    },
    templateWhy: [
      ['var wc_checkout_params', 'wp_localize_script(wc-checkout): the update-order-review, apply-coupon and remove-coupon nonces (wp_create_nonce: per user, session and 12-hour tick)'],
      ['var wc_paygateway_params', 'card gateway plugin, localized params: its create-intent nonce (per session), the order total and the cart as wallet display items'],
      ['wcPayGateway.mount', 'card gateway plugin, wp_add_inline_script after: mounts the card element with the gateway session token (per session) and the order total'],
    ],
  },
  'woocommerce-blocks': {
    protectedPaths: ['/commande/**', '/panier/**', '/mon-compte/**'],
    slots: {
      rest_nonce: WP_NONCE,
      store_api_nonce: WP_NONCE,
      timestamp: UNIX_TIME,
      wc_preloaded: { type: 'string', charset: 'text', length: [1, 262_144] },
    },
    templateWhy: [
      ['createNonceMiddleware', 'WordPress core (wp-api-fetch after): the REST root URL and the wp_rest nonce middleware (nonce per session)'],
      ['createPreloadingMiddleware', 'WooCommerce asset data registry: wcSettings (fixed for the store) and the preloaded /wc/store/v1/cart response with its Nonce, Nonce-Timestamp and Cart-Token headers (per session and per request), rawurlencode(wp_json_encode())'],
      ['wcBlocksMiddlewareConfig', 'WooCommerce Store API nonce (per session) and time() (per request)'],
    ],
  },
  magento: {
    protectedPaths: ['/checkout/**', '/paygateway/**', '/customer/**'],
    slots: {
      form_key: { type: 'string', charset: 'alnum', length: [16, 16] },
      masked_quote_id: { type: 'string', charset: 'alnum', length: [32, 32] },
      quote_created_at: { type: 'string', charset: 'text', length: [19, 19] },
      quote_updated_at: { type: 'string', charset: 'text', length: [19, 19] },
      items_count: { type: 'string', charset: 'digits', length: [1, 4] },
      items_qty: MAGENTO_DECIMAL,
      grand_total: MAGENTO_DECIMAL,
      base_grand_total: MAGENTO_DECIMAL,
      quote_subtotal: MAGENTO_DECIMAL,
      quote_base_subtotal: MAGENTO_DECIMAL,
      quote_item_data: CART,
      image_data: CART,
      totals_data: CART,
      timestamp: { type: 'number', integer: true, min: 1_000_000_000, max: 9_999_999_999 },
      grand_total_amount: { type: 'number', min: 0, max: 1_000_000 },
      gateway_client_token: { type: 'string', charset: 'base64', length: [64, 64] },
    },
    templateWhy: [
      ['window.checkoutConfig', 'onepage.phtml window.checkoutConfig: form key, masked quote id, quote totals and items, image and totals data (per session), captcha timestamps (time(), per request), the gateway client token'],
    ],
  },
  eccube: {
    protectedPaths: ['/shopping/**', '/cart', '/mypage/**'],
    slots: {},
    templateWhy: [],
  },
  'shopify-dawn': {
    protectedPaths: ['/cart', '/cart/**', '/account/**'],
    slots: {
      reqid: UUID,
      analytics_reqid: UUID,
      visitor_id: { type: 'string', charset: 'hex', length: [12, 12] },
      wpm_cart: CART,
    },
    templateWhy: [
      ['var __st=', 'content_for_header: __st with the request id (per request) and the visitor token (per session)'],
      ['ShopifyAnalytics.meta', 'content_for_header: analytics meta with the request id (per request)'],
      ['webPixelsManager', 'content_for_header: the web pixels manager loader, the visitor\'s cart in initData (per session)'],
    ],
  },
  nextjs: {
    protectedPaths: ['/cart', '/checkout/**', '/account/**'],
    slots: {
      rsc_chunk: { type: 'string', charset: 'text', length: [1, 1_048_576] },
    },
    templateWhy: [
      ['self.__next_f.push([1,', 'Next.js App Router: one piece of the RSC flight stream per script (per request; cut where the stream was flushed)'],
    ],
  },
  evershop: {
    protectedPaths: ['/cart', '/checkout/**', '/account/**'],
    slots: {
      cart_json: CART,
      coupon_api: { type: 'string', charset: 'text', length: [1, 128] },
      apply_coupon_api: { type: 'string', charset: 'text', length: [1, 128] },
    },
    templateWhy: [
      ['var eContext = ', 'EverShop ServerHtml: var eContext with the visitor\'s cart and its coupon API path (per session); store settings, menu, theme config and propsMap fixed'],
    ],
  },
};

export type InlineEntry =
  | { readonly hash: string; readonly why: string }
  | { readonly template: string; readonly slots: Readonly<Record<string, SlotDeclaration>>; readonly why: string };

/** The CSP hash source of inline code as the DOM holds it. */
export function sha256Source(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

const QUOTED_OR_BARE = /(['"`])\{\{(\w+)\}\}\1|\{\{(\w+)\}\}/g;

/**
 * The script as a template: each `{{name}}` (with its quotes when quoted) becomes `$slot$name`.
 * Refuses a placeholder that is not a whole literal (inside a longer string it would not be a slot
 * at all): every slot must parse as an identifier of its own.
 */
export function templateOf(text: string, sourceType: 'script' | 'module' | 'json'): { template: string; slotNames: string[] } {
  const seen = new Map<string, number>();
  const slotNames: string[] = [];
  const template = text.replace(QUOTED_OR_BARE, (_m, _q: string | undefined, quoted: string | undefined, bare: string | undefined) => {
    const name = (quoted ?? bare)!;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    const slot = n === 1 ? name : `${name}_${n}`;
    slotNames.push(slot);
    return `$slot$${slot}`;
  });
  const identifiers: string[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(collect);
    if (node === null || typeof node !== 'object') return;
    const n = node as Node & { name?: string };
    if (n.type === 'Identifier' && n.name?.startsWith('$slot$')) identifiers.push(n.name.slice(6));
    for (const value of Object.values(n)) if (value && typeof value === 'object') collect(value);
  };
  collect(parse(template, { ecmaVersion: 'latest', sourceType: sourceType === 'module' ? 'module' : 'script' }));
  if (identifiers.sort().join() !== [...slotNames].sort().join()) {
    throw new Error(`a placeholder is not a whole literal in:\n${text.slice(0, 400)}`);
  }
  return { template, slotNames };
}

/** The allow.inline entries for a platform page at these origins. */
export function platformInlineEntries(platform: Platform, origins: Origins): InlineEntry[] {
  const spec = PLATFORM_POLICIES[platform];
  const siteValues = platformModel(platform).siteValues(origins);
  const entries: InlineEntry[] = [];
  const known = new Set<string>();
  for (const shape of ['once', 'none'] as const) {
    const page = partialFill(platformPage(platform), siteValues, shape);
    for (const code of inlineCodeOf(page).code) {
      if (!/\{\{\w+\}\}/.test(code.text)) {
        const hash = sha256Source(code.text);
        if (known.has(hash)) continue;
        known.add(hash);
        entries.push({ hash, why: `${platform}: ${code.label}, fixed for the site` });
        continue;
      }
      if (code.kind === 'handler' || code.sourceType === 'json') throw new Error(`${platform}: per-request values in ${code.label}, which only a hash can allow`);
      const { template, slotNames } = templateOf(code.text, code.sourceType);
      if (known.has(template)) continue;
      known.add(template);
      const slots = Object.fromEntries(
        slotNames.map((slot) => {
          const declared = spec.slots[slot] ?? spec.slots[slot.replace(/_\d+$/, '')];
          if (!declared) throw new Error(`${platform}: no slot type for ${slot} (${code.label})`);
          return [slot, declared];
        }),
      );
      const why = spec.templateWhy.find(([marker]) => code.text.includes(marker))?.[1];
      if (!why) throw new Error(`${platform}: no reason written for the template of ${code.label}`);
      entries.push({ template, slots, why });
    }
  }
  return entries;
}

/** The paths a platform's policy serves in block mode. */
export function protectedPaths(platform: Platform): readonly string[] {
  return PLATFORM_POLICIES[platform].protectedPaths;
}

/**
 * A complete policy for one platform page: its checkout and cart routes in block mode, the rest
 * in report mode, the gateway in the lists the page needs, and the inline entries above.
 */
export function platformPolicyYaml(platform: Platform, origins: Origins): string {
  const { site, gateway } = origins;
  const policy = {
    schema: 1,
    serial: 1,
    site,
    routes: [...protectedPaths(platform).map((path) => ({ path, mode: 'block' })), { path: '/**', mode: 'report' }],
    allow: {
      form: [{ origin: gateway, why: 'card payment gateway: hosted payment page and 3-D Secure' }],
      script: [{ url: `${gateway}/v3/`, why: 'gateway tokenizer and payment messaging scripts' }],
      frame: [{ origin: gateway, why: 'hosted card fields (iframe)' }],
      navigate: [{ origin: gateway, why: '3-D Secure redirect' }],
      connect: [{ origin: gateway, why: 'tokenization API called by token.js' }],
      image: [{ url: `${gateway}/assets/card-brands.svg`, why: 'card brand logos the gateway asks us to show' }],
      inline: platformInlineEntries(platform, origins),
    },
  };
  const doc = new Document(policy, { aliasDuplicateObjects: false });
  doc.commentBefore = ` payguard policy for the ${platform} fixture page (test/platforms/pages/${platformModel(platform).file}).`;
  // Slots read best one to a line: `nonce: { type: string, charset: hex, length: [10, 10] }`.
  visit(doc, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === 'slots' && isMap(pair.value)) {
        for (const item of pair.value.items) if (isMap(item.value)) item.value.flow = true;
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}
