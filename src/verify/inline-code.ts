/**
 * The inline code of a page, whole: each executable script's text and each on* handler's value,
 * with how the browser compiles it. For the inventory, which learns templates from several
 * renderings (src/inventory/templates.ts); findings carry only a truncated `raw`, never whole code.
 * Read with the verifier's own parse (parse5, as the full path does), template contents included.
 */
import { decodeDocument } from './decode.js';
import type { CodeGoal } from '../policy/inline-template.js';
import { parseHtml } from './parse.js';
import { scriptKind } from './script-type.js';
import { attributeName, childText, isElement, type Node, type ParentNode } from './tree.js';
import type { HeaderList } from './types.js';

export interface InlineCode {
  readonly goal: CodeGoal;
  readonly text: string;
}

export function inlineCodeOf(bytes: Uint8Array, headers: HeaderList, defaultCharset: string): InlineCode[] {
  const decoded = decodeDocument(bytes, headers, defaultCharset);
  const { document } = parseHtml(decoded.text, new WeakMap());
  const code: InlineCode[] = [];
  const stack: Node[] = [document as unknown as Node];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isElement(node)) collect(node, code);
    const children = (node as ParentNode).childNodes ?? [];
    const content = (node as { content?: ParentNode }).content?.childNodes ?? [];
    for (let i = content.length - 1; i >= 0; i--) stack.push(content[i]!);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return code;
}

function collect(element: Parameters<typeof childText>[0], code: InlineCode[]): void {
  for (const attr of element.attrs) {
    if (/^on/i.test(attributeName(attr)) && attr.value.trim() !== '') code.push({ goal: 'handler', text: attr.value });
  }
  if (element.tagName !== 'script' || element.attrs.some((a) => a.name === 'src')) return;
  const kind = scriptKind(element);
  if (kind !== 'classic' && kind !== 'module') return;
  const text = childText(element);
  if (text.trim() !== '') code.push({ goal: kind === 'module' ? 'module' : 'script', text });
}
