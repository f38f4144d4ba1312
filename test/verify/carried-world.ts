/**
 * Issue 17 class 4, as generated cases: a URL spelling (what the shop's own code ends up holding)
 * placed in a carrier (where the page carries it) with one encoding of it (how the markup spells
 * it), and the clean code that reads it back. Shared by test/verify/carried-urls.test.ts (the
 * verifier alone) and test/verify/oracle-carried-urls.test.ts (Chromium says where the code goes).
 */
import fc from 'fast-check';
import type { Policy } from '../../src/policy/model.js';
import { testPolicy } from './policy.js';

/** Spellings of a destination on the attacker's host, as the reading code gets them. */
export const FOREIGN_VALUES = [
  'https://evil.example/pay',
  'HTTPS://EVIL.EXAMPLE/pay',
  '//evil.example/pay',
  '\\\\evil.example/pay',
  '/\\evil.example/pay',
  '\\/evil.example/pay',
  'https:\\\\evil.example\\pay',
  ' https://evil.example/pay ',
  'ht\ttps://evil.example/pay',
  'https://ev\nil.example/pay',
  'https://evil.example:443/pay',
  'https://evil.example',
  'https:evil.example/pay',
  'https://shop.example@evil.example/pay',
  'https://pay.gateway.example.evil.example/pay',
  'https://evil.example/pay?return=https://shop.example/',
  'https%3A%2F%2Fevil.example%2Fpay',
  '//evil.example:8443/pay#x',
];

/**
 * Destinations that are the site's or named by the policy: never a violation. The policy of these
 * tests names https://schema.org (a JSON-LD `@context`, as the inventory drafts it).
 */
export const LEGIT_VALUES = [
  '/checkout/next',
  'next?step=2',
  '?step=2',
  '#summary',
  '../cart',
  'https://pay.gateway.example/3ds', // allow.navigate
  'https://img.cdn.example/p/1.png', // allow.image: no new destination
  'mailto:help@shop.example',
  'tel:+15551234567',
  'Pay now',
  '12:30',
];

export interface Carrier {
  readonly name: string;
  /** The markup for case `i` carrying `value` spelled with `variant`. */
  markup(i: number, value: string, variant: number): string;
  /** The clean code that reads the value back (a JS expression; `i` is the case number). */
  read(i: number): string;
  /** How many spellings of a value the carrier's context has (see `spell*`). */
  readonly variants: number;
}

/** HTML attribute value (double-quoted): plain, one character as a numeric reference, or `/` as `&sol;`. */
function spellAttribute(value: string, variant: number): string {
  const escaped = value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  if (variant === 1) return escaped.replace(/[a-z]/i, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
  if (variant === 2) return escaped.replace(/\//g, '&sol;');
  return escaped;
}

/**
 * Text content: plain, a character reference, or split by a comment (textContent joins it) in the
 * middle, or right after the first six characters (`https:<!---->//evil…`, `ht&#9;tps<!---->://…`).
 */
function spellText(value: string, variant: number): string {
  const escaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const split = (at: number): string => (escaped.length > at ? `${escaped.slice(0, at)}<!---->${escaped.slice(at)}` : escaped);
  if (variant === 1) return escaped.replace(/[a-z]/i, (c) => `&#${c.charCodeAt(0)};`);
  if (variant === 2) return split(Math.floor(escaped.length / 2));
  if (variant === 3) return split(6);
  return escaped;
}

/** The text spelling whose second run, read alone, may be a scheme-relative URL of its own. */
export const TEXT_SPLIT_AFTER_SCHEME = 3;

/** A JSON string: plain, `/` escaped as `\/`, or a letter as `\u00XX`. Safe inside <script>. */
function spellJson(value: string, variant: number): string {
  let json = JSON.stringify(value).replace(/</g, '\\u003c');
  if (variant === 1) json = json.replace(/\//g, '\\/');
  if (variant === 2) json = json.replace(/[a-z]/i, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return json;
}

/** A CSS string: plain, or one letter as a CSS escape (`\68 `), which the CSS tokenizer decodes. */
function spellCss(value: string, variant: number): string {
  let css = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\a ').replace(/</g, '\\3c ');
  if (variant === 1) css = css.replace(/[a-z]/i, (c) => `\\${c.charCodeAt(0).toString(16)} `);
  return `"${css}"`;
}

/** Clean code reading a CSS string back: the computed custom property, its quotes taken off. */
const readCssString = (expr: string): string =>
  `(() => { const v = ${expr}.trim(); try { return JSON.parse(v) } catch { return v.replace(/^["']|["']$/g, '') } })()`;

export const CARRIERS: readonly Carrier[] = [
  {
    name: 'data-* attribute',
    markup: (i, v, s) => `<div id="c${i}" data-pay-url="${spellAttribute(v, s)}"></div>`,
    read: (i) => `document.getElementById('c${i}').dataset.payUrl`,
    variants: 3,
  },
  {
    name: '<meta content>',
    markup: (i, v, s) => `<meta name="pay-url-${i}" content="${spellAttribute(v, s)}">`,
    read: (i) => `document.querySelector('meta[name="pay-url-${i}"]').content`,
    variants: 3,
  },
  {
    name: 'hidden input value',
    markup: (i, v, s) => `<input type="hidden" id="c${i}" name="return" value="${spellAttribute(v, s)}">`,
    read: (i) => `document.getElementById('c${i}').value`,
    variants: 3,
  },
  {
    name: 'a[href] (link filled in or followed)',
    markup: (i, v, s) => `<a id="c${i}" href="${spellAttribute(v, s)}">pay</a>`,
    read: (i) => `document.getElementById('c${i}').href`,
    variants: 3,
  },
  {
    name: 'named anchor reached through DOM clobbering',
    markup: (i, v, s) => `<a id="payUrl${i}" href="${spellAttribute(v, s)}"></a>`,
    // window.payUrlN is the element; assigning it to location stringifies it to its href.
    read: (i) => `window.payUrl${i}`,
    variants: 3,
  },
  {
    name: 'JSON-LD',
    markup: (i, v, s) => `<script type="application/ld+json" id="c${i}">{"@context":"https://schema.org","@type":"Product","offers":{"url":${spellJson(v, s)}}}</script>`,
    read: (i) => `JSON.parse(document.getElementById('c${i}').textContent).offers.url`,
    variants: 3,
  },
  {
    name: 'JSON data block',
    markup: (i, v, s) => `<script type="application/json" id="c${i}">{"payment":{"redirect":${spellJson(v, s)}}}</script>`,
    read: (i) => `JSON.parse(document.getElementById('c${i}').textContent).payment.redirect`,
    variants: 3,
  },
  {
    name: 'JSON in a data-* attribute',
    markup: (i, v, s) => `<div id="c${i}" data-config="${spellAttribute(`{"next":${spellJson(v, s === 2 ? 1 : s)}}`, 0)}"></div>`,
    read: (i) => `JSON.parse(document.getElementById('c${i}').dataset.config).next`,
    variants: 3,
  },
  {
    name: 'CSS custom property in <style>',
    markup: (i, v, s) => `<style>:root { --pay-url-${i}: ${spellCss(v, s)}; }</style>`,
    read: (i) => readCssString(`getComputedStyle(document.documentElement).getPropertyValue('--pay-url-${i}')`),
    variants: 2,
  },
  {
    // A style sheet as Tailwind v4 writes it (EverShop's, issue 18 item 7): `/` and `:` escaped in
    // selectors, a licence comment naming a URL, rules nested in @media and in the rule itself.
    // None of that is a value a script reads; the custom property after it is one.
    name: 'CSS custom property after escaped selectors, comments and nested rules',
    markup: (i, v, s) =>
      `<style>/*! tailwindcss | https://tailwindcss.com */ .group-data-\\[size\\=sm\\]\\/card\\:px-4{padding:0} a[href*="//instagram.com"]{color:red} @media (min-width:1px){.a\\/b:hover{color:red}} :root{.x\\/y{color:red} --pay-url-${i}: ${spellCss(v, s)};}</style>`,
    read: (i) => readCssString(`getComputedStyle(document.documentElement).getPropertyValue('--pay-url-${i}')`),
    variants: 2,
  },
  {
    name: 'CSS custom property in style=""',
    markup: (i, v, s) => `<div id="c${i}" style="${spellAttribute(`--pay-url: ${spellCss(v, s)}`, 0)}"></div>`,
    read: (i) => readCssString(`getComputedStyle(document.getElementById('c${i}')).getPropertyValue('--pay-url')`),
    variants: 2,
  },
  {
    name: 'element text',
    markup: (i, v, s) => `<span id="c${i}" hidden>${spellText(v, s)}</span>`,
    read: (i) => `document.getElementById('c${i}').textContent.trim()`,
    variants: 4,
  },
  {
    name: '<textarea> default value',
    markup: (i, v, s) => `<textarea id="c${i}" hidden>${spellText(v, s)}</textarea>`,
    read: (i) => `document.getElementById('c${i}').value.trim()`,
    variants: 2,
  },
  {
    name: '<option> text as its value',
    markup: (i, v, s) => `<select id="c${i}" hidden><option>${spellText(v, s)}</option></select>`,
    read: (i) => `document.getElementById('c${i}').value.trim()`,
    variants: 2,
  },
];

export interface CarriedCase {
  /** The carrier's name (CARRIERS), so a counterexample prints short. */
  readonly carrier: string;
  readonly value: string;
  readonly variant: number;
  /** Clean code that decodes what it read once more (a URL passed percent-encoded). */
  readonly decodes: boolean;
}

export const carriedCase = (values: readonly string[]): fc.Arbitrary<CarriedCase> =>
  fc
    .record({
      carrier: fc.constantFrom(...CARRIERS.map((c) => c.name)),
      value: fc.constantFrom(...values),
      variant: fc.nat({ max: 3 }),
      decodes: fc.boolean(),
    })
    .map((c) => ({ ...c, variant: c.variant % carrierOf(c).variants }));

export function carrierOf(c: CarriedCase): Carrier {
  return CARRIERS.find((k) => k.name === c.carrier)!;
}

export function caseName(c: CarriedCase): string {
  return `${c.carrier} / ${JSON.stringify(c.value)} / spelling ${c.variant}${c.decodes ? ' / decoded' : ''}`;
}

/** A page of one case (for the verifier), or of many (for Chromium, with the reading code). */
export function page(cases: readonly CarriedCase[], withReaders: boolean): string {
  const body = cases.map((c, i) => carrierOf(c).markup(i, c.value, c.variant)).join('\n');
  const readers = cases.map((c, i) => (c.decodes ? `() => decodeURIComponent(${carrierOf(c).read(i)})` : `() => ${carrierOf(c).read(i)}`));
  const script = withReaders
    ? `<script>
const readers = [${readers.join(',\n')}];
const where = [];
let current;
navigation.addEventListener('navigate', (e) => { current = e.destination.url; e.preventDefault(); });
for (const read of readers) {
  current = null;
  try { location.href = read(); } catch (e) { current = 'threw ' + e.name; }
  where.push(current);
}
window.destinations = where;
</script>`
    : '';
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Checkout</title></head><body>\n${body}\n${script}</body></html>`;
}

/** The verifier tests' policy on `site`, with the schema.org context named as the inventory drafts it. */
export function carriedPolicy(site: string): Policy {
  const base = testPolicy();
  return testPolicy({
    site,
    allow: { ...base.allow, navigate: [...base.allow.navigate, { type: 'origin', origin: 'https://schema.org', why: 'JSON-LD @context (structured data)' }] },
  });
}
