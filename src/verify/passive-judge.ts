/**
 * The judgement of a passive load (an image, stylesheet, font, media file, manifest, preconnect):
 * the same URL rules as every other list (judge.ts), plus two that only passive destinations have.
 */
import { matchAllow } from '../policy/allow.js';
import { ALLOW_KINDS, type AllowKind, type Policy, type RouteMode } from '../policy/model.js';
import type { ViolationReason } from '../reasons.js';
import { judgeUrl, type Judgement } from './judge.js';

export interface PassiveTarget {
  readonly list: Exclude<AllowKind, 'inline'>;
  readonly reason: ViolationReason;
  /** preconnect, dns-prefetch: a connection to an origin the policy names in any list is no new beacon. */
  readonly anyList?: boolean;
}

/**
 * A `data:` image, font or media file loads nothing from the network, and the CSP allows `data:`
 * in img-src and font-src for the same reason (docs/second-layer.md), so it is no finding at all.
 * A `data:` stylesheet is different: what it `@import`s or `url()`s is hidden from the verifier,
 * so it stays a violation (`data-url-code`, judge.ts).
 */
export function isInertDataUrl(list: AllowKind, raw: string): boolean {
  if (list !== 'image' && list !== 'font' && list !== 'media') return false;
  // Hot path (every image of a page): only a string that is `data:` once the URL parser has
  // stripped leading C0 controls and spaces and removed tabs and newlines (URL Standard, basic URL
  // parser steps 1-3) can be one, so every other string is settled without parsing it.
  if (!/^data:/i.test(raw.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, ''))) return false;
  // An absolute data: URL resolves without a base; a relative reference cannot be one.
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === 'data:';
}

/**
 * `#id`: a reference into the document itself (an SVG sprite symbol, a gradient in `fill:url(#g)`);
 * it fetches nothing and is left out of the inventory.
 */
export function isSameDocumentReference(raw: string): boolean {
  return /^[\t\n\f\r ]*#/.test(raw);
}

export function judgePassive(policy: Policy, mode: RouteMode, target: PassiveTarget, url: URL | undefined, raw: string): Judgement {
  const judgement = judgeUrl(policy, mode, target.list, url, raw, target.reason);
  if (judgement.allowed || !target.anyList || !url || judgement.reason !== target.reason) return judgement;
  for (const list of ALLOW_KINDS) {
    if (list === 'inline') continue;
    const entry = matchAllow(policy, list, url);
    if (entry) return { allowed: true, entry, url: url.href, origin: url.origin };
  }
  return judgement;
}
