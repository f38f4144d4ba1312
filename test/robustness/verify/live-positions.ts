/**
 * Offsets in a page where inserted markup is certainly live in Chromium: just before the start tag
 * of an element the tokenizer emitted (so the tokenizer is in the data state there, not inside a
 * comment, raw text or an attribute value), whose ancestors are all plain HTML elements that keep
 * their children live. The page is parsed here with parse5 and source locations, independently of
 * the verifier's own parse (which runs without locations). Positions where liveness is not obvious
 * are the Chromium sample's business (verify-chromium-sample.test.ts).
 */
import { parse, type DefaultTreeAdapterTypes } from 'parse5';

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

const HTML_NS = 'http://www.w3.org/1999/xhtml';

/**
 * Ancestors under which an insertion is not obviously live: inert template contents, foreign
 * content (svg/math: a <script src> there is not an HTML script), <noscript>, frameset documents,
 * and <select> (Chromium's relaxed select, P-01, differs from parse5's).
 */
const NOT_OBVIOUSLY_LIVE = new Set(['template', 'noscript', 'select', 'frameset', 'datalist', 'option', 'optgroup']);

export interface LivePosition {
  readonly offset: number;
  /** Inside an open <form>: a second <form> start tag is ignored there (HTML §13.2.6.4.7, form element pointer). */
  readonly insideForm: boolean;
}

export function livePositions(text: string): LivePosition[] {
  if (/<frameset/i.test(text)) return [];
  const document = parse(text, { sourceCodeLocationInfo: true, scriptingEnabled: true });
  const positions: LivePosition[] = [];
  const stack: { node: Node; live: boolean; inForm: boolean }[] = [{ node: document, live: true, inForm: false }];
  // Each node is pushed once: bounded by the size of the tree.
  while (stack.length > 0) {
    const { node, live, inForm } = stack.pop()!;
    const children = 'childNodes' in node ? node.childNodes : [];
    for (const child of children) {
      if (!('tagName' in child)) continue;
      const element = child as Element;
      const location = element.sourceCodeLocation;
      if (live && location && element.namespaceURI === HTML_NS && !openForeignBefore(text, location.startOffset)) {
        positions.push({ offset: location.startOffset, insideForm: inForm || openFormBefore(text, location.startOffset) });
      }
      const childLive = live && element.namespaceURI === HTML_NS && !NOT_OBVIOUSLY_LIVE.has(element.tagName);
      stack.push({ node: element, live: childLive, inForm: inForm || element.tagName === 'form' });
    }
  }
  return positions.sort((a, b) => a.offset - b.offset);
}

/**
 * An HTML element that breaks out of <svg>/<math> (`<svg><img>`, HTML §13.2.6.5) sits in the body,
 * but its start tag was read in foreign content: a <script> inserted just before it is an SVG
 * script. Any position after an unclosed <svg or <math is left to the Chromium sample.
 */
function openForeignBefore(text: string, offset: number): boolean {
  const before = text.slice(0, offset).toLowerCase();
  return before.lastIndexOf('<svg') > before.lastIndexOf('</svg') || before.lastIndexOf('<math') > before.lastIndexOf('</math');
}

/** The form element pointer can outlive the form element (a <form> in a table is popped at once). */
function openFormBefore(text: string, offset: number): boolean {
  const before = text.slice(0, offset).toLowerCase();
  return before.lastIndexOf('<form') > before.lastIndexOf('</form');
}
