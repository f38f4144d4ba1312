/**
 * One parse5 parse, plus re-parses for the start tags the tree builder drops but Chromium still
 * acts on. Two containers make the tree builder drop start tags:
 *
 * - `<select>` (docs/vectors.md P-01, P-02). parse5 8.1.1 still drops every start tag inside
 *   <select> except option/optgroup/hr/script/template (and input/keygen/textarea/select, which
 *   close it). Chromium (since 134/135) and the HTML Standard (whatwg/html#10548) parse them
 *   "in body", so those elements are live.
 * - `<frameset>`. The "in frameset" and "after frameset" modes (HTML §13.2.6.4.20-22) ignore every
 *   start tag but frame, frameset and noframes, in Chromium as in parse5; but Chromium's
 *   speculative preload scanner reads tokens, not the tree, and fetches a
 *   `<link rel=modulepreload>` (or an image, a stylesheet, a `<base>`) that the tree never holds
 *   (docs/vectors.md P-12). The same holds for what a `<frameset>` removes: one that arrives "in
 *   body" while the frameset-ok flag is set detaches the body and everything already in it.
 *
 * The cheap, precise trigger: a Parser subclass notices a start tag that one of those modes drops.
 * Only then is a copy of the text parsed again with every `<select`/`</select` and
 * `<frameset`/`</frameset` tag renamed to an unknown name of the same length (so every offset
 * still points into the original text): an ordinary element, inside which everything parses
 * "in body". That copy's findings are unioned with the tree's. A token (SAX) pass would not do:
 * it misses `<select><svg></p><style><a id="</style><img src=1 onerror=…>">` (P-02), the second
 * tree does not.
 */
import { Parser, Tokenizer, type DefaultTreeAdapterMap, type DefaultTreeAdapterTypes, type ParserOptions, type Token } from 'parse5';

type Document = DefaultTreeAdapterTypes.Document;
type DocumentFragment = DefaultTreeAdapterTypes.DocumentFragment;
type Element = DefaultTreeAdapterTypes.Element;

/** parse5's InsertionMode values (a const enum in its typings). */
const IN_SELECT = 15;
const IN_SELECT_IN_TABLE = 16;
const IN_FRAMESET = 19;
const AFTER_FRAMESET = 20;
const AFTER_AFTER_FRAMESET = 22;

/** Start tags the legacy select insertion modes handle themselves (HTML before #10548). */
const LEGACY_SELECT_TAGS: ReadonlySet<string> = new Set([
  'option', 'optgroup', 'hr', 'script', 'template', 'input', 'keygen', 'textarea', 'select', 'html',
]);

/** Start tags the frameset insertion modes keep (HTML §13.2.6.4.20-22); every other one is dropped. */
const FRAMESET_TAGS: ReadonlySet<string> = new Set(['frameset', 'frame', 'noframes', 'html']);

/** The containers whose insertion modes drop start tags, and the same-length ordinary names they take in a re-parse. */
const RENAMED_CONTAINERS: ReadonlyMap<string, string> = new Map([
  ['select', 'pg-sel'],
  ['frameset', 'pg-frset'],
]);

/** Renaming passes are bounded: each pass can only reveal select tags the previous one hid. */
const MAX_RELAXED_PASSES = 4;

/**
 * Remembers where the last tag began. A tag token is always emitted before the next one is
 * created, so in the parser's onStartTag this is the `<` of the tag being processed. (A subclass,
 * not a property on the token: a new token shape or a patched instance slows parse5 down ~2x.)
 */
class TagStartTokenizer extends Tokenizer {
  lastTagStart = -1;
  delta = 0;

  protected override _createStartTagToken(): void {
    super._createStartTagToken();
    // The current code point is the first letter of the name: `<` is one before (parse5's getCurrentLocation(1)).
    this.lastTagStart = this.preprocessor.offset - 1 + this.delta;
  }

  protected override _createEndTagToken(): void {
    super._createEndTagToken();
    this.lastTagStart = this.preprocessor.offset - 2 + this.delta;
  }
}

class DropAwareParser extends Parser<DefaultTreeAdapterMap> {
  /** The containers (`select`, `frameset`) in which parse5's tree builder dropped a start tag Chromium acts on. */
  readonly droppedIn = new Set<string>();
  /** Source offsets of the `<select`, `</select`, `<frameset` and `</frameset` tags the tokenizer emitted. */
  readonly containerTagOffsets: number[] = [];
  private tagStarts: WeakMap<object, number> = new WeakMap();
  private readonly tagStartTokenizer: TagStartTokenizer;

  constructor(options: ParserOptions<DefaultTreeAdapterMap>, document?: Document, fragmentContext?: Element | null) {
    super(options, document, fragmentContext);
    this.tagStartTokenizer = new TagStartTokenizer(this.options, this);
    this.tokenizer = this.tagStartTokenizer;
  }

  /** Records where every start tag begins, keyed by its attribute array (`delta`: where the parsed text starts in the document). */
  recordTagStarts(tagStarts: WeakMap<object, number>, delta: number): this {
    this.tagStarts = tagStarts;
    this.tagStartTokenizer.delta = delta;
    return this;
  }

  override onStartTag(token: Token.TagToken): void {
    const tagStart = this.tagStartTokenizer.lastTagStart;
    // parse5 hands the token's attribute array to the element it creates (clones included).
    this.tagStarts.set(token.attrs, tagStart);
    if (RENAMED_CONTAINERS.has(token.tagName)) this.containerTagOffsets.push(tagStart);
    const container = droppingContainer(this.insertionMode as number, token.tagName);
    if (container !== undefined) this.droppedIn.add(container);
    // A <frameset> "in body" while the frameset-ok flag is set detaches the body with everything
    // already in it (HTML §13.2.6.4.7), in Chromium as in parse5; the preload scanner had fetched
    // from those tokens already (an SVG <script href> before the doctype, found by the Chromium
    // sample). The re-parse keeps them: its frameset is an ordinary element inside the body.
    const body = token.tagName === 'frameset' && this.framesetOk ? this.openElements.tryPeekProperlyNestedBodyElement() : null;
    super.onStartTag(token);
    if (body && body.parentNode === null && body.childNodes.length > 0) this.droppedIn.add('frameset');
  }

  override onEndTag(token: Token.TagToken): void {
    if (RENAMED_CONTAINERS.has(token.tagName)) this.containerTagOffsets.push(this.tagStartTokenizer.lastTagStart);
    super.onEndTag(token);
  }
}

/** The container whose insertion mode drops this start tag, if it is dropped. */
function droppingContainer(mode: number, tagName: string): 'select' | 'frameset' | undefined {
  if (mode === IN_SELECT || mode === IN_SELECT_IN_TABLE) return LEGACY_SELECT_TAGS.has(tagName) ? undefined : 'select';
  if (mode === IN_FRAMESET || mode === AFTER_FRAMESET || mode === AFTER_AFTER_FRAMESET) return FRAMESET_TAGS.has(tagName) ? undefined : 'frameset';
  return undefined;
}

// No sourceCodeLocationInfo: it nearly doubles parse5's time; SourceText finds positions instead.
const OPTIONS = { scriptingEnabled: true } as const;

export interface ParsedHtml {
  readonly document: Document;
  /** Re-parses with <select> and <frameset> made ordinary; empty unless parse5 dropped a start tag in one. */
  readonly relaxed: readonly Document[];
  /** The finding context of what only the re-parses hold: the containers that dropped tags (`select`, `frameset`, `select frameset`). */
  readonly relaxedContext: string;
}

/** Parses `text`; tag start offsets go into `tagStarts` (see SourceText). */
export function parseHtml(text: string, tagStarts: WeakMap<object, number>): ParsedHtml {
  let parser = new DropAwareParser(OPTIONS).recordTagStarts(tagStarts, 0);
  parser.tokenizer.write(text, true);
  const document = parser.document;
  const relaxed: Document[] = [];
  const droppedIn = new Set(parser.droppedIn);
  let source = text;
  const renamed = new Set<number>();
  for (let pass = 0; pass < MAX_RELAXED_PASSES && parser.droppedIn.size > 0; pass++) {
    const fresh = parser.containerTagOffsets.filter((offset) => !renamed.has(offset));
    if (fresh.length === 0) break;
    source = renameContainerTags(source, fresh);
    for (const offset of fresh) renamed.add(offset);
    parser = new DropAwareParser(OPTIONS).recordTagStarts(tagStarts, 0);
    parser.tokenizer.write(source, true);
    relaxed.push(parser.document);
    for (const container of parser.droppedIn) droppedIn.add(container);
  }
  return { document, relaxed, relaxedContext: [...droppedIn].sort().join(' ') };
}

/**
 * The contents of a <noscript> as a user without JavaScript gets them (P-05): a fragment parsed
 * with scripting disabled. parse5 8.1.1 tokenizes a noscript fragment context as raw text whatever
 * the scripting flag, so the context is parse5's forgiving default (a template): every element is
 * kept where it stands, which over-approximates the "in head noscript" mode (whose rejects are
 * re-processed into the body, live, anyway). `delta` is where `source` starts in the document.
 */
export function parseNoscriptContent(source: string, tagStarts: WeakMap<object, number>, delta: number): DocumentFragment {
  const parser = DropAwareParser.getFragmentParser<DefaultTreeAdapterMap>(null, { scriptingEnabled: false });
  (parser as DropAwareParser).recordTagStarts(tagStarts, delta);
  parser.tokenizer.write(source, true);
  return parser.getFragment();
}

function renameContainerTags(source: string, offsets: readonly number[]): string {
  const parts: string[] = [];
  let last = 0;
  for (const offset of [...offsets].sort((a, b) => a - b)) {
    // `<name` or `</name`: keep the `<` (and `/`), replace the letters of the name (any case).
    const nameStart = source[offset + 1] === '/' ? offset + 2 : offset + 1;
    const [name, replacement] = containerAt(source, nameStart);
    parts.push(source.slice(last, nameStart), replacement);
    last = nameStart + name.length;
  }
  parts.push(source.slice(last));
  return parts.join('');
}

function containerAt(source: string, nameStart: number): [string, string] {
  for (const [name, replacement] of RENAMED_CONTAINERS) {
    if (source.slice(nameStart, nameStart + name.length).toLowerCase() === name) return [name, replacement];
  }
  throw new Error(`parse: no select or frameset tag name at offset ${nameStart}`);
}
