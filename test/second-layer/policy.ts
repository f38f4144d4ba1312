/** Policies for the second-layer unit tests, parsed by the real policy parser (schema and semantics). */
import { parsePolicyText } from '../../src/policy/parse.js';
import type { Policy } from '../../src/policy/model.js';

export function policyFrom(yaml: string): Policy {
  return parsePolicyText(yaml, 'test-policy.yaml');
}

export const BASE_POLICY = `
schema: 1
serial: 1
site: https://shop.example
routes:
  - { path: /checkout/**, mode: block }
  - { path: /cart, mode: rewrite }
  - { path: /**, mode: report }
allow:
  form:     [{ origin: https://pay.gateway.example, why: card payment gateway }]
  script:
    - { origin: https://cdn.shop.example, why: storefront assets }
    - { url: "https://js.gateway.example/v3/token.js", integrity: "sha384-bCKitpaBM/N8yqGreOQ+qy6asjbU5e79jy4n3L/eAZERbhaUE+pfdAHxFh9G+Vd5", why: tokenizer }
    - { url: "https://static.reviews.example/widgets/shop,1;2/", why: review widget prefix }
  frame:    [{ origin: https://pay.gateway.example, why: hosted card fields }]
  navigate: [{ origin: https://pay.gateway.example, why: 3-D Secure }]
  connect:  [{ origin: https://api.gateway.example, why: tokenization API }]
  inline:   [{ hash: "sha256-djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c=", why: consent banner }]
`;
