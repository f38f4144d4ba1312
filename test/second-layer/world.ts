/**
 * The second layer's test world: the policy (built here so its integrity values are the real
 * hashes of the fixture scripts), and the scripts themselves, genuine and tampered.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`./pages/${name}`, import.meta.url));
}

export function sri(algorithm: 'sha256' | 'sha384' | 'sha512', body: string | Uint8Array): string {
  return `${algorithm}-${createHash(algorithm).update(body).digest('base64')}`;
}

/** The shop's own checkout script as released, and the same file after a British Airways-style edit. */
export const CHECKOUT_JS = fixture('checkout.js');
export const TAMPERED_CHECKOUT_JS = fixture('checkout-tampered.js');
/** The gateway's tokenizer as pinned, and a modified copy (the Ticketmaster case). */
export const TOKENIZER_JS = fixture('tokenizer.js');
export const MODIFIED_TOKENIZER_JS = fixture('tokenizer-modified.js');

export interface WorldOrigins {
  /** The storefront's public origin, as the browser sees it. */
  readonly site: string;
  /** The third party whose tokenizer is pinned with SRI. */
  readonly gateway: string;
  /** Where a skimmer would send card data. */
  readonly attacker: string;
}

export function policyYaml(o: WorldOrigins, extra: { clearSiteData?: boolean } = {}): string {
  return `schema: 1
serial: 1
site: ${o.site}
${extra.clearSiteData ? 'clearSiteData: true\n' : ''}routes:
  - path: /checkout/**
    mode: block
    headers:
      x-frame-options: DENY
      referrer-policy: no-referrer
  - path: /plain/**
    mode: block
    csp: "off"
  - path: /cart
    mode: rewrite
  - path: /**
    mode: report
allow:
  form:
    - { origin: "${o.gateway}", why: card payment gateway }
  script:
    - { url: "${o.gateway}/v3/token.js", integrity: "${sri('sha384', TOKENIZER_JS)}", why: "gateway tokenizer, pinned with SRI" }
    - { url: "${o.site}/static/checkout.js", integrity: "${sri('sha384', CHECKOUT_JS)}", why: "our checkout controller, pinned" }
    - { url: "${o.site}/static/sw.js", why: offline catalogue service worker }
  connect:
    - { origin: "${o.gateway}", why: tokenization API }
`;
}
