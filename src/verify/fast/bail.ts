/**
 * Why the fast scanner handed a document to the full parse5 path. A bail costs milliseconds; a
 * construct the scanner models differently from the HTML tree builder could hide a live element,
 * so every construct it does not model exactly is a bail, never a guess.
 */
export type BailReason =
  | 'nul' // U+0000 anywhere: the tokenizer and tree builder replace or drop it per state
  | 'eof-in-markup' // the text ends inside a tag, comment, doctype or raw text element
  | 'cdata' // `<![CDATA[`: a bogus comment in HTML, a CDATA section in foreign content
  | 'comment-nesting' // `<!--` inside a comment (nested comment states)
  | 'script-escape' // `<!--` in script data: the escaped states move the end of the script (HTML §13.2.5.20ff)
  | 'non-ascii-name' // a tag or attribute name outside ASCII: only ASCII is lower-cased by the tokenizer
  | 'foreign-content' // <svg>, <math>: foreign content has its own tokenizer and tree rules
  | 'template' // template contents and declarative shadow roots
  | 'noscript' // the no-JS reading is re-parsed by the walker with parse5
  | 'select-content' // anything but option/optgroup/text in a select (the relaxed-select re-parse, P-01)
  | 'table-content' // anything but rows and cells between <table> and a cell (foster parenting)
  | 'frameset' // frameset documents and <frame> outside them
  | 'rawtext-element' // plaintext, xmp, noembed, noframes
  | 'image' // <image> becomes <img>
  | 'merged-tag' // a second <html>, <head> or <body>: attributes merged into the existing element
  | 'ignored-tag' // a start tag the tree builder drops here (td outside a table, a second form, …)
  | 'nested-form' // a <form> while the form element pointer is set
  | 'formatting-misnest' // a formatting element closed out of order or reopened (adoption agency, reconstruction)
  | 'misnested-end-tag' // an end tag that does not close the current element (after implied end tags)
  | 'implied-close' // a start tag whose implied closing would pop an element the scanner cannot pop safely
  | 'ruby' // rb, rt, rp, rtc: ruby implied end tags
  | 'too-deep'; // nesting near the walker's limit: the full path decides the refusal

/** Thrown inside the scanner, caught once at its entry: the document takes the full path. */
export class FastPathBail {
  constructor(
    readonly reason: BailReason,
    /** Offset in the decoded text where the scanner gave up. */
    readonly offset: number,
  ) {}
}

export function bail(reason: BailReason, offset: number): never {
  throw new FastPathBail(reason, offset);
}
