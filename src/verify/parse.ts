/**
 * One parse5 parse, plus the compensation for parse5's relaxed-<select> gap (docs/vectors.md P-01,
 * P-02). parse5 8.1.1 still drops every start tag inside <select> except option/optgroup/hr/script/
 * template (and input/keygen/textarea/select, which close it). Chromium (since 134/135) and the
 * HTML Standard (whatwg/html#10548) parse them "in body", so those elements are live.
 *
 * The cheap, precise trigger: a Parser subclass notices a start tag that the select insertion
 * modes would drop. Only then is a copy of the text parsed again with every `<select`/`</select`
 * tag renamed to `<pg-sel`/`</pg-sel` (same length, so every offset still points into the
 * original text): an ordinary element, inside which everything parses "in body". That copy's
 * findings are unioned with the tree's. A token (SAX) pass would not do: it misses
 * `<select><svg></p><style><a id="</style><img src=1 onerror=…>">` (P-02), the second tree does not.
 */
import { Parser, Tokenizer, type DefaultTreeAdapterMap, type DefaultTreeAdapterTypes, type ParserOptions, type Token } from 'parse5';

type Document = DefaultTreeAdapterTypes.Document;
type DocumentFragment = DefaultTreeAdapterTypes.DocumentFragment;
type Element = DefaultTreeAdapterTypes.Element;

/** parse5's InsertionMode.IN_SELECT and IN_SELECT_IN_TABLE (a const enum in its typings). */
const IN_SELECT = 15;
const IN_SELECT_IN_TABLE = 16;

/** Start tags the legacy select insertion modes handle themselves (HTML before #10548). */
const LEGACY_SELECT_TAGS: ReadonlySet<string> = new Set([
  'option', 'optgroup', 'hr', 'script', 'template', 'input', 'keygen', 'textarea', 'select', 'html',
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

class SelectAwareParser extends Parser<DefaultTreeAdapterMap> {
  /** A start tag Chromium would keep inside a select was dropped by parse5. */
  droppedInSelect = false;
  /** Source offsets of `<select` and `</select` tags the tokenizer emitted. */
  readonly selectTagOffsets: number[] = [];
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
    if (token.tagName === 'select') this.selectTagOffsets.push(tagStart);
    const mode = this.insertionMode as number;
    if ((mode === IN_SELECT || mode === IN_SELECT_IN_TABLE) && !LEGACY_SELECT_TAGS.has(token.tagName)) {
      this.droppedInSelect = true;
    }
    super.onStartTag(token);
  }

  override onEndTag(token: Token.TagToken): void {
    if (token.tagName === 'select') this.selectTagOffsets.push(this.tagStartTokenizer.lastTagStart);
    super.onEndTag(token);
  }
}

// No sourceCodeLocationInfo: it nearly doubles parse5's time; SourceText finds positions instead.
const OPTIONS = { scriptingEnabled: true } as const;

export interface ParsedHtml {
  readonly document: Document;
  /** Re-parses with <select> made ordinary; empty unless parse5 dropped something inside a select. */
  readonly relaxedSelect: readonly Document[];
}

/** Parses `text`; tag start offsets go into `tagStarts` (see SourceText). */
export function parseHtml(text: string, tagStarts: WeakMap<object, number>): ParsedHtml {
  let parser = new SelectAwareParser(OPTIONS).recordTagStarts(tagStarts, 0);
  parser.tokenizer.write(text, true);
  const document = parser.document;
  const relaxedSelect: Document[] = [];
  let source = text;
  const renamed = new Set<number>();
  for (let pass = 0; pass < MAX_RELAXED_PASSES && parser.droppedInSelect; pass++) {
    const fresh = parser.selectTagOffsets.filter((offset) => !renamed.has(offset));
    if (fresh.length === 0) break;
    source = renameSelectTags(source, fresh);
    for (const offset of fresh) renamed.add(offset);
    parser = new SelectAwareParser(OPTIONS).recordTagStarts(tagStarts, 0);
    parser.tokenizer.write(source, true);
    relaxedSelect.push(parser.document);
  }
  return { document, relaxedSelect };
}

/**
 * The contents of a <noscript> as a user without JavaScript gets them (P-05): a fragment parsed
 * with scripting disabled. parse5 8.1.1 tokenizes a noscript fragment context as raw text whatever
 * the scripting flag, so the context is parse5's forgiving default (a template): every element is
 * kept where it stands, which over-approximates the "in head noscript" mode (whose rejects are
 * re-processed into the body, live, anyway). `delta` is where `source` starts in the document.
 */
export function parseNoscriptContent(source: string, tagStarts: WeakMap<object, number>, delta: number): DocumentFragment {
  const parser = SelectAwareParser.getFragmentParser<DefaultTreeAdapterMap>(null, { scriptingEnabled: false });
  (parser as SelectAwareParser).recordTagStarts(tagStarts, delta);
  parser.tokenizer.write(source, true);
  return parser.getFragment();
}

function renameSelectTags(source: string, offsets: readonly number[]): string {
  const parts: string[] = [];
  let last = 0;
  for (const offset of [...offsets].sort((a, b) => a - b)) {
    // `<select` or `</select`: keep the `<` (and `/`), replace the six letters of the name.
    const nameStart = source[offset + 1] === '/' ? offset + 2 : offset + 1;
    parts.push(source.slice(last, nameStart), 'pg-sel');
    last = nameStart + 6;
  }
  parts.push(source.slice(last));
  return parts.join('');
}
