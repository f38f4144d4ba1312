/**
 * The navigation guard (issue 17, class 4; docs/vectors.md N-06; docs/second-layer.md "Navigation
 * guard"). No CSP directive governs top-level navigation (`navigate-to` was dropped from CSP3), so
 * a foreign URL that the shop's own, untampered code reads from data and assigns to `location` is
 * followed by the browser whatever the CSP says. On protected routes payguard places this small
 * script first in `<head>`; it cancels, with the Navigation API's `navigate` event, every
 * navigation of the page to an origin outside the policy, and refuses such URLs to `window.open`
 * and to links that open another window (which the page's own `navigate` event never sees).
 *
 * The script text is constant, so its CSP hash is one constant for every policy: the origins it
 * allows (the site, allow.navigate, allow.form) are read from its own `data-` attribute, which a
 * CSP hash does not cover and which payguard writes from the policy in force.
 *
 * Where it goes (`guardInsertionOffset`): right after the doctype, so that it is the first child of
 * `<head>` and runs before any of the page's scripts. Before the doctype it would put the page in
 * quirks mode (HTML §13.2.6.4.1: a script start tag in the "initial" insertion mode); after it, the
 * `<html>` and `<head>` start tags of the page arrive in the "in head" insertion mode, where the
 * html tag's attributes are merged onto the element already created (§13.2.6.4.7) and a second head
 * tag is ignored. The charset is pinned in Content-Type by payguard (E-02), so moving a
 * `<meta charset>` past the 1024-byte prescan window changes nothing, and the guard is ASCII.
 * Everything else the verifier judged is byte for byte after the guard.
 */
import { createHash } from 'node:crypto';
import type { RouteMatch } from '../../policy/compiled.js';
import { cspModeOf } from '../../policy/csp.js';
import type { Policy } from '../../policy/model.js';
import { CSP_REPORT_PATH } from '../../reserved-paths.js';

/** The attribute the guard reads its allowed destinations from (a JSON array of origins and URLs). */
export const GUARD_ATTRIBUTE = 'data-payguard-navigation-guard';

/**
 * The guard's script text. An item of the allowed list is an origin (`https://pay.example`: any URL
 * on it), a URL ending in `/` (every URL under it) or an exact URL (fragment ignored). Only http(s)
 * destinations (and blob: ones, by the origin they carry) are judged: `javascript:` is code that
 * script-src governs, top-level `data:` navigations are blocked by Chromium, and other schemes
 * (mailto:, tel:) hand over to another application rather than load a page.
 * The built-ins it needs are captured first, so that later code cannot replace them under it.
 *
 * Every cancellation is also reported to payguard's report collector, as a legacy CSP report whose
 * directive is `navigation-guard`: on a page payguard verified clean, a navigation to an unnamed
 * origin is code doing what the policy does not allow (tampered data, a skimmer), and operators
 * see it in `payguard_csp_reports_total` like every other browser-side refusal (PCI DSS 11.6.1).
 * The report names the destination's origin only: its path and query may carry card data. The
 * collector's path is relative, so the beacon is same-origin (connect-src names the site).
 */
export const GUARD_SCRIPT = `(()=>{
const s=document.currentScript,U=URL,A=Array.prototype.some,J=JSON.parse,S=JSON.stringify,w=window,d=document,n=w.navigation,loc=location;
const nav=navigator,beacon=typeof nav.sendBeacon==="function"?nav.sendBeacon.bind(nav):null,B=Blob;
const L=J(s.getAttribute(${JSON.stringify(GUARD_ATTRIBUTE)}));
s.remove();
const ok=(raw)=>{let u;try{u=new U(String(raw),d.baseURI)}catch{return true}
let p=u.protocol;if(p==="blob:"){try{u=new U(u.pathname);p=u.protocol}catch{return true}}
if(p!=="http:"&&p!=="https:")return true;
const h=u.href.split("#")[0],o=u.origin;
return A.call(L,(e)=>e===o||(e.endsWith("/")?h.startsWith(e):e===h));};
const report=(raw)=>{if(!beacon)return;let o="invalid";try{const u=new U(String(raw),d.baseURI);o=u.protocol==="blob:"?new U(u.pathname).origin:u.origin}catch{}
try{beacon(${JSON.stringify(CSP_REPORT_PATH)},new B([S({"csp-report":{"document-uri":loc.origin+loc.pathname,"blocked-uri":o,"effective-directive":"navigation-guard","disposition":"enforce"}})],{type:"application/csp-report"}))}catch{}};
const stop=(e,raw)=>{e.preventDefault();console.error("payguard: navigation to "+raw+" cancelled: not in the policy");report(raw)};
if(n)n.addEventListener("navigate",(e)=>{if(!ok(e.destination.url))stop(e,e.destination.url)});
const open=w.open;
w.open=function(url,...rest){if(url!==undefined&&url!==null&&String(url)!==""&&!ok(url)){console.error("payguard: window.open of "+url+" refused: not in the policy");report(url);return null}return Reflect.apply(open,this,[url,...rest])};
const link=(e)=>{for(const t of e.composedPath()){if(!(t instanceof Element))continue;
const l=t.localName;if(l!=="a"&&l!=="area")continue;const r=t.href;const raw=typeof r==="string"?r:r&&r.baseVal!==undefined?new U(r.baseVal,d.baseURI).href:"";
if(raw&&!ok(raw))stop(e,raw);return}};
w.addEventListener("click",link,true);w.addEventListener("auxclick",link,true);
})();`;

/** The CSP hash source that allows the guard (CSP3 §8.3: sha256 over the script's UTF-8 text). */
export const GUARD_HASH_SOURCE = `'sha256-${createHash('sha256').update(GUARD_SCRIPT, 'utf8').digest('base64')}'`;

/**
 * The guard is part of the second layer, with the CSP that allows it: sent on block and rewrite
 * routes, except where the route turns the second layer off (`csp: off`, docs/policy.md). Report
 * routes never change what the browser does.
 */
export function guardsRoute(match: RouteMatch): boolean {
  return match.mode !== 'report' && cspModeOf(match.route, match.mode) !== 'off';
}

/** The destinations the guard lets the page navigate to: the site, allow.navigate and allow.form. */
export function guardDestinations(policy: Policy): string[] {
  const out = new Set<string>([policy.site]);
  for (const entry of [...policy.allow.navigate, ...policy.allow.form]) {
    if (entry.type === 'origin') out.add(entry.origin);
    else if (entry.type === 'url') out.add(entry.url);
  }
  return [...out];
}

/** The `<script>` element payguard inserts: the constant text, and the policy's destinations in its attribute. */
export function guardMarkup(policy: Policy): string {
  const value = JSON.stringify(guardDestinations(policy)).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<script ${GUARD_ATTRIBUTE}="${value}">${GUARD_SCRIPT}</script>`;
}

/**
 * Adds the guard's hash to script-src of each CSP line payguard sends (enforced or report-only), so
 * the browser runs it under the policy that refuses every other unnamed inline script. A line
 * without script-src (none of payguard's) is left as it is.
 */
export function withGuardHash(headers: readonly (readonly [string, string])[]): [string, string][] {
  return headers.map(([name, value]) => {
    if (name !== 'content-security-policy' && name !== 'content-security-policy-report-only') return [name, value];
    return [name, value.replace(/(^|;\s*)script-src(\s)/, `$1script-src ${GUARD_HASH_SOURCE}$2`)];
  });
}

/** How the document's characters are laid out in bytes: one byte per ASCII character, or UTF-16. */
type Layout = { readonly unit: 1 } | { readonly unit: 2; readonly littleEndian: boolean };

function layoutOf(encoding: string): Layout | undefined {
  const name = encoding.toLowerCase();
  if (name === 'utf-16le') return { unit: 2, littleEndian: true };
  if (name === 'utf-16be') return { unit: 2, littleEndian: false };
  // ISO-2022-JP switches character sets with escape sequences: ASCII only until the first ESC,
  // which the scan below stops at (an unknown byte).
  return { unit: 1 };
}

/**
 * The byte offset right after the doctype token, or after the BOM when the page has no doctype
 * (it is in quirks mode already and stays so). Only what the tokenizer reads before a doctype
 * without consequence is skipped: whitespace, comments (`<!-- -->`, and `<!-->`, `<!--->`, `--!>`
 * endings, §13.2.5.43-52) and bogus comments (`<?…>`, §13.2.5.42). A doctype token ends at the
 * first `>` whatever its quotes (§13.2.5.53-68: `>` in an identifier is an abrupt end). A page
 * whose first token is anything else has no doctype in force (a later one is a parse error and
 * ignored, §13.2.6.4.1), so it is in quirks mode already and the guard goes first. `undefined` only
 * for a doctype that never ends (the page has nothing after it to guard): served unguarded.
 * In every ASCII-compatible encoding payguard decodes, `<`, `!`, `-`, `?` and `>` (all below 0x40)
 * are never the trail byte of a multi-byte character, so this byte scan finds the tokenizer's tokens.
 */
export function guardInsertionOffset(bytes: Uint8Array, encoding: string): number | undefined {
  const layout = layoutOf(encoding);
  if (!layout) return undefined;
  const unit = layout.unit;
  const length = Math.floor(bytes.length / unit);
  const at = (i: number): number => {
    if (i >= length) return -1;
    if (unit === 1) return bytes[i]!;
    return layout.unit === 2 && layout.littleEndian ? bytes[2 * i]! | (bytes[2 * i + 1]! << 8) : (bytes[2 * i]! << 8) | bytes[2 * i + 1]!;
  };
  let i = 0;
  if (unit === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  else if (at(0) === 0xfeff) i = 1;
  const start = i;
  const startsWith = (from: number, ascii: string, caseless: boolean): boolean => {
    for (let k = 0; k < ascii.length; k++) {
      let c = at(from + k);
      if (caseless && c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== ascii.charCodeAt(k)) return false;
    }
    return true;
  };
  const indexOf = (from: number, ascii: string): number => {
    for (let k = from; k < length; k++) if (startsWith(k, ascii, false)) return k;
    return -1;
  };
  for (;;) {
    const c = at(i);
    if (c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20) {
      i++;
      continue;
    }
    if (startsWith(i, '<!--', false)) {
      if (startsWith(i + 4, '>', false)) i += 5;
      else if (startsWith(i + 4, '->', false)) i += 6;
      else {
        let end = i + 4;
        for (;;) {
          const dash = indexOf(end, '--');
          if (dash < 0) return start * unit;
          if (startsWith(dash + 2, '>', false)) {
            i = dash + 3;
            break;
          }
          if (startsWith(dash + 2, '!>', false)) {
            i = dash + 4;
            break;
          }
          end = dash + 1;
        }
      }
      continue;
    }
    if (startsWith(i, '<?', false)) {
      const gt = indexOf(i + 2, '>');
      if (gt < 0) return start * unit;
      i = gt + 1;
      continue;
    }
    if (startsWith(i, '<!doctype', true)) {
      const gt = indexOf(i + 9, '>');
      // A doctype that never ends is emitted at end of file: the page has no content to guard.
      return gt < 0 ? undefined : (gt + 1) * unit;
    }
    return start * unit;
  }
}

/** The guard as bytes of the document's encoding (ASCII for every ASCII-compatible one). */
function encodedGuard(markup: string, encoding: string): Buffer {
  const layout = layoutOf(encoding);
  if (layout?.unit !== 2) return Buffer.from(markup, 'latin1');
  const le = Buffer.from(markup, 'utf16le');
  return layout.littleEndian ? le : le.swap16();
}

/**
 * The served document: exactly the verified bytes with the guard inserted at its offset, or
 * `undefined` when no offset is safe (the caller sends the verified bytes unguarded and says so).
 */
export function insertGuard(bytes: Uint8Array, encoding: string, policy: Policy): Buffer | undefined {
  const offset = guardInsertionOffset(bytes, encoding);
  if (offset === undefined) return undefined;
  const guard = encodedGuard(guardMarkup(policy), encoding);
  return Buffer.concat([bytes.subarray(0, offset), guard, bytes.subarray(offset)]);
}

const GUARD_OPEN = Buffer.from(`<script ${GUARD_ATTRIBUTE}="`, 'latin1');
const GUARD_CLOSE = Buffer.from(`">${GUARD_SCRIPT}</script>`, 'latin1');

/**
 * A served ASCII-compatible document without the guard payguard inserted (unchanged when it has
 * none): what the storefront sent. For the bench and the soak, which check that a clean page went
 * out as the storefront's bytes.
 */
export function withoutGuard(served: Uint8Array): Buffer {
  const bytes = Buffer.from(served.buffer, served.byteOffset, served.byteLength);
  const start = bytes.indexOf(GUARD_OPEN);
  const end = start < 0 ? -1 : bytes.indexOf(GUARD_CLOSE, start);
  return end < 0 ? bytes : Buffer.concat([bytes.subarray(0, start), bytes.subarray(end + GUARD_CLOSE.length)]);
}
