/**
 * CSS in the document (docs/vectors.md S-14): `<style>` elements (HTML and SVG), `style=""` on
 * any element of any namespace, and SVG presentation attributes (`fill="url(…)"`, `filter`,
 * `mask`…). Every URL the CSS makes the browser fetch (url(), `url("…")`, image-set() strings,
 * `@import`, `@font-face` src) is read with the CSS tokenizer (css-syntax.ts), escapes decoded as
 * CSS decodes them (`\75 rl(` is `url(`), and judged against its destination's list: @import →
 * style, @font-face → font, anything else → image (CSP img-src).
 *
 * Neutralising on rewrite routes: in an HTML `<style>` (raw text, so its offsets are the source's)
 * each foreign URL is replaced by `none`, which leaves a declaration or rule the CSS parser drops;
 * an SVG `<style>` (whose text went through entity decoding) is made inert whole with
 * `type="payguard/blocked"` (HTML §4.2.6 and SVG 2 §6.3: a style element of another type creates no
 * style sheet); a style or presentation attribute is removed.
 */
import { cssUrls, mayHoldCssUrl, type CssUrl, type CssUrlDestination } from '../css-syntax.js';
import { INERT_SCRIPT_TYPE, insertAfterTagName, removeAttribute, replaceAttribute } from '../edits.js';
import { resolveUrl, type Judgement } from '../judge.js';
import { isInertDataUrl, isSameDocumentReference, judgePassive, type PassiveTarget } from '../passive-judge.js';
import type { Edit, Finder, Scan, Visit } from '../scan.js';
import { attribute, childText, NS_HTML, NS_SVG, type Attribute } from '../tree.js';

const TARGETS: Record<CssUrlDestination, PassiveTarget> = {
  image: { list: 'image', reason: 'foreign-image' },
  style: { list: 'style', reason: 'foreign-style' },
  font: { list: 'font', reason: 'foreign-font' },
};

/** A `<style>` element, HTML or SVG. */
export const styleElement: Finder = (visit, scan) => {
  const element = visit.element;
  if (!createsStyleSheet(element)) return;
  const start = element.namespaceURI === NS_HTML ? scan.source.startTagEnd(element) : undefined;
  if (start !== undefined) {
    // RAWTEXT (HTML §13.2.5.3): the content is the source up to the appropriate end tag, unchanged.
    const end = rawTextEnd(scan.text, start);
    const css = scan.text.slice(start, end);
    if (!mayHoldCssUrl(css)) return;
    for (const found of cssUrls(css)) {
      const target = TARGETS[found.destination];
      if (isInertDataUrl(target.list, found.url) || isSameDocumentReference(found.url)) continue;
      const edits: Edit[] = [{ start: start + found.start, end: start + found.end, text: 'none' }];
      scan.reportAt(visit, start + found.start, { kind: 'css-url', list: target.list, raw: found.url }, (base) =>
        judgeCssUrl(scan, target, found, base), edits);
    }
    return;
  }
  // SVG <style> (its text is parsed markup: entities decoded, CDATA sections): judged as a whole.
  const css = childText(element);
  if (!mayHoldCssUrl(css)) return;
  const type = attribute(element, 'type');
  const inert = `type="${INERT_SCRIPT_TYPE}"`;
  const edits = type ? replaceAttribute(scan.source, element, type, inert) : insertAfterTagName(scan.source, element, inert);
  for (const found of cssUrls(css)) {
    const target = TARGETS[found.destination];
    if (isInertDataUrl(target.list, found.url) || isSameDocumentReference(found.url)) continue;
    scan.reportElement(visit, { kind: 'css-url', list: target.list, raw: found.url }, (base) =>
      judgeCssUrl(scan, target, found, base), edits);
  }
};

/**
 * `style=""` on every element (HTML, SVG, MathML), and on SVG elements every other attribute that
 * could be a presentation attribute holding a `url()` (SVG 2 §6.6: presentation attributes are
 * parsed as CSS property values). Event handlers and hrefs are other finders'.
 */
export const cssAttributes: Finder = (visit, scan) => {
  const svg = visit.element.namespaceURI === NS_SVG;
  for (const attr of visit.element.attrs) {
    if (attr.namespace !== undefined) continue;
    if (attr.name === 'style' || (svg && attr.name !== 'href' && !/^on/i.test(attr.name))) cssAttribute(visit, scan, attr);
  }
};

function cssAttribute(visit: Visit, scan: Scan, attr: Attribute): void {
  const css = attr.value;
  if (!mayHoldCssUrl(css)) return;
  const urls = cssUrls(css);
  if (urls.length === 0) return;
  const edits = removeAttribute(scan.source, visit.element, attr);
  for (const found of urls) {
    // A declaration list has no @import or @font-face; an image is what a style attribute can load.
    const target = TARGETS[found.destination === 'style' ? 'style' : 'image'];
    if (isInertDataUrl(target.list, found.url) || isSameDocumentReference(found.url)) continue;
    scan.reportAttribute(visit, attr, { kind: 'css-url', list: target.list, raw: found.url }, (base) =>
      judgeCssUrl(scan, target, found, base), edits);
  }
}

/**
 * One URL CSS may fetch. A string in a custom property is a URL only if `image-set(var(--x))` uses
 * it, which may happen anywhere on the page: judged when it resolves to an http(s) URL, passed
 * otherwise (`--note: "Note: free shipping"` is a URL of scheme `note:` that nothing fetches).
 */
function judgeCssUrl(scan: Scan, target: PassiveTarget, found: CssUrl, base: string | URL): Judgement {
  const url = resolveUrl(found.url, base);
  if (found.customProperty && (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))) return { allowed: true };
  return judgePassive(scan.policy, scan.mode, target, url, found.url);
}

/**
 * HTML §4.2.6 "update a style block" step 4 and SVG 2 §6.3: a style element whose type is present
 * and neither empty nor an ASCII case-insensitive "text/css" creates no style sheet, so it fetches
 * nothing (Chromium's StyleElement::IsCSS is the same exact, untrimmed comparison; oracle-passive
 * "style type" spellings). The rewriter's `type="payguard/blocked"` relies on it.
 */
function createsStyleSheet(element: Visit['element']): boolean {
  const type = attribute(element, 'type');
  return type === undefined || type.value === '' || type.value.toLowerCase() === 'text/css';
}

/** RAWTEXT ends at the first "appropriate end tag" (HTML §13.2.5.13-15): `</style` then whitespace, `/` or `>`. */
function rawTextEnd(text: string, from: number): number {
  const endTag = /<\/style[\t\n\f\r />]/gi;
  endTag.lastIndex = from;
  const match = endTag.exec(text);
  return match ? match.index : text.length;
}
