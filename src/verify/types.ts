/**
 * The verifier's contract. Pure: bytes, the public URL, response headers and a policy in;
 * findings out. No I/O, no clock, no globals. The proxy, `payguard scan` and the tests all
 * call the same functions.
 */
import type { AllowEntry, AllowKind, Policy, RouteMode } from '../policy/model.js';
import type { ViolationReason } from '../reasons.js';

/**
 * Response headers as received, in order, duplicates kept (Node's `res.headers` drops duplicate
 * Content-Type and Location: build this from rawHeaders). Names are lower-cased.
 */
export type HeaderList = readonly (readonly [name: string, value: string])[];

export interface DocumentInput {
  /** The body after content decoding (gzip, br, …), before charset decoding. */
  readonly bytes: Uint8Array;
  /** The URL the browser sees: the policy's public `site` origin plus the request path and query. */
  readonly url: string;
  readonly headers: HeaderList;
  readonly policy: Policy;
  /** The route's mode: unknown inline code is a violation only in block and rewrite mode. */
  readonly mode: RouteMode;
}

/** What kind of place a finding is. */
export type FindingKind =
  | 'form-action' // <form action>, formaction on any element, empty/missing action = document URL
  | 'script' // <script src>, SVG <script href|xlink:href>
  | 'inline-script' // executable inline <script> text
  | 'event-handler' // on* attribute, any element, any namespace
  | 'javascript-url' // javascript: in a navigable or loading attribute
  | 'module-preload' // <link rel=modulepreload|preload as=script>
  | 'import-map' // each address in an import map
  | 'frame' // <iframe|frame src>
  | 'srcdoc' // <iframe srcdoc> (its contents are verified recursively)
  | 'object' // <object data>, <param name=url|src|movie|code>, <embed src|code>
  | 'base' // <base href>
  | 'meta-refresh' // <meta http-equiv=refresh>
  | 'meta-csp' // <meta http-equiv=Content-Security-Policy>
  | 'speculation-rules' // <script type=speculationrules> URLs, Speculation-Rules header
  | 'svg-animation' // <set>/<animate> writing href or on*
  | 'data-block' // a non-executable script (JSON-LD…) or data-mage-init checked to be data
  | 'component' // a RequireJS module a Magento init block or data-mage-init asks for, other than a bare module id
  | 'config-code' // a string in a Magento component config that Magento evaluates (`${…}` beyond a property path, `<% %>`)
  | 'connect' // <a|area ping>, attributionsrc on any element: background requests
  | 'image' // img src/srcset, source srcset, video poster, input src, background, SVG image/feImage/use href, link rel=icon, preload as=image
  | 'stylesheet' // <link rel=stylesheet>, preload as=style
  | 'font' // preload as=font
  | 'media' // audio/video/source/track src, preload as=audio|video|track
  | 'manifest' // <link rel=manifest>
  | 'preload' // <link rel=preload> whose `as` is neither script nor a passive destination (fetch, document, unknown)
  | 'preconnect' // <link rel=preconnect|dns-prefetch>: a connection or DNS lookup, no fetch
  | 'css-url' // url(), image-set() strings, @import in <style>, style="" and SVG presentation attributes
  | 'carried-url' // an absolute or scheme-relative URL in data the page carries: any attribute, data block, CSS, element text
  | 'location-header'
  | 'refresh-header'
  | 'link-header'
  | 'report-header'; // report-uri of a Content-Security-Policy header, Reporting-Endpoints, Report-To

export interface Finding {
  readonly kind: FindingKind;
  /** The allowlist that decides this finding. */
  readonly list: AllowKind;
  /** The attribute or header value as written (after entity decoding), truncated for logs. */
  readonly raw?: string;
  /** The URL as the browser resolves it (WHATWG URL parser, effective base). */
  readonly url?: string;
  /** `url`'s origin ("null" for opaque origins). */
  readonly origin?: string;
  /** CSP hash sources of inline code: sha256, sha384, sha512 of its text. */
  readonly hashes?: readonly string[];
  /** Element (lower-case local name, `svg:`/`math:` prefix outside HTML) or `header:<name>`. */
  readonly element: string;
  readonly attribute?: string;
  /** 1-based source position in the decoded document (0 for headers). */
  readonly line: number;
  readonly col: number;
  /** Start offset in the decoded text (for the rewriter); absent for headers. */
  readonly offset?: number;
  /** Where it sits when not in the plain tree: template, shadow-root, noscript, srcdoc, select. */
  readonly context?: string;
  readonly allowed: boolean;
  /** The policy entry that allows it (its `why` is the justification). */
  readonly entry?: AllowEntry;
  /** Why it is not allowed. */
  readonly reason?: ViolationReason;
}

export interface VerifiedDocument {
  /** WHATWG encoding name used to decode (e.g. "Shift_JIS"); the proxy pins it in Content-Type. */
  readonly encoding: string;
  /** How the encoding was chosen. */
  readonly encodingSource: 'bom' | 'header' | 'meta' | 'default';
  readonly findings: readonly Finding[];
  /** findings.filter(f => !f.allowed) */
  readonly violations: readonly Finding[];
}
