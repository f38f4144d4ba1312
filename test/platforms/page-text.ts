/**
 * The page files and their placeholders, and the inline code a browser would run from a page.
 *
 * A page is plain HTML with `{{name}}` where a per-site, per-session or per-request value goes, and
 * `{{#name}}…{{/name}}` around markup the platform repeats or leaves out (a cart row, the
 * guest-only part of a script, the RSC chunks). A section is filled once per frame; inside it a
 * placeholder takes the frame's value first, then the page's.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'parse5';

export type Values = Readonly<Record<string, string>>;

export interface Fill {
  readonly values: Values;
  /** Per section: one frame per repetition (none: the section is left out). */
  readonly sections: Readonly<Record<string, readonly Values[]>>;
}

const SECTION_OR_PLACEHOLDER = /\{\{#(\w+)\}\}([\s\S]*?)\{\{\/\1\}\}|\{\{(\w+)\}\}/g;
const PLACEHOLDER = /\{\{(\w+)\}\}/g;

export function readPage(file: string): string {
  return readFileSync(new URL(`./pages/${file}`, import.meta.url), 'utf8');
}

/**
 * Every placeholder and section filled, in one pass over the page (a filled value is never read
 * again, so a cart item named `{{x}}` stays text). A placeholder with no value is an error.
 */
export function fillPage(page: string, fill: Fill): string {
  const valueOf = (name: string, frame: Values): string => {
    const value = frame[name] ?? fill.values[name];
    if (value === undefined) throw new Error(`no value for {{${name}}}`);
    return value;
  };
  return page.replace(SECTION_OR_PLACEHOLDER, (_m, section: string | undefined, body: string | undefined, name: string | undefined) => {
    if (name !== undefined) return valueOf(name, {});
    const frames = fill.sections[section!];
    if (frames === undefined) throw new Error(`no frames for {{#${section}}}`);
    return frames.map((frame) => body!.replace(PLACEHOLDER, (_p, inner: string) => valueOf(inner, frame))).join('');
  });
}

/**
 * Fills only the placeholders in `values`, and either keeps each section once (its markers gone)
 * or drops it: the page as an operator reads it when writing the policy, with the per-request
 * values still standing as `{{name}}`.
 */
export function partialFill(page: string, values: Values, sections: 'once' | 'none'): string {
  return page.replace(SECTION_OR_PLACEHOLDER, (m, _section: string | undefined, body: string | undefined, name: string | undefined) => {
    if (name !== undefined) return values[name] ?? m;
    if (sections === 'none') return '';
    return body!.replace(PLACEHOLDER, (p, inner: string) => values[inner] ?? p);
  });
}

/** The names of every placeholder and section in a page. */
export function placeholderNames(page: string): { placeholders: Set<string>; sections: Set<string> } {
  const placeholders = new Set<string>();
  const sections = new Set<string>();
  for (const m of page.matchAll(/\{\{([#/]?)(\w+)\}\}/g)) {
    if (m[1] === '') placeholders.add(m[2]!);
    else sections.add(m[2]!);
  }
  return { placeholders, sections };
}

// ---------------------------------------------------------------------------------------------

/** One piece of inline code as the browser holds it: a classic or module script's text, or an on* value. */
export interface InlineCode {
  readonly kind: 'script' | 'handler';
  /** The text CSP hashes: the script element's child text, or the decoded attribute value. */
  readonly text: string;
  /**
   * How it is read: a classic script or handler (`script`), a module script (`module`), or an
   * import map or speculation rules (`json`: inline JSON that CSP still treats as an inline script,
   * allowed only by hash or nonce).
   */
  readonly sourceType: 'script' | 'module' | 'json';
  /** The element's id, or the handler's element and attribute, for messages. */
  readonly label: string;
}

export interface DataBlock {
  readonly type: string;
  readonly text: string;
  readonly label: string;
}

/** HTML §4.12.1.1 and the MIME Sniffing standard's JavaScript MIME type essence list. */
const JAVASCRIPT_TYPES = new Set([
  'application/ecmascript', 'application/javascript', 'application/x-ecmascript', 'application/x-javascript',
  'text/ecmascript', 'text/javascript', 'text/javascript1.0', 'text/javascript1.1', 'text/javascript1.2',
  'text/javascript1.3', 'text/javascript1.4', 'text/javascript1.5', 'text/jscript', 'text/livescript',
  'text/x-ecmascript', 'text/x-javascript',
]);

interface Node5 {
  nodeName: string;
  tagName?: string;
  attrs?: { name: string; value: string }[];
  childNodes?: Node5[];
  content?: Node5;
  value?: string;
}

/** What the browser makes of a script element's type and language attributes (HTML §4.12.1.1 steps 8–11). */
function scriptType(attrs: readonly { name: string; value: string }[]): 'script' | 'module' | string {
  const type = attrs.find((a) => a.name === 'type');
  const language = attrs.find((a) => a.name === 'language');
  let typeString: string;
  if (type !== undefined) typeString = type.value;
  else if (language !== undefined && language.value !== '') typeString = `text/${language.value}`;
  else typeString = '';
  const essence = typeString.trim().toLowerCase();
  if (essence === '' || JAVASCRIPT_TYPES.has(essence)) return 'script';
  if (essence === 'module') return 'module';
  return essence;
}

/** Every executable inline script and every on* handler, and every data block, in document order. */
export function inlineCodeOf(html: string): { code: InlineCode[]; dataBlocks: DataBlock[] } {
  const code: InlineCode[] = [];
  const dataBlocks: DataBlock[] = [];
  const walk = (node: Node5): void => {
    for (const attr of node.attrs ?? []) {
      if (/^on/i.test(attr.name) && attr.name.length > 2) {
        code.push({ kind: 'handler', text: attr.value, sourceType: 'script', label: `<${node.tagName} ${attr.name}>` });
      }
    }
    if (node.tagName === 'script') {
      const attrs = node.attrs ?? [];
      const text = (node.childNodes ?? []).map((c) => c.value ?? '').join('');
      const id = attrs.find((a) => a.name === 'id')?.value;
      const label = id ? `<script id="${id}">` : `<script> ${JSON.stringify(text.trim().slice(0, 60))}`;
      const hasSrc = attrs.some((a) => a.name === 'src');
      const type = scriptType(attrs);
      if (type === 'script' || type === 'module') {
        if (!hasSrc && text.trim() !== '') code.push({ kind: 'script', text, sourceType: type, label });
      } else if (type === 'importmap' || type === 'speculationrules') {
        if (!hasSrc && text.trim() !== '') code.push({ kind: 'script', text, sourceType: 'json', label });
      } else if (text.trim() !== '') {
        dataBlocks.push({ type, text, label });
      }
    }
    for (const child of node.childNodes ?? []) walk(child);
    if (node.content) walk(node.content);
  };
  walk(parse(html) as unknown as Node5);
  return { code, dataBlocks };
}
