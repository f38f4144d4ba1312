/**
 * Passive loads in markup (issue 17 class 2; docs/vectors.md X-01, S-14): everything that makes
 * Chromium fetch an image, a stylesheet, a font, audio, video, a text track or a manifest, or
 * open a connection, without running code or navigating. A foreign one is a beacon: it tells an
 * attacker's host that a shopper is on the checkout, and with dangling markup it can carry the
 * page's text.
 *
 * Each URL is judged against the list of its destination (passive-judge.ts), and neutralised on
 * rewrite routes by removing the attribute that holds it. `javascript:` in src, poster, background
 * and href is left to attributes.ts (one finding per attribute); CSS is css.ts.
 */
import { removeAttribute } from '../edits.js';
import { resolveUrl } from '../judge.js';
import { linkDestinations, SCRIPT_AS, type LinkDestination } from '../link-relations.js';
import { isInertDataUrl, isSameDocumentReference, judgePassive, type PassiveTarget } from '../passive-judge.js';
import type { Finder, Scan, Visit } from '../scan.js';
import { srcsetUrls } from '../srcset.js';
import { attribute, hasJavascriptScheme, NS_SVG, NS_XLINK, tokenList, type Attribute } from '../tree.js';
import type { FindingKind } from '../types.js';

interface PassiveAttribute extends PassiveTarget {
  readonly kind: FindingKind;
}

const IMAGE: PassiveAttribute = { kind: 'image', list: 'image', reason: 'foreign-image' };
const MEDIA: PassiveAttribute = { kind: 'media', list: 'media', reason: 'foreign-media' };

/** One URL-valued attribute (src, poster, background…). */
function urlAttribute(visit: Visit, scan: Scan, attr: Attribute | undefined, target: PassiveAttribute): void {
  if (!attr) return;
  const raw = attr.value;
  // attributes.ts reports javascript: in src, poster, background and href as inline code.
  if (hasJavascriptScheme(raw) || isInertDataUrl(target.list, raw)) return;
  const edits = removeAttribute(scan.source, visit.element, attr);
  scan.reportAttribute(visit, attr, { kind: target.kind, list: target.list, raw }, (base) =>
    judgePassive(scan.policy, scan.mode, target, resolveUrl(raw, base), raw), edits);
}

/** Every candidate of a srcset / imagesrcset (HTML §4.8.4.3.10), each judged; one edit removes them all. */
export function srcsetAttribute(visit: Visit, scan: Scan, attr: Attribute | undefined, target: PassiveAttribute): void {
  if (!attr) return;
  const edits = removeAttribute(scan.source, visit.element, attr);
  for (const candidate of srcsetUrls(attr.value)) {
    if (isInertDataUrl(target.list, candidate)) continue;
    scan.reportAttribute(visit, attr, { kind: target.kind, list: target.list, raw: candidate }, (base) =>
      judgePassive(scan.policy, scan.mode, target, resolveUrl(candidate, base), candidate), edits);
  }
}

/** `<img src srcset>` (and `<image>`, which the tree builder makes an img). */
export const img: Finder = (visit, scan) => {
  urlAttribute(visit, scan, attribute(visit.element, 'src'), IMAGE);
  srcsetAttribute(visit, scan, attribute(visit.element, 'srcset'), IMAGE);
};

/**
 * `<source>`: `srcset` in a `<picture>`, `src` in `<video>`/`<audio>`. Both are judged wherever the
 * source stands (a parent that changes with the parser context must not decide what is checked).
 */
export const source: Finder = (visit, scan) => {
  urlAttribute(visit, scan, attribute(visit.element, 'src'), MEDIA);
  srcsetAttribute(visit, scan, attribute(visit.element, 'srcset'), IMAGE);
};

/** `<video src poster>`, `<audio src>`, `<track src>`. */
export const media: Finder = (visit, scan) => {
  urlAttribute(visit, scan, attribute(visit.element, 'src'), MEDIA);
  urlAttribute(visit, scan, attribute(visit.element, 'poster'), IMAGE);
};

/**
 * `<input src>`: Chromium fetches it for type=image. Any input's src is judged: a type can be
 * spelled many ways, and a src on another input has no legitimate use.
 */
export const input: Finder = (visit, scan) => {
  urlAttribute(visit, scan, attribute(visit.element, 'src'), IMAGE);
};

/** The legacy `background` attribute of body, table and its parts: a background image. */
export const background: Finder = (visit, scan) => {
  urlAttribute(visit, scan, attribute(visit.element, 'background'), IMAGE);
};

/**
 * `<link>` relations that fetch a passive destination or connect: stylesheet, icons, manifest,
 * preload with any `as` but the script ones, preconnect, dns-prefetch, compression dictionaries.
 * modulepreload, preload as=script|worker, prefetch and prerender are links.ts's.
 */
export const passiveLink: Finder = (visit, scan) => {
  const href = attribute(visit.element, 'href');
  const rel = attribute(visit.element, 'rel');
  if (!rel) return;
  const as = attribute(visit.element, 'as')?.value.trim().toLowerCase();
  const destinations = linkDestinations(tokenList(rel.value), as).filter((d) => !ownedByLinksFinder(d, as));
  if (destinations.length === 0) return;
  if (href) {
    for (const destination of destinations) linkHref(visit, scan, href, destination);
  }
  // `imagesrcset` on a preload as=image (HTML §4.6.7.12): every candidate may be preloaded.
  if (destinations.some((d) => d.list === 'image')) srcsetAttribute(visit, scan, attribute(visit.element, 'imagesrcset'), IMAGE);
};

function ownedByLinksFinder(d: LinkDestination, as: string | undefined): boolean {
  if (d.list === 'navigate') return true;
  if (d.list !== 'script') return false;
  // links.ts judges modulepreload and preload as=script|worker|sharedworker; the other script-like `as` are judged here.
  return as === undefined || as === 'script' || as === 'worker' || as === 'sharedworker' || !SCRIPT_AS.has(as);
}

function linkHref(visit: Visit, scan: Scan, href: Attribute, destination: LinkDestination): void {
  const raw = href.value;
  if (hasJavascriptScheme(raw) || isInertDataUrl(destination.list, raw)) return;
  const edits = removeAttribute(scan.source, visit.element, href);
  scan.reportAttribute(visit, href, { kind: destination.kind, list: destination.list, raw }, (base) =>
    judgePassive(scan.policy, scan.mode, destination, resolveUrl(raw, base), raw), edits);
}

/**
 * SVG elements that reference a resource by `href` or `xlink:href`: `<image>`, `<feImage>`, `<use>`
 * (an external sprite), and every other one but `<a>` (navigation), `<script>` (scripts.ts) and
 * `<link>` (judged by its rel, like the HTML one) and `<base>` (base.ts).
 * Same-document references (`#icon`) resolve to the page itself and are the site's own.
 */
export const svgReference: Finder = (visit, scan) => {
  const element = visit.element;
  if (element.namespaceURI !== NS_SVG || element.tagName === 'a' || element.tagName === 'script' || element.tagName === 'link' || element.tagName === 'base') return;
  for (const attr of element.attrs) {
    if (attr.name !== 'href' || (attr.namespace !== undefined && attr.namespace !== NS_XLINK)) continue;
    if (!isSameDocumentReference(attr.value)) urlAttribute(visit, scan, attr, IMAGE);
  }
};
