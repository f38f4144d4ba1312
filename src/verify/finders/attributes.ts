/**
 * Attribute-level vectors on every element of every namespace, in one pass over its attributes:
 * on* handlers (S-04), formaction (F-05), javascript: URLs in navigable and loading attributes
 * (S-05), and ping/attributionsrc background requests (N-04).
 */
import { judgeInline, judgeUrl, resolveUrl } from '../judge.js';
import { removeAttribute } from '../edits.js';
import type { Finder, Scan, Visit } from '../scan.js';
import { hasJavascriptScheme, NS_HTML, NS_SVG, NS_XLINK, type Attribute } from '../tree.js';
import { formactionAttribute } from './forms.js';

export const attributes: Finder = (visit, scan) => {
  for (const attr of visit.element.attrs) {
    const name = attr.name;
    // "on" prefix, any case the tokenizer left (HTML lower-cases; foreign content keeps SVG's own names).
    if (name.length > 2 && (name.charCodeAt(0) | 0x20) === 0x6f && (name.charCodeAt(1) | 0x20) === 0x6e) {
      eventHandler(visit, scan, attr);
    } else if (name === 'formaction' && attr.namespace === undefined) {
      formactionAttribute(visit, scan, attr);
    } else if (isUrlAttribute(name) && hasJavascriptScheme(attr.value) && !ownedByElementFinder(visit, attr)) {
      javascriptUrl(visit, scan, attr);
    } else if ((name === 'ping' || name === 'attributionsrc') && attr.namespace === undefined) {
      connectTargets(visit, scan, attr);
    }
  }
};

/** Any attribute whose name starts with "on" is inline code; no event-name list (S-04). */
function eventHandler(visit: Visit, scan: Scan, attr: Attribute): void {
  const text = attr.value;
  scan.reportAttribute(visit, attr, { kind: 'event-handler', list: 'inline' }, () => judgeInline(scan.policy, scan.mode, text, 'inline-code', 'handler'), removeAttribute(scan.source, visit.element, attr));
}

function isUrlAttribute(name: string): boolean {
  return name === 'href' || name === 'src' || name === 'action' || name === 'data' || name === 'code' || name === 'codebase' || name === 'background' || name === 'poster';
}

/** Element finders that judge these attributes themselves (with the javascript: rule included). */
function ownedByElementFinder(visit: Visit, attr: Attribute): boolean {
  const { namespaceURI, tagName } = visit.element;
  if (attr.namespace !== undefined && attr.namespace !== NS_XLINK) return false;
  if (namespaceURI === NS_SVG) return tagName === 'script' && attr.name === 'href';
  if (namespaceURI !== NS_HTML) return tagName === 'form' && attr.name === 'action';
  switch (tagName) {
    case 'form':
      return attr.name === 'action';
    case 'script':
    case 'iframe':
    case 'frame':
      return attr.name === 'src';
    case 'object':
      return attr.name === 'data';
    case 'embed':
      return attr.name === 'src' || attr.name === 'code';
    case 'base':
      return attr.name === 'href';
    default:
      return false;
  }
}

function javascriptUrl(visit: Visit, scan: Scan, attr: Attribute): void {
  const raw = attr.value;
  scan.reportAttribute(visit, attr, { kind: 'javascript-url', list: 'inline', raw }, () => {
    const url = resolveUrl(raw, 'about:blank');
    return { ...judgeInline(scan.policy, scan.mode, raw, 'javascript-url'), ...(url ? { url: url.href, origin: url.origin } : {}) };
  }, removeAttribute(scan.source, visit.element, attr));
}

/** `ping` and `attributionsrc`: space-separated URLs the browser requests in the background (N-04). */
function connectTargets(visit: Visit, scan: Scan, attr: Attribute): void {
  const edits = removeAttribute(scan.source, visit.element, attr);
  for (const target of attr.value.split(/[\t\n\f\r ]+/).filter((t) => t !== '')) {
    scan.reportAttribute(visit, attr, { kind: 'connect', list: 'connect', raw: target }, (base) =>
      judgeUrl(scan.policy, scan.mode, 'connect', resolveUrl(target, base), target, 'foreign-connect'), edits);
  }
}

