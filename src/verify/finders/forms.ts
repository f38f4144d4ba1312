/**
 * Form targets (docs/vectors.md F-01..F-15). Every `action` on a form of any namespace and every
 * `formaction` on any element is checked: the parser's form element pointer, `form="id"`, nested
 * and unclosed forms make "the form around the card field" the wrong question (F-05..F-08), and
 * method=dialog does not exempt a form whose submitter carries formmethod (F-12).
 */
import { judgeUrl, resolveUrl, type Judgement } from '../judge.js';
import { SINK_PLACEHOLDER, type Finder, type Scan, type Visit } from '../scan.js';
import { insertAfterTagName, replaceAttribute } from '../edits.js';
import { attribute, stripHtmlWhitespace, type Attribute } from '../tree.js';

export const formAction: Finder = (visit, scan) => {
  const attr = attribute(visit.element, 'action');
  const raw = attr?.value ?? '';
  const edits = attr
    ? replaceAttribute(scan.source, visit.element, attr, `action="${SINK_PLACEHOLDER}"`)
    : insertAfterTagName(scan.source, visit.element, `action="${SINK_PLACEHOLDER}"`);
  for (const reading of readings(raw)) {
    const judge = (base: string) => judgeFormTarget(scan, raw, base, reading);
    if (attr) scan.reportAttribute(visit, attr, { kind: 'form-action', list: 'form', raw }, judge, edits);
    else scan.reportElement(visit, { kind: 'form-action', list: 'form', raw }, judge, edits);
  }
};

/** `formaction` on ANY element: scripts can turn any element into a submitter by changing its type (F-05). */
export function formactionAttribute(visit: Visit, scan: Scan, attr: Attribute): void {
  const edits = replaceAttribute(scan.source, visit.element, attr, `formaction="${SINK_PLACEHOLDER}"`);
  for (const reading of readings(attr.value)) {
    scan.reportAttribute(visit, attr, { kind: 'form-action', list: 'form', raw: attr.value }, (base) => judgeFormTarget(scan, attr.value, base, reading), edits);
  }
}

type Reading = 'base' | 'document';

/**
 * HTML §4.10.21.3 form submission algorithm: "If action is the empty string, let action be the URL
 * of the form document" (ignoring <base>). Chromium strips HTML whitespace before that check
 * (FormSubmission::Attributes::ParseAction), the spec does not: `action=" "` goes to the document
 * URL in Chromium but to the base URL per spec (F-03). Such a value gets one finding per reading.
 */
function readings(raw: string): Reading[] {
  if (raw === '') return ['document'];
  return stripHtmlWhitespace(raw) === '' ? ['base', 'document'] : ['base'];
}

function judgeFormTarget(scan: Scan, raw: string, base: string, reading: Reading): Judgement {
  const { policy, mode, documentUrl } = scan.options;
  const url = reading === 'document' ? resolveUrl(documentUrl, documentUrl) : resolveUrl(raw, base);
  return judgeUrl(policy, mode, 'form', url, raw, 'foreign-form-action');
}
