/**
 * The fast path: one hand-written scan over the decoded text that builds the element tree the
 * finders need (parse5-shaped HTML elements with entity-decoded attributes and their tag offsets;
 * script text; no other text nodes), for documents it can prove unambiguous. Anything it does not
 * model exactly as the HTML tokenizer and tree builder do is a bail, and the caller parses the whole
 * document with parse5 instead. The walker and the finders are the same on both paths.
 */
import type { DefaultTreeAdapterTypes } from 'parse5';
import { FastPathBail, bail, type BailReason } from './bail.js';
import { rawTextEnd, skipDeclaration, skipToGreaterThan } from './markup.js';
import { isAsciiAlpha, isSpace, readTag } from './tag.js';
import { FastTreeBuilder, type ContentModel } from './tree-builder.js';

export type { BailReason } from './bail.js';

export type FastParse =
  | { readonly document: DefaultTreeAdapterTypes.Document; readonly bail?: undefined }
  | { readonly bail: BailReason; readonly offset: number; readonly document?: undefined };

/** Scans `text`; start tag offsets go into `tagStarts`, as the full path's tokenizer hook does. */
export function fastParse(text: string, tagStarts: WeakMap<object, number>): FastParse {
  try {
    return { document: scan(text, tagStarts) };
  } catch (err) {
    if (err instanceof FastPathBail) return { bail: err.reason, offset: err.offset };
    throw err;
  }
}

function scan(text: string, tagStarts: WeakMap<object, number>): DefaultTreeAdapterTypes.Document {
  // U+0000 is replaced, ignored or kept depending on the tokenizer state and insertion mode.
  const nul = text.indexOf('\0');
  if (nul >= 0) bail('nul', nul);
  const builder = new FastTreeBuilder();
  let pos = 0;
  // Each pass consumes at least one character, so the loop ends by the end of the text.
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const textEnd = lt < 0 ? text.length : lt;
    if (textEnd > pos && builder.textMatters()) builder.text(isBlank(text, pos, textEnd), pos);
    if (lt < 0) break;
    pos = markup(text, lt, builder, tagStarts);
  }
  return builder.document;
}

/** The token at `<`; returns the offset after it (and after any raw text content it opens). */
function markup(text: string, lt: number, builder: FastTreeBuilder, tagStarts: WeakMap<object, number>): number {
  const next = text.charCodeAt(lt + 1);
  if (isAsciiAlpha(next)) {
    const tag = readTag(text, lt + 1, true);
    tagStarts.set(tag.attrs, lt);
    const model = builder.startTag(tag.name, tag.attrs, lt);
    return model === 'markup' ? tag.end : rawContent(text, tag.end, tag.name, model, builder);
  }
  if (next === 0x2f /* / */) {
    const after = text.charCodeAt(lt + 2);
    if (isAsciiAlpha(after)) {
      const tag = readTag(text, lt + 2, false);
      builder.endTag(tag.name, lt);
      return tag.end;
    }
    // `</>` is dropped; `</` then anything else is a bogus comment (§13.2.5.7).
    if (after === 0x3e) return lt + 3;
    return skipToGreaterThan(text, lt);
  }
  if (next === 0x21 /* ! */) return skipDeclaration(text, lt);
  if (next === 0x3f /* ? */) return skipToGreaterThan(text, lt);
  if (Number.isNaN(next)) bail('eof-in-markup', lt);
  // A `<` that starts no tag is a character (§13.2.5.6 "anything else").
  builder.text(false, lt);
  return lt + 1;
}

/** RCDATA, RAWTEXT and script data: skipped to the appropriate end tag, which closes the element. */
function rawContent(text: string, from: number, name: string, model: ContentModel, builder: FastTreeBuilder): number {
  const end = rawTextEnd(text, from, name, model === 'script');
  if (model === 'script') builder.scriptText(foldNewlines(text.slice(from, end)));
  const endTag = readTag(text, end + 2, false);
  builder.endRawText();
  return endTag.end;
}

/** The input stream folds CR LF and CR to LF (HTML §13.2.3.5). */
function foldNewlines(value: string): string {
  return value.includes('\r') ? value.replace(/\r\n?/g, '\n') : value;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}
