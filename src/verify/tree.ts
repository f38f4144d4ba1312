/**
 * Small, allocation-free helpers over parse5's default tree: names, attributes, locations.
 */
import { html, type DefaultTreeAdapterTypes, type Token } from 'parse5';

export type Element = DefaultTreeAdapterTypes.Element;
export type Node = DefaultTreeAdapterTypes.Node;
export type ParentNode = DefaultTreeAdapterTypes.ParentNode;
export type Attribute = Token.Attribute;

export const NS_HTML: string = html.NS.HTML;
export const NS_SVG: string = html.NS.SVG;
export const NS_MATHML: string = html.NS.MATHML;
export const NS_XLINK: string = html.NS.XLINK;

export function isElement(node: Node): node is Element {
  return (node as Element).tagName !== undefined;
}

/** The first attribute with this local name and no namespace (HTML attributes, `href` on SVG). */
export function attribute(element: Element, name: string): Attribute | undefined {
  for (const attr of element.attrs) if (attr.name === name && attr.namespace === undefined) return attr;
  return undefined;
}

export function xlinkHref(element: Element): Attribute | undefined {
  for (const attr of element.attrs) if (attr.name === 'href' && attr.namespace === NS_XLINK) return attr;
  return undefined;
}

/** The attribute as a person reads it in the source: `xlink:href`, `onload`. */
export function attributeName(attr: Attribute): string {
  return attr.prefix ? `${attr.prefix}:${attr.name}` : attr.name;
}

/** Element name for findings: HTML elements bare, others prefixed (`svg:script`, `math:a`). */
export function elementName(element: Element): string {
  if (element.namespaceURI === NS_HTML) return element.tagName;
  if (element.namespaceURI === NS_SVG) return `svg:${element.tagName}`;
  if (element.namespaceURI === NS_MATHML) return `math:${element.tagName}`;
  return element.tagName;
}

/** The concatenated text children (a script's source text). */
export function childText(element: Element): string {
  let text = '';
  for (const child of element.childNodes) if (child.nodeName === '#text') text += (child as DefaultTreeAdapterTypes.TextNode).value;
  return text;
}

const HTML_WHITESPACE = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

export function stripHtmlWhitespace(value: string): string {
  return value.replace(HTML_WHITESPACE, '');
}

/** ASCII whitespace-separated tokens, lower-cased (rel, sandbox, ping lists). */
export function tokenList(value: string): string[] {
  return value.toLowerCase().split(/[\t\n\f\r ]+/).filter((t) => t !== '');
}

/**
 * Does the URL parser see the `javascript:` scheme? It strips leading C0 controls and spaces and
 * removes every tab and newline (URL Standard, basic URL parser), so `\x01 java\tscript:` counts.
 * Allocation-free: this runs on every href and src of the page.
 */
export function hasJavascriptScheme(value: string): boolean {
  const target = 'javascript:';
  let i = 0;
  while (i < value.length && value.charCodeAt(i) <= 0x20) i++;
  let matched = 0;
  for (; i < value.length && matched < target.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    const lower = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    if (lower !== target.charCodeAt(matched)) return false;
    matched++;
  }
  return matched === target.length;
}
