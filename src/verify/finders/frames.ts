/**
 * Frames (docs/vectors.md S-07, S-08, F-09): iframe/frame `src` against allow.frame, and `srcdoc`
 * verified as its own document (same-origin with the parent; its fallback base URL is the parent's
 * document base URL, HTML §2.4.1), depth-limited.
 */
import { VerifyRefusal } from '../../errors.js';
import { judgeUrl, resolveUrl } from '../judge.js';
import { removeAttribute, replaceAttribute } from '../edits.js';
import { MAX_SRCDOC_NESTING, type Finder, type Scan, type Sighting, type Visit } from '../scan.js';
import { attribute, attributeName, stripHtmlWhitespace, type Attribute } from '../tree.js';

export const frame: Finder = (visit, scan) => {
  const src = attribute(visit.element, 'src');
  // An empty src (after Chromium's whitespace stripping) is about:blank: nothing is loaded.
  if (src && stripHtmlWhitespace(src.value) !== '') {
    const raw = src.value;
    scan.reportAttribute(visit, src, { kind: 'frame', list: 'frame', raw }, (base) =>
      judgeUrl(scan.policy, scan.mode, 'frame', resolveUrl(raw, base), raw, 'foreign-frame'),
      replaceAttribute(scan.source, visit.element, src, 'src="about:blank"'));
  }
  if (visit.element.tagName === 'iframe') {
    const srcdoc = attribute(visit.element, 'srcdoc');
    if (srcdoc) verifySrcdoc(visit, scan, srcdoc);
  }
};

function verifySrcdoc(visit: Visit, scan: Scan, srcdoc: Attribute): void {
  const nesting = scan.options.nesting + 1;
  if (nesting > MAX_SRCDOC_NESTING) {
    throw new VerifyRefusal('too-deep', `srcdoc documents nest more than ${MAX_SRCDOC_NESTING} deep`);
  }
  const range = scan.source.attributeRange(visit.element, srcdoc);
  const { line, col } = scan.position(range?.start);
  const edits = removeAttribute(scan.source, visit.element, srcdoc);
  scan.defer((base): Sighting[] => {
    const inner = scan.scanNested(srcdoc.value, { ...scan.options, documentUrl: 'about:srcdoc', fallbackBase: base, nesting });
    // The inner document's offsets are into the decoded attribute value; for the rewriter and for
    // people the place is the srcdoc attribute itself, whose removal neutralises all of it.
    return inner.map(({ finding }) => ({
      finding: {
        ...finding,
        line,
        col,
        ...(range ? { offset: range.start } : {}),
        attribute: finding.attribute ?? attributeName(srcdoc),
        context: 'srcdoc',
      },
      edits,
    }));
  });
}
