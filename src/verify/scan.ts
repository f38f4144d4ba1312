/**
 * The walker and the collector the finders share. One iterative walk (no recursion: a page nested
 * thousands deep must not blow the stack, P-10) over the tree, every template's content (declarative
 * shadow roots live, P-03), and every <noscript>'s no-JS reading (P-05). Finders see each element
 * once and report places; verdicts that depend on the effective base URL are given after the walk,
 * because a <base> after a form still retargets it (F-10).
 */
import { VerifyRefusal } from '../errors.js';
import { SELF_ENTRY } from '../policy/allow.js';
import type { Policy, RouteMode } from '../policy/model.js';
import { makeFinding, resolveUrl, type Place, type Judgement } from './judge.js';
import { parseNoscriptContent } from './parse.js';
import type { SourceText } from './source.js';
import {
  attribute,
  attributeName,
  elementName,
  isElement,
  NS_HTML,
  type Attribute,
  type Element,
  type Node,
} from './tree.js';
import type { Finding } from './types.js';

/** Chromium stops nesting at ~512 (kMaximumHTMLParserDOMTreeDepth); past 400 payguard refuses (P-10). */
export const MAX_DEPTH = 400;
/** srcdoc documents inside srcdoc documents (each level entity-encoded once more). */
export const MAX_SRCDOC_NESTING = 3;
/**
 * Distinct other <base> URLs every URL finding is judged against again (finish()). That work is
 * bases × findings: 400 of each cost 160,000 URL parses, a 100 KB page 16 s of CPU (found by
 * test/robustness/verify-linear-work.test.ts). Real pages have one base at most; past this, refuse.
 */
export const MAX_OTHER_BASES = 16;

/** A byte-free text edit on the decoded document: replace [start, end) with `text` (ASCII). */
export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Placeholder in edit text for the rewrite's sink path (known only when rewriting). */
export const SINK_PLACEHOLDER = '\u0000payguard-sink\u0000';

/** A finding with the edits that neutralise it should it be a violation. */
export interface Sighting {
  readonly finding: Finding;
  readonly edits: readonly Edit[];
  /** Inline code a template accepted: its string slots' values (template-streams.ts reads and drops them). */
  readonly pieces?: readonly string[];
}

export interface ScanOptions {
  readonly policy: Policy;
  readonly mode: RouteMode;
  /** The document's URL (the public URL; `about:srcdoc` for srcdoc documents). */
  readonly documentUrl: string;
  /** The fallback base URL: the document URL, or the parent's base for srcdoc (HTML §2.4.1). */
  readonly fallbackBase: string;
  /** How many srcdoc levels enclose this document. */
  readonly nesting: number;
  /**
   * `full` forces parse5 for every document (the differential tests and the bench compare the two
   * paths); by default a document the fast scanner proves unambiguous skips parse5.
   */
  readonly parser?: ParserChoice;
}

export type ParserChoice = 'fast-when-unambiguous' | 'full';

/** The element a finder is looking at, and where it sits. */
export interface Visit {
  readonly element: Element;
  /** template, shadow-root, noscript, select; undefined in the plain tree. */
  readonly context: string | undefined;
}

type Judge = (base: string) => Judgement;
type Deferred = (base: string) => Sighting[];

export type Finder = (visit: Visit, scan: Scan) => void;

export interface Finders {
  /** namespace URI → local name → the finders of that element. */
  readonly dispatch: ReadonlyMap<string, ReadonlyMap<string, readonly Finder[]>>;
  /** Run on every element (attribute-level vectors). */
  readonly everyElement: readonly Finder[];
}

/** One document's walk: collects places, learns the effective base, then gives verdicts. */
export class Scan {
  /** Findings judged once the base is known, with their source offset (undefined for srcdoc work, whose findings are many). */
  private readonly deferred: { readonly offset: number | undefined; readonly work: Deferred }[] = [];
  private baseHref: string | undefined;
  /** Source offset of the effective <base>'s start tag (Infinity when parse5 made the tag up). */
  private baseOffset = Infinity;
  /** Every other <base href> (later ones, foreign-namespace ones, in templates): see finish(). */
  private readonly otherBaseHrefs: string[] = [];
  private lineStarts: number[] | undefined;

  constructor(
    readonly options: ScanOptions,
    readonly source: SourceText,
    /**
     * Scans a document nested in this one (an iframe's srcdoc) with the same parse and finders:
     * given by scan-document.ts, so that the finders need not import it back.
     */
    readonly scanNested: (text: string, options: ScanOptions) => Sighting[],
  ) {}

  get text(): string {
    return this.source.text;
  }

  get policy(): Policy {
    return this.options.policy;
  }

  get mode(): RouteMode {
    return this.options.mode;
  }

  /** HTML §4.2.3: the document base URL is the frozen base URL of the first base element with href, in tree order. */
  noteBase(visit: Visit, href: string, setsDocumentBase: boolean): void {
    if (setsDocumentBase && this.baseHref === undefined && visit.context === undefined) {
      this.baseHref = href;
      this.baseOffset = this.source.startOf(visit.element) ?? Infinity;
    } else this.otherBaseHrefs.push(href);
  }

  /** The frozen base URL of a <base href> (HTML §4.2.3 "set the frozen base URL"). */
  frozenBaseUrl(href: string): string {
    const url = resolveUrl(href, this.options.fallbackBase);
    // data: and javascript: bases are blocked ("Is base allowed for Document?"): the fallback base applies.
    if (!url || url.protocol === 'data:' || url.protocol === 'javascript:') return this.options.fallbackBase;
    return url.href;
  }

  /** A finding at an attribute, judged once the base is known. */
  reportAttribute(visit: Visit, attr: Attribute, place: Omit<Place, 'line' | 'col' | 'element'>, judge: Judge, edits: readonly Edit[]): void {
    const range = this.source.attributeRange(visit.element, attr);
    const full = this.place(visit, range?.start, { ...place, attribute: place.attribute ?? attributeName(attr) });
    this.deferLater(full.offset, (base) => [sighting(full, judge(base), edits)]);
  }

  /** A finding at an element's start tag. */
  reportElement(visit: Visit, place: Omit<Place, 'line' | 'col' | 'element'>, judge: Judge, edits: readonly Edit[]): void {
    const full = this.place(visit, this.source.startOf(visit.element), place);
    this.deferLater(full.offset, (base) => [sighting(full, judge(base), edits)]);
  }

  /** A finding at an offset inside an element's content (a `url()` in a `<style>`). */
  reportAt(visit: Visit, offset: number, place: Omit<Place, 'line' | 'col' | 'element'>, judge: Judge, edits: readonly Edit[]): void {
    const full = this.place(visit, offset, place);
    this.deferLater(full.offset, (base) => [{ finding: makeFinding(full, judge(base)), edits }]);
  }

  /** Findings that need the base to even be computed (a srcdoc document's). */
  defer(work: Deferred): void {
    this.deferLater(undefined, work);
  }

  private deferLater(offset: number | undefined, work: Deferred): void {
    this.deferred.push({ offset, work });
  }

  /** Line and column (1-based) of a decoded-text offset. */
  position(offset: number | undefined): { line: number; col: number } {
    if (offset === undefined || offset < 0) return { line: 0, col: 0 };
    const starts = (this.lineStarts ??= lineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }

  /**
   * Judgements against the effective base, then the other readings Chromium can make (see
   * readingsBeforeBase and readingsAgainstOtherBases).
   */
  finish(): Sighting[] {
    const base = this.baseHref === undefined ? this.options.fallbackBase : this.frozenBaseUrl(this.baseHref);
    const sightings: Sighting[] = [];
    for (const { work } of this.deferred) sightings.push(...work(base));
    const seen = new Set(sightings.map(sightingKey));
    if (base !== this.options.fallbackBase) sightings.push(...this.readingsBeforeBase(seen));
    sightings.push(...this.readingsAgainstOtherBases(base, seen));
    return sightings;
  }

  /**
   * A URL the parser meets before the effective <base> is read against the fallback base by any
   * fetch that starts then: a script, a stylesheet, an object's document (Chromium resolves at
   * fetch time, and the base element is not in the tree yet). Later uses (a submission, a click)
   * read it against the base, which finish() already judged. Both readings are reported, allowed
   * ones included, so that the finding names the URL Chromium requests. Found by the Chromium
   * sample property: `<object data=//host/x>` before a later `<base>` fetched through the page URL.
   */
  private readingsBeforeBase(seen: Set<string>): Sighting[] {
    const sightings: Sighting[] = [];
    for (const { offset, work } of this.deferred) {
      // Judge only what precedes the base: a page with <base> first in <head> pays nothing here.
      if (offset !== undefined && offset >= this.baseOffset) continue;
      for (const sighting of work(this.options.fallbackBase)) {
        const f = sighting.finding;
        if (f.offset !== undefined && f.offset >= this.baseOffset) continue;
        const key = sightingKey(sighting);
        if (seen.has(key)) continue;
        seen.add(key);
        sightings.push({ finding: { ...f, context: f.context ?? 'before-base' }, edits: sighting.edits });
      }
    }
    return sightings;
  }

  /**
   * When the page has other <base href>s, the URLs that resolve differently against one of them
   * and are not allowed that way (context `other-base`). Chromium 156's preload scanner fetches
   * through a <base> the tree builder ignores (one inside <svg>, found by the oracle), and the
   * research behind docs/vectors.md (§1.4) asks for every base candidate to be tried.
   */
  private readingsAgainstOtherBases(base: string, seen: Set<string>): Sighting[] {
    const others = new Set(this.otherBaseHrefs.map((href) => this.frozenBaseUrl(href)));
    others.delete(base);
    if (others.size === 0) return [];
    if (others.size > MAX_OTHER_BASES) throw new VerifyRefusal('too-many-bases', `${others.size + 1} different <base> URLs (payguard judges every URL against at most ${MAX_OTHER_BASES + 1})`);
    const sightings: Sighting[] = [];
    for (const other of others) {
      for (const { work } of this.deferred) {
        for (const sighting of work(other)) {
          const key = sightingKey(sighting);
          if (sighting.finding.allowed || seen.has(key)) continue;
          seen.add(key);
          sightings.push({ finding: { ...sighting.finding, context: sighting.finding.context ?? 'other-base' }, edits: sighting.edits });
        }
      }
    }
    return sightings;
  }

  private place(visit: Visit, offset: number | undefined, place: Omit<Place, 'line' | 'col' | 'element'>): Place {
    const { line, col } = this.position(offset);
    const full: Place = { ...place, element: elementName(visit.element), line, col };
    const withOffset = offset === undefined ? full : { ...full, offset };
    return visit.context === undefined ? withOffset : { ...withOffset, context: visit.context };
  }
}

/** One reading of one URL at one place: the same place read twice to the same URL is one finding. */
function sightingKey({ finding: f }: Sighting): string {
  return `${f.kind}|${f.offset}|${f.attribute}|${f.url}`;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Same-origin-with-the-site check shared by finders that allow only "self" (a <base>). */
export function selfOnly(url: URL | undefined, site: string): Judgement {
  if (!url) return { allowed: false, reason: 'foreign-base' };
  const located = { url: url.href, origin: url.origin };
  return url.origin === site ? { allowed: true, entry: SELF_ENTRY, ...located } : { allowed: false, reason: 'foreign-base', ...located };
}

/**
 * Walks one parsed tree with the finders. `dispatch` maps `namespace|localName` to the finders of
 * that element; `everyElement` run on all elements (attribute-level vectors: on*, formaction…).
 */
export function walk(
  root: Node,
  scan: Scan,
  finders: Finders,
  rootContext: string | undefined,
): void {
  const nodes: Node[] = [root];
  const depths: number[] = [0];
  const contexts: (string | undefined)[] = [rootContext];
  // Each node is pushed once, so the loop is bounded by the size of the tree.
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    const context = contexts.pop();
    if (depth > MAX_DEPTH) {
      throw new VerifyRefusal('too-deep', `elements nest more than ${MAX_DEPTH} deep (Chromium re-parents past ~512)`);
    }
    if (isElement(node)) {
      const visit: Visit = { element: node, context };
      for (const finder of finders.everyElement) finder(visit, scan);
      const specific = finders.dispatch.get(node.namespaceURI)?.get(node.tagName);
      if (specific) for (const finder of specific) finder(visit, scan);
      if (node.namespaceURI === NS_HTML && node.tagName === 'template') {
        // Declarative shadow DOM (P-03): a shadowrootmode template is a live shadow root in Chromium.
        const mode = attribute(node, 'shadowrootmode')?.value.toLowerCase();
        const templateContext = mode === 'open' || mode === 'closed' ? 'shadow-root' : 'template';
        const content = (node as Element & { content?: Node }).content;
        if (content) {
          nodes.push(content);
          depths.push(depth + 1);
          contexts.push(context === 'template' ? context : templateContext);
        }
      }
      if (node.namespaceURI === NS_HTML && node.tagName === 'noscript' && context !== 'noscript') {
        pushNoscriptReading(node, scan, nodes, depths, contexts, depth);
        continue;
      }
    }
    const children = (node as { childNodes?: Node[] }).childNodes;
    if (!children) continue;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      // Text and comments have nothing to find; only elements (and template contents) are walked.
      if (!isElement(child)) continue;
      nodes.push(child);
      depths.push(depth + 1);
      contexts.push(context);
    }
  }
}

/**
 * With scripting enabled a <noscript>'s content is raw text; for a user with JavaScript off it is
 * markup (P-05). The original source of that text (not the parse5 value, which has CR LF folded)
 * is parsed as a fragment with scripting disabled; its offsets are shifted back into the document.
 */
function pushNoscriptReading(
  noscript: Element,
  scan: Scan,
  nodes: Node[],
  depths: number[],
  contexts: (string | undefined)[],
  depth: number,
): void {
  const start = scan.source.startTagEnd(noscript);
  if (start === undefined || noscript.childNodes.some(isElement)) {
    // Already markup (a noscript parse5 built itself), or no known position: walk what is there.
    for (let i = noscript.childNodes.length - 1; i >= 0; i--) {
      nodes.push(noscript.childNodes[i]!);
      depths.push(depth + 1);
      contexts.push('noscript');
    }
    return;
  }
  const end = rawTextEnd(scan.text, start, 'noscript');
  const fragment = parseNoscriptContent(scan.text.slice(start, end), scan.source.tagStarts, start);
  nodes.push(fragment);
  depths.push(depth + 1);
  contexts.push('noscript');
}

/** Raw text ends at the first "appropriate end tag" (HTML tokenizer, RAWTEXT end tag name state): `</name` then whitespace, `/` or `>`. */
function rawTextEnd(text: string, from: number, name: string): number {
  const endTag = new RegExp(`</${name}[\\t\\n\\f\\r />]`, 'gi');
  endTag.lastIndex = from;
  const match = endTag.exec(text);
  return match ? match.index : text.length;
}


/** A finding with its edits; inline code a template accepted keeps its slots' strings for template-streams.ts. */
function sighting(place: Place, judgement: Judgement, edits: readonly Edit[]): Sighting {
  const finding = makeFinding(place, judgement);
  return judgement.pieces ? { finding, edits, pieces: judgement.pieces } : { finding, edits };
}
