/**
 * Bounded label values. Every label payguard exports is either from a closed set or passes
 * through a cap here, because prometheus keeps one series per distinct label set and an attacker
 * controls the hosts a tampered page names (prom-client #216: scrapes taking seconds once label
 * values multiply; docs/vectors.md, performance notes B.6).
 */

/** The label value every value past the cap is folded into. */
export const OTHER_LABEL = 'other';

/** Keeps the first `limit` distinct values; every later new value is reported as "other". */
export class LabelCap {
  readonly #seen = new Set<string>();
  constructor(readonly limit: number) {}

  label(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.limit) return OTHER_LABEL;
    this.#seen.add(value);
    return value;
  }

  get size(): number {
    return this.#seen.size;
  }
}

/**
 * Values a CSP report's blocked-uri carries instead of a URL (CSP3 §5.3 "Obtain the
 * blockedURI of a violation": "inline", "eval", "wasm-eval", "trusted-types-policy", …),
 * plus what a finding has when it has no origin.
 */
const KEYWORD_ORIGINS = new Set([
  'inline',
  'eval',
  'wasm-eval',
  'trusted-types-policy',
  'trusted-types-sink',
  'self',
  'data',
  'blob',
  'null',
  'none',
]);

/**
 * The origin label for a value that may be an origin, a full URL or a CSP keyword. A URL is reduced
 * to its WHATWG origin so a path or query string (which may carry card data) never becomes a label;
 * anything else unparsable is "invalid". Opaque origins (data:, javascript:) serialise as "null".
 */
export function originOf(value: string | undefined): string {
  if (value === undefined || value === '') return 'none';
  const lower = value.toLowerCase();
  if (KEYWORD_ORIGINS.has(lower)) return lower;
  if (!URL.canParse(value)) return 'invalid';
  return new URL(value).origin;
}
