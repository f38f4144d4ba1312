/**
 * The closed set of reason codes payguard attaches to a violation or a refusal.
 * Metrics labels, log lines, the block page's lookup and the README's table all use
 * these exact strings (test/docs checks that every code is documented).
 */

/** A finding the policy does not allow: a place the page would send data, load code or navigate. */
export const VIOLATION_REASONS = {
  'foreign-form-action': 'a form action or formaction resolves to a target not in allow.form',
  'foreign-script': 'a script (classic, module, SVG, preload, modulepreload, import-map address) loads from a URL not in allow.script',
  'inline-code': 'an executable inline script or on* handler whose CSP hash is not in allow.inline',
  'inline-template-slot': 'inline code that matches an allow.inline template, but a slot carries a URL or host no allow list names (or a javascript: or non-image data: URL)',
  'javascript-url': 'a javascript: URL in a navigable or loading attribute',
  'data-url-code': 'a data: or blob: URL used as a script, frame, object, form target or stylesheet (a data: stylesheet hides what it loads)',
  'foreign-frame': 'an iframe, frame, object or embed loads a URL not in allow.frame',
  'foreign-navigation': 'a redirect, Refresh header, meta refresh or navigation target not in allow.navigate',
  'foreign-base': 'a <base href> that resolves outside the site origin',
  'import-map': 'an import map maps a specifier to a URL not in allow.script',
  'speculation-rules': 'speculation rules (script or header) name a URL outside the site and allow.navigate',
  'meta-csp': 'a <meta http-equiv=Content-Security-Policy> with a report endpoint outside the site',
  'svg-animation-url': 'an SVG <set>/<animate> that writes a URL or event-handler attribute',
  'invalid-data-block': 'a script data block (JSON-LD, application/json, text/x-magento-init) or a data-mage-init attribute that is not valid JSON, or not shaped as Magento reads it',
  'unreadable-component': 'a Magento init block or data-mage-init attribute asks RequireJS for a component or mixin that is neither a bare module id nor a URL (fail closed)',
  'foreign-link-header': 'a Link header of any relation that loads or connects (preload as anything, modulepreload, prefetch, stylesheet, icon, manifest, preconnect) to a URL its list does not allow',
  'foreign-image': 'an image (img src/srcset, picture source, video poster, input type=image, background, SVG image/use, icon, preload as=image, CSS url() or image-set() outside @font-face) loads from a URL not in allow.image',
  'foreign-style': 'a stylesheet (link rel=stylesheet, preload as=style, CSS @import) loads from a URL not in allow.style',
  'foreign-font': 'a font (@font-face src, preload as=font) loads from a URL not in allow.font',
  'foreign-media': 'audio, video or a text track (audio/video/source/track src, preload as=audio|video|track) loads from a URL not in allow.media',
  'foreign-manifest': 'a web app manifest (link rel=manifest) loads from a URL not in allow.manifest',
  'foreign-preconnect': 'a preconnect or dns-prefetch to an origin that no allow list and not the site names (a connection is a beacon)',
  'foreign-connect': 'a connection target (ping, attributionsrc, a report endpoint in markup or in the storefront CSP report-uri, Reporting-Endpoints or Report-To headers) not in allow.connect',
  'unparsable-url': 'a form, script or frame URL the URL parser rejects on a protected page',
  'unlisted-url': 'an absolute or scheme-relative URL the page carries as data (any attribute, a[href], meta content, data-*, input value, JSON or JSON-LD, CSS custom property or string, element text, a first-party JSON file) whose origin is neither the site nor named in any allow list',
  'tampered-script': 'a pinned first-party script (allow.script url entry with integrity, or a firstParty manifest script or data file) whose body does not match its integrity',
  'unlisted-first-party-script': 'a same-origin script the firstParty release manifest does not list, named by a page or requested from the site (or a script-like file under its base)',
  'service-worker': 'a service worker script the policy does not name, or a Service-Worker-Allowed header that widens its scope',
} as const;
export type ViolationReason = keyof typeof VIOLATION_REASONS;

/** Why a response could not be verified. On protected routes every refusal is a block (fail closed). */
export const REFUSAL_REASONS = {
  'rewrite-removes-code': 'on a rewrite route with codeRemoval: block (the default), the rewrite would neutralise code the page runs or loads (a script, a handler, an import map), so the page might not work: blocked instead of served as a success',
  'undecodable-body': 'the body is not valid in the encoding the browser would use',
  'unknown-encoding': 'the charset is one payguard cannot decode (replacement, iso-2022-kr, x-user-defined, ...)',
  'encoding-mismatch': 'the encoding payguard decoded with differs from the one the browser would pick',
  'too-large': 'the decoded body exceeds --max-inspect-bytes (decompression bombs included)',
  'too-deep': 'the document nests deeper than payguard follows (Chromium flattens past ~512 levels)',
  'too-many-bases': 'the document has more distinct <base> URLs than payguard judges every URL against (17)',
  'inspection-timeout': 'verification did not finish within its time limit',
  'unsupported-content-coding': 'a Content-Encoding payguard cannot decode as the browser does (zstd on Node 20, dcb, dcz, unknown, or a coding listed with identity or an empty item, which Chromium leaves undecoded: docs/headers.md)',
  'content-coding-error': 'the compressed body is corrupt or truncated',
  'partial-content': 'a 206 partial response for a document on a protected route',
  'unsupported-document-type': 'an XML, XHTML or SVG document payguard does not inspect on a protected route',
  'ambiguous-header': 'duplicate or conflicting Location/Content-Type headers',
  'upstream-unavailable': 'the storefront could not be reached',
  'upstream-timeout': 'the storefront did not answer within --upstream-timeout',
  'upstream-error': 'the storefront connection failed mid-response',
  'rewrite-unverifiable': 'the rewritten page still had violations when verified again',
  'internal-error': 'payguard itself failed while verifying (a bug; the page is not served)',
} as const;
export type RefusalReason = keyof typeof REFUSAL_REASONS;

export type ReasonCode = ViolationReason | RefusalReason;
