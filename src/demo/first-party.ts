/**
 * The demo shop's own code (issue 17, class 3): one checkout script, released and pinned in the
 * demo policy's release manifest (`firstParty`), and the skimmed copy an intruder saves beside it
 * under a new hashed file name for the `skimmed-bundle` variant (the storefront incident of the
 * issue: the copy was served as clean because it came from the shop's own origin).
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { skimmerSource } from './skimmer.js';

/** Where the release puts its scripts: the manifest's base. */
export const STATIC_BASE = '/static/';
/** The released checkout script. */
export const CHECKOUT_SCRIPT = '/static/checkout.3f9a1c.js';
/** The skimmed copy: a name a bundler could have produced, which no release produced. */
export const SKIMMED_SCRIPT = '/static/checkout.7c1d2e.js';

/**
 * The released checkout script: it marks the form as ready, and sends the customer who chooses the
 * gateway's own payment page to the URL the page's data names (what a shop's checkout bundle does,
 * reduced; the carried-payment-url variant changes only that data: issue 17 class 4).
 */
export const CHECKOUT_SOURCE = `(function () {
  var form = document.querySelector('form[data-card-form]');
  if (form) form.setAttribute('data-ready', '');
  var hosted = document.querySelector('[data-hosted-payment-url]');
  if (hosted) hosted.addEventListener('click', function () {
    location.href = hosted.getAttribute('data-hosted-payment-url');
  });
})();
`;

/** The skimmed copy: the released script with the skimmer appended (British Airways 2018). */
export function skimmedSource(attackerOrigin: string): string {
  return CHECKOUT_SOURCE + skimmerSource(`${attackerOrigin}/collect`);
}

/** The manifest entry `payguard pin` writes for the released script: the SRI hash of its bytes. */
export function checkoutIntegrity(): string {
  return `sha384-${createHash('sha384').update(CHECKOUT_SOURCE, 'utf8').digest('base64')}`;
}

export function sendScript(res: ServerResponse, source: string): void {
  const body = Buffer.from(source, 'utf8');
  res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
