/**
 * The fixed policy every corpus case is verified against (policy.yaml, parsed by payguard's own
 * policy parser): a shop whose card form posts to one gateway, whose scripts come from its CDN
 * plus one exact tokenizer URL, and whose only allowed inline script is the consent banner.
 * `site` is the origin the test server listens on, so the verifier and Chromium resolve URLs
 * against the same document URL.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePolicyText } from '../../src/policy/parse.js';
import type { Policy } from '../../src/policy/model.js';

export const GATEWAY_ORIGIN = 'https://pay.gateway.example';
export const CDN_ORIGIN = 'https://cdn.shop.example';
export const TOKENIZER_URL = 'https://js.tokenizer.example/v3/tokenizer.js';

export const POLICY_FILE = fileURLToPath(new URL('./policy.yaml', import.meta.url));

/** The placeholder `site` in policy.yaml, replaced by the test server's origin. */
const SITE_PLACEHOLDER = 'http://shop.test.invalid';

/**
 * The consent banner's inline script, byte for byte as it appears in the legitimate pages.
 * Its CSP hash (sha256 of the UTF-8 text, CSP3 §8.4 "does a source list allow inline") is the
 * only `allow.inline` entry.
 */
export const CONSENT_BANNER_SCRIPT = "window.consentBanner={shown:true,categories:['necessary']};";

export const CONSENT_BANNER_HASH = `sha256-${createHash('sha256').update(CONSENT_BANNER_SCRIPT, 'utf8').digest('base64')}`;

/** policy.yaml's text with `site` set to `site` (what `payguard sign` would sign for that shop). */
export function corpusPolicyText(site: string): string {
  const text = readFileSync(POLICY_FILE, 'utf8');
  if (!text.includes(`site: ${SITE_PLACEHOLDER}`)) throw new Error(`${POLICY_FILE}: site placeholder missing`);
  return text.replace(`site: ${SITE_PLACEHOLDER}`, `site: ${new URL(site).origin}`);
}

export function corpusPolicy(site: string): Policy {
  return parsePolicyText(corpusPolicyText(site), POLICY_FILE);
}
