/**
 * The storefront the bench pages belong to, and the third parties its policy allows. The pages
 * and the bench policy are built from these same constants, so a clean page is clean by
 * construction and the tampered page differs only where an attacker would change it.
 */
export const SITE = 'https://shop.example';
export const CDN = 'https://cdn.shop.example';
export const GATEWAY_FORM = 'https://pay.gateway.example';
export const GATEWAY_SCRIPT = 'https://js.gateway.example';
export const GATEWAY_API = 'https://api.gateway.example';

/** The 2019 incident's shape: a look-alike payment host and a skimmer on a foreign host. */
export const LOOKALIKE_FORM = 'https://pay.gateway-example.com';
export const SKIMMER_SCRIPT = 'https://cdn.analytics-shop.example';

/**
 * The one inline script the pages carry (a consent banner bootstrap), allowed by its CSP hash
 * source in the policy's `inline` list. Its text must stay byte-identical in every page variant.
 */
export const CONSENT_BOOTSTRAP =
  "\n      window.dataLayer = window.dataLayer || [];\n      window.consent = { analytics: false, marketing: false, decided: document.cookie.indexOf('consent=') >= 0 };\n    ";
