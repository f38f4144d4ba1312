/**
 * The second layer for inline code a template accepted (issue 18, item 3): the browser runs it
 * because this response's CSP names its exact sha256, as Magento 2.4.7 does for the scripts it
 * renders (Magento\Csp\Helper\InlineUtil) — but from outside the application, after verification.
 * Never 'unsafe-inline'. The hashes are per response: the next rendering's nonce is another script.
 */
import type { TemplateAcceptance } from '../../verify/inline-templates.js';

const CSP_HEADERS: ReadonlySet<string> = new Set(['content-security-policy', 'content-security-policy-report-only']);

/**
 * Adds the accepted code's hash sources (and 'unsafe-hashes' for handlers) to script-src of each CSP
 * line payguard sends; with a nonce (the scripts carry it: verify/script-nonces.ts), the nonce
 * stands for the scripts' hashes and only the handlers' stay.
 */
export function withAcceptedCode(headers: readonly (readonly [string, string])[], accepted: TemplateAcceptance, nonce?: string): [string, string][] {
  return headers.map(([name, value]): [string, string] => {
    if (!CSP_HEADERS.has(name)) return [name, value];
    return [name, value.replace(/(^|;\s*)script-src([^;]*)/, (_whole, lead: string, sources: string) => `${lead}script-src${sources}${addedSources(sources, accepted, nonce)}`)];
  });
}

function addedSources(existing: string, accepted: TemplateAcceptance, nonce: string | undefined): string {
  const present = new Set(existing.trim().split(/\s+/));
  const wanted = nonce === undefined ? accepted.hashSources : [`'nonce-${nonce}'`, ...accepted.handlerSources];
  const added = wanted.filter((s) => !present.has(s));
  if (accepted.handlers && !present.has("'unsafe-hashes'")) added.push("'unsafe-hashes'");
  return added.length > 0 ? ` ${added.join(' ')}` : '';
}
