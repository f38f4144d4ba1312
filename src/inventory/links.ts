/**
 * The links a crawl follows: `<a href>` and `<area href>`, resolved as the browser resolves them
 * (WHATWG URL parser against the document's base URL, HTML §2.4.1: the first `<base href>` wins).
 * Only links on the crawl's own origins are returned; the fragment is dropped.
 */
import { parse, type DefaultTreeAdapterMap } from 'parse5';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

export function sameSiteLinks(html: string, documentUrl: string, origins: ReadonlySet<string>): string[] {
  const document = parse(html);
  const anchors: Element[] = [];
  let base: string | undefined;
  const stack: Node[] = [document];
  // Bounded by the tree itself; iterative so a deeply nested page cannot overflow the stack.
  while (stack.length > 0) {
    const node = stack.pop()!;
    if ('tagName' in node) {
      const href = attribute(node, 'href');
      if (node.tagName === 'base' && base === undefined && href !== undefined) base = href;
      if ((node.tagName === 'a' || node.tagName === 'area') && href !== undefined) anchors.push(node);
    }
    // Reversed so nodes pop in document order (the first <base> is the one that counts).
    if ('childNodes' in node) stack.push(...[...node.childNodes].reverse());
  }
  const baseUrl = base !== undefined && URL.canParse(base, documentUrl) ? new URL(base, documentUrl).href : documentUrl;
  const links = new Set<string>();
  for (const a of anchors) {
    const href = attribute(a, 'href')!;
    if (!URL.canParse(href, baseUrl)) continue;
    const url = new URL(href, baseUrl);
    url.hash = '';
    if (origins.has(url.origin)) links.add(url.href);
  }
  return [...links];
}

function attribute(element: Element, name: string): string | undefined {
  return element.attrs.find((a) => a.name === name && !a.namespace)?.value;
}
