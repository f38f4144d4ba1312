/**
 * The tampered versions of the checkout the demo storefront can serve, each a real attack
 * payguard exists to stop. `?variant=NAME` on a storefront URL switches one on for that request.
 */
import type { ReasonCode } from '../reasons.js';

export interface TamperedVariant {
  /** The page the attack shows up on. */
  readonly path: string;
  /** The reason payguard blocks it with (payguard_blocked_responses_total{reason}). */
  readonly reason: ReasonCode;
  readonly title: string;
  readonly story: string;
}

export const VARIANTS = {
  'fake-form-2019': {
    path: '/checkout',
    reason: 'foreign-form-action',
    title: 'Fake payment form (the 2019 break-in)',
    story:
      'The checkout form posts to a look-alike host that keeps the card, shows "an error occurred" and forwards the customer to the real gateway.',
  },
  'skimmer-script': {
    path: '/checkout',
    reason: 'foreign-script',
    title: 'Skimmer script (Magecart)',
    story: 'A <script src> from the attacker host copies the card form to the attacker when the customer pays.',
  },
  'redirect-302': {
    path: '/checkout/pay',
    reason: 'foreign-navigation',
    title: 'Redirect to a fake payment page',
    story: '"Pay on the gateway\'s page" answers 302 to the attacker\'s look-alike payment page instead of the gateway.',
  },
  'inline-skimmer': {
    path: '/checkout',
    reason: 'inline-code',
    title: 'Inline skimmer',
    story: 'The same skimmer pasted into the page as an inline <script>, with no foreign URL to spot.',
  },
  'meta-refresh': {
    path: '/checkout',
    reason: 'foreign-navigation',
    title: 'Meta refresh to a fake payment page',
    story: 'A <meta http-equiv=refresh> sends the checkout to the attacker\'s look-alike payment page after two seconds.',
  },
  'carried-payment-url': {
    path: '/checkout',
    reason: 'unlisted-url',
    title: 'Payment page URL swapped in the page\'s data',
    story:
      'The intruder changes no script and no form: only the data-hosted-payment-url attribute the shop\'s own, untampered checkout script reads when the customer chooses "Pay on the gateway\'s page", which now names the attacker\'s look-alike payment page. No CSP directive governs where a page navigates.',
  },
  'skimmed-bundle': {
    path: '/checkout',
    reason: 'unlisted-first-party-script',
    title: 'Skimmed copy of the shop\'s own script',
    story:
      'A copy of the checkout script with a skimmer appended, saved on the shop\'s own server under a new hashed file name, and the checkout pointed at it. Same origin, so an allowlist of hosts lets it run; the release manifest does not list it.',
  },
} as const satisfies Record<string, TamperedVariant>;

export type VariantName = keyof typeof VARIANTS;

export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];

export function isVariantName(value: string | null): value is VariantName {
  return value !== null && Object.hasOwn(VARIANTS, value);
}

/** The storefront URL that shows a variant, under `origin` (payguard's or the storefront's own). */
export function variantUrl(origin: string, name: VariantName): string {
  return `${origin}${VARIANTS[name].path}?variant=${name}`;
}
