/**
 * The suite's little internet: which hosts exist, which of them the policy allows, and the card
 * number the browser types. Every other e2e module takes its names from here, so a case page, the
 * forward proxy's virtual hosts and the signed policy cannot drift apart.
 */

/**
 * The storefront's public origin as Chromium reaches it (through the forward proxy). The policy's `site`.
 * It is `localhost` rather than a `.test` name because Chromium advertises and decodes `br` over
 * plain http only for localhost (evasion-vectors, "confirmed since"), and the br cases need it.
 */
export const SHOP_HOST = 'localhost';
export const SHOP_ORIGIN = `http://${SHOP_HOST}`;

/** The real payment gateway: allowed for form, frame, navigate and connect. */
export const GATEWAY_HOST = 'pay.gateway.test';
/** The shop's own CDN: allowed for scripts. */
export const CDN_HOST = 'cdn.shop.test';
/** The gateway's tokenizer script, allowed by exact URL (not by origin). */
export const TOKENIZER_URL = `http://${GATEWAY_HOST}/v3/token.js`;

/** The 2019 look-alike of the gateway (one dot turned into a dash). */
export const LOOKALIKE_HOST = 'pay-gateway.test';
/** The skimmer's host. */
export const EVIL_HOST = 'evil.test';
/** Attacker hosts: a request reaching either of these is the attack working. */
export const ATTACKER_HOSTS: readonly string[] = [LOOKALIKE_HOST, EVIL_HOST];

/**
 * A partner the legitimate pages link to, show images from and load a stylesheet from. The policy
 * names it in allow.image and allow.style only (issue 17 class 2), so no attack page reaches it
 * with a script, a form or a frame.
 */
export const PARTNER_HOST = 'media.partner.test';

/** Hosts the signed policy names (site included): the only hosts an attack page may ever reach. */
export const POLICY_HOSTS: readonly string[] = [SHOP_HOST, GATEWAY_HOST, CDN_HOST];

/** The card number typed into every card field (a standard test PAN, Luhn-valid). */
export const CARD_NUMBER = '4111111111111111';

/** payguard's rewrite-mode sink: where a neutralised form's action is pointed. */
export const SINK_PATH = '/.well-known/payguard/sink';
