/**
 * A conservative model of the HTML tree builder (HTML §13.2.6) for documents that stay on its
 * well-trodden paths: the insertion modes up to "in body", tables whose cells hold the content,
 * selects of options. It keeps a stack of open elements and builds parse5-shaped elements (the
 * walker and the finders run on them unchanged), and it bails whenever the real tree builder could
 * create, drop, merge, clone or move an element differently than "one element per start tag, in
 * source order": the finders' results depend on exactly that (and on script text and nesting).
 *
 * Invariant that makes formatting elements safe without the list of active formatting elements:
 * a formatting element is only ever popped by its own end tag while it is the current node, so the
 * list never holds an element that is not open, and "reconstruct the active formatting elements"
 * and the adoption agency algorithm never create or move anything.
 */
import { html, type DefaultTreeAdapterTypes } from 'parse5';
import type { Attribute, Element } from '../tree.js';
import { bail } from './bail.js';
import {
  BUTTON_SCOPE, CLOSES_IMPLIED, HEAD_CONTENT, IMPLIED_END, SPECIAL, StartKind, TABLE_SECTIONS, bailReasonOf, startKind,
} from './elements.js';

type Document = DefaultTreeAdapterTypes.Document;
type ParentNode = DefaultTreeAdapterTypes.ParentNode;

/** The walker refuses past 400 (MAX_DEPTH); well before that the full path decides. */
const MAX_FAST_DEPTH = 256;

type Mode = 'before-html' | 'before-head' | 'in-head' | 'after-head' | 'in-body';

/** What the scanner must do after a start tag: nothing, or read the element's raw text content. */
export type ContentModel = 'markup' | 'rcdata' | 'rawtext' | 'script';

export class FastTreeBuilder {
  readonly document: Document = { nodeName: '#document', mode: html.DOCUMENT_MODE.NO_QUIRKS, childNodes: [] };
  private readonly stack: Element[] = [];
  private mode: Mode = 'before-html';
  private head: Element | undefined;
  private formOpen = false;
  private selectOpen = false;
  /** A raw text element was inserted into the head reopened in "after head": the head leaves the stack with it. */
  private headReopened = false;
  /** How many p elements are on the stack (every pop goes through pop()). */
  private openParagraphs = 0;

  /** A start tag token at `offset`; returns the content model of what follows it. */
  startTag(name: string, attrs: Attribute[], offset: number): ContentModel {
    if (this.mode !== 'in-body') return this.startTagBeforeBody(name, attrs, offset);
    if (this.selectOpen) return this.startTagInSelect(name, attrs, offset);
    const current = this.currentName();
    if (current === 'table' || current === 'tr' || TABLE_SECTIONS.has(current)) return this.startTagInTable(name, attrs, offset);
    return this.startTagInBody(name, attrs, offset);
  }

  endTag(name: string, offset: number): void {
    if (this.mode !== 'in-body') return this.endTagBeforeBody(name, offset);
    // HTML §13.2.6.4.7: </body> and </html> switch to "after body" without popping; what follows is
    // processed "in body" again at the same place (in tables and selects they are ignored): no-ops.
    if (name === 'body' || name === 'html') return;
    if (this.selectOpen) return this.endTagInSelect(name, offset);
    if (name === 'table' || name === 'tr' || name === 'td' || name === 'th' || TABLE_SECTIONS.has(name)) return this.endTagInTable(name, offset);
    const current = this.currentName();
    if (current === 'table' || current === 'tr' || TABLE_SECTIONS.has(current)) bail('table-content', offset);
    this.endTagInBody(name, offset);
  }

  /** Does text change anything here? Only before the body and directly in a table (not in body, cells or selects). */
  textMatters(): boolean {
    if (this.mode !== 'in-body') return true;
    if (this.selectOpen) return false;
    const current = this.currentName();
    return current === 'table' || current === 'tr' || TABLE_SECTIONS.has(current);
  }

  /** Character tokens between tags; `blank` when they are all HTML whitespace. */
  text(blank: boolean, offset: number): void {
    if (blank) return;
    if (this.mode !== 'in-body') {
      this.impliedBody();
      return;
    }
    const current = this.currentName();
    // "in table text": non-whitespace characters are foster-parented before the table (§13.2.6.4.10).
    if (!this.selectOpen && (current === 'table' || current === 'tr' || TABLE_SECTIONS.has(current))) bail('table-content', offset);
  }

  /** Appends a script's text child (the walker's childText reads it). */
  scriptText(value: string): void {
    if (value === '') return;
    const script = this.stack[this.stack.length - 1]!;
    script.childNodes.push({ nodeName: '#text', value, parentNode: script });
  }

  /** Pops the element whose raw text content ended (the "text" insertion mode's end tag), and a head reopened for it. */
  endRawText(): void {
    this.pop();
    if (!this.headReopened) return;
    this.headReopened = false;
    this.pop();
  }

  private startTagBeforeBody(name: string, attrs: Attribute[], offset: number): ContentModel {
    if (this.mode === 'before-html') {
      this.mode = 'before-head';
      if (name === 'html') {
        this.insert(name, attrs, offset, false);
        return 'markup';
      }
      this.insert('html', [], -1, false);
    }
    if (this.mode === 'before-head') {
      this.mode = 'in-head';
      if (name === 'head') {
        this.head = this.insert(name, attrs, offset, false);
        return 'markup';
      }
      this.head = this.insert('head', [], -1, false);
    }
    if (this.mode === 'in-head') {
      if (HEAD_CONTENT.has(name)) return this.startTagInBody(name, attrs, offset);
      if (name === 'html' || name === 'head') bail('merged-tag', offset);
      this.pop();
      this.mode = 'after-head';
    }
    // "after head" (§13.2.6.4.6): head content still goes into the head element.
    if (HEAD_CONTENT.has(name)) {
      this.stack.push(this.head!);
      const model = this.startTagInBody(name, attrs, offset);
      if (model === 'markup') this.pop();
      else this.headReopened = true;
      return model;
    }
    if (name === 'html' || name === 'head') bail('merged-tag', offset);
    this.mode = 'in-body';
    if (name === 'body') {
      this.insert(name, attrs, offset, false);
      return 'markup';
    }
    this.insert('body', [], -1, false);
    return this.startTag(name, attrs, offset);
  }


  private endTagBeforeBody(name: string, offset: number): void {
    if (name === 'head' && this.mode === 'in-head') {
      this.pop();
      this.mode = 'after-head';
      return;
    }
    if (name === 'body' || name === 'html') {
      this.impliedBody();
      return;
    }
    bail('misnested-end-tag', offset);
  }

  /** Non-whitespace text or </body> before the body: html, head and body are implied (§13.2.6.4.2-6). */
  private impliedBody(): void {
    if (this.mode === 'before-html') this.insert('html', [], -1, false);
    if (this.mode === 'before-html' || this.mode === 'before-head') this.head = this.insert('head', [], -1, false);
    if (this.mode !== 'after-head') this.pop();
    this.insert('body', [], -1, false);
    this.mode = 'in-body';
  }

  private startTagInBody(name: string, attrs: Attribute[], offset: number): ContentModel {
    switch (startKind(name)) {
      case StartKind.Ordinary:
      case StartKind.Formatting:
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.SingleOpen:
        // A second <a>/<nobr> runs the adoption agency; a second <button> closes the first.
        if (this.isOpen(name)) bail('formatting-misnest', offset);
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.Heading:
        this.closeP(offset);
        if (/^h[1-6]$/.test(this.currentName())) bail('implied-close', offset);
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.ClosesP:
        this.closeP(offset);
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.Form:
        // §13.2.6.4.7: a form start tag while the form element pointer is set is ignored.
        if (this.formOpen) bail('nested-form', offset);
        this.closeP(offset);
        this.insert(name, attrs, offset, false);
        this.formOpen = true;
        return 'markup';
      case StartKind.ListItem:
        this.closeListItem(['li'], offset);
        this.closeP(offset);
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.Definition:
        this.closeListItem(['dd', 'dt'], offset);
        this.closeP(offset);
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.Table:
        // A table closes an open p except in quirks mode: rather than decide the mode, bail.
        if (this.pInButtonScope()) bail('implied-close', offset);
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.Void:
        this.insert(name, attrs, offset, true);
        return 'markup';
      case StartKind.VoidClosesP:
        this.closeP(offset);
        this.insert(name, attrs, offset, true);
        return 'markup';
      case StartKind.RcData:
        this.insert(name, attrs, offset, false);
        return 'rcdata';
      case StartKind.RawText:
        this.insert(name, attrs, offset, false);
        return 'rawtext';
      case StartKind.Script:
        this.insert(name, attrs, offset, false);
        return 'script';
      case StartKind.Select:
        this.insert(name, attrs, offset, false);
        this.selectOpen = true;
        return 'markup';
      case StartKind.Option:
        if (this.currentName() === 'option') this.pop();
        this.insert(name, attrs, offset, false);
        return 'markup';
      case StartKind.TableStructure:
        return this.tableStructureInBody(name, attrs, offset);
      case StartKind.Bail:
        return bail(bailReasonOf(name), offset);
    }
  }

  /** td, tr, … outside table mode: inside a cell they close it (§13.2.6.4.15); elsewhere they are ignored. */
  private tableStructureInBody(name: string, attrs: Attribute[], offset: number): ContentModel {
    if (!this.inCell()) bail('ignored-tag', offset);
    this.closeCell(offset);
    return this.startTagInTable(name, attrs, offset);
  }

  /** "in table", "in table body", "in row" (§13.2.6.4.9, 13.2.6.4.13, 13.2.6.4.14), current node table/section/tr. */
  private startTagInTable(name: string, attrs: Attribute[], offset: number): ContentModel {
    let current = this.currentName();
    if (TABLE_SECTIONS.has(name)) {
      if (current === 'tr') current = this.popName();
      if (TABLE_SECTIONS.has(current)) current = this.popName();
      if (current !== 'table') bail('table-content', offset);
      this.insert(name, attrs, offset, false);
      return 'markup';
    }
    if (name === 'tr') {
      if (current === 'tr') current = this.popName();
      if (current === 'table') this.insert('tbody', [], -1, false);
      this.insert(name, attrs, offset, false);
      return 'markup';
    }
    if (name === 'td' || name === 'th') {
      if (current === 'table') current = this.insert('tbody', [], -1, false).tagName;
      if (TABLE_SECTIONS.has(current)) this.insert('tr', [], -1, false);
      this.insert(name, attrs, offset, false);
      return 'markup';
    }
    // caption, colgroup, col, a nested table, script/style/input/form between rows, and anything
    // foster-parented: not modelled.
    return bail('table-content', offset);
  }

  private endTagInTable(name: string, offset: number): void {
    if (name === 'td' || name === 'th') {
      if (!this.inCell()) bail('misnested-end-tag', offset);
      this.popImplied(offset);
      if (this.currentName() !== name) bail('misnested-end-tag', offset);
      this.pop();
      return;
    }
    if (this.inCell()) this.closeCell(offset);
    let current = this.currentName();
    if (name === 'tr') {
      if (current !== 'tr') bail('misnested-end-tag', offset);
      this.pop();
      return;
    }
    if (current === 'tr') current = this.popName();
    if (name === 'table' && TABLE_SECTIONS.has(current)) current = this.popName();
    if (current !== name) bail('misnested-end-tag', offset);
    this.pop();
  }

  private startTagInSelect(name: string, attrs: Attribute[], offset: number): ContentModel {
    // Chromium parses everything else inside a select "in body"; parse5 drops it (P-01): the full
    // path's relaxed-select re-parse handles both.
    if (name !== 'option' && name !== 'optgroup') bail('select-content', offset);
    if (this.currentName() === 'option') this.pop();
    if (name === 'optgroup' && this.currentName() === 'optgroup') this.pop();
    this.insert(name, attrs, offset, false);
    return 'markup';
  }

  private endTagInSelect(name: string, offset: number): void {
    const current = this.currentName();
    if (name === 'option' && current === 'option') {
      this.pop();
      return;
    }
    if (name === 'optgroup') {
      if (current === 'option' && this.stack[this.stack.length - 2]?.tagName === 'optgroup') this.pop();
      if (this.currentName() === 'optgroup') {
        this.pop();
        return;
      }
    }
    if (name === 'select') {
      while (this.currentName() === 'option' || this.currentName() === 'optgroup') this.pop();
      if (this.currentName() === 'select') {
        this.pop();
        this.selectOpen = false;
        return;
      }
    }
    bail('select-content', offset);
  }

  private endTagInBody(name: string, offset: number): void {
    if (name === 'p') {
      if (!this.pInButtonScope()) bail('misnested-end-tag', offset);
      this.closeP(offset);
      return;
    }
    if (name === 'form') {
      if (!this.formOpen) bail('misnested-end-tag', offset);
      this.popImplied(offset);
      if (this.currentName() !== 'form') bail('misnested-end-tag', offset);
      this.pop();
      this.formOpen = false;
      return;
    }
    if (CLOSES_IMPLIED.has(name)) this.popImplied(offset, name);
    // Formatting elements (adoption agency) and "any other end tag": only the current node closes
    // cleanly; anything else is ignored, pops several elements or clones formatting elements.
    if (this.currentName() !== name) bail(startKind(name) === StartKind.Formatting || name === 'a' || name === 'nobr' ? 'formatting-misnest' : 'misnested-end-tag', offset);
    this.pop();
  }

  /** "Close a p element" when one is in button scope; only implied-end-tag elements may sit above it. */
  private closeP(offset: number): void {
    if (!this.pInButtonScope()) return;
    this.popImplied(offset, 'p');
    if (this.currentName() !== 'p') bail('implied-close', offset);
    this.pop();
  }

  /** The li / dd-dt loop of §13.2.6.4.7: the nearest matching item is closed unless a special element stands between. */
  private closeListItem(names: readonly string[], offset: number): void {
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const node = this.stack[k]!.tagName;
      if (names.includes(node)) {
        for (let above = this.stack.length - 1; above > k; above--) {
          if (!IMPLIED_END.has(this.stack[above]!.tagName)) bail('implied-close', offset);
        }
        while (this.stack.length > k) this.pop();
        return;
      }
      if (SPECIAL.has(node) && node !== 'address' && node !== 'div' && node !== 'p') return;
    }
  }

  private pInButtonScope(): boolean {
    // Most block start tags find no open p at all: skip the walk down the stack.
    if (this.openParagraphs === 0) return false;
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const node = this.stack[k]!.tagName;
      if (node === 'p') return true;
      if (BUTTON_SCOPE.has(node)) return false;
    }
    return false;
  }

  /** Is a td/th open above the nearest table? */
  private inCell(): boolean {
    for (let k = this.stack.length - 1; k >= 0; k--) {
      const node = this.stack[k]!.tagName;
      if (node === 'td' || node === 'th') return true;
      if (node === 'table' || node === 'html') return false;
    }
    return false;
  }

  /** "Close the cell": implied end tags, then the cell itself must be the current node. */
  private closeCell(offset: number): void {
    this.popImplied(offset);
    const current = this.currentName();
    if (current !== 'td' && current !== 'th') bail('implied-close', offset);
    this.pop();
  }

  /** "Generate implied end tags" (except `except`). */
  private popImplied(offset: number, except?: string): void {
    for (let current = this.currentName(); IMPLIED_END.has(current) && current !== except; current = this.currentName()) {
      if (current === 'rb' || current === 'rp' || current === 'rt' || current === 'rtc') bail('ruby', offset);
      this.pop();
    }
  }

  private isOpen(name: string): boolean {
    for (let k = this.stack.length - 1; k >= 0; k--) if (this.stack[k]!.tagName === name) return true;
    return false;
  }

  private currentName(): string {
    return this.stack[this.stack.length - 1]?.tagName ?? '';
  }

  private pop(): void {
    if (this.stack.pop()?.tagName === 'p') this.openParagraphs--;
  }

  private popName(): string {
    this.pop();
    return this.currentName();
  }

  private insert(name: string, attrs: Attribute[], offset: number, isVoid: boolean): Element {
    const parent: ParentNode = this.stack[this.stack.length - 1] ?? this.document;
    const element: Element = { nodeName: name, tagName: name, attrs, namespaceURI: html.NS.HTML, childNodes: [], parentNode: parent };
    parent.childNodes.push(element);
    if (!isVoid) {
      this.stack.push(element);
      if (name === 'p') this.openParagraphs++;
      if (this.stack.length > MAX_FAST_DEPTH) bail('too-deep', offset);
    }
    return element;
  }
}
