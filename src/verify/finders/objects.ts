/**
 * Plugin-era loaders that Chromium still turns into documents (docs/vectors.md S-07, S-08):
 * `<object data>`, `<object><param name=src|movie|code|url value>`, `<embed src|code>`. Chromium
 * puts object/embed documents under frame-src, so they are judged against allow.frame.
 */
import { judgeUrl, resolveUrl } from '../judge.js';
import { removeAttribute, replaceAttribute } from '../edits.js';
import type { Finder, Scan, Visit } from '../scan.js';
import { attribute, stripHtmlWhitespace, type Attribute } from '../tree.js';

const PARAM_URL_NAMES: ReadonlySet<string> = new Set(['src', 'movie', 'code', 'url']);

export const object: Finder = (visit, scan) => {
  const data = attribute(visit.element, 'data');
  if (data) reportObjectUrl(visit, scan, data, removeAttribute(scan.source, visit.element, data));
};

export const embed: Finder = (visit, scan) => {
  for (const name of ['src', 'code']) {
    const attr = attribute(visit.element, name);
    if (attr) reportObjectUrl(visit, scan, attr, removeAttribute(scan.source, visit.element, attr));
  }
};

/** Any <param> with a URL-ish name, wherever it is (a param only matters under an object; checking all over-approximates). */
export const param: Finder = (visit, scan) => {
  const name = attribute(visit.element, 'name');
  const value = attribute(visit.element, 'value');
  if (!name || !value || !PARAM_URL_NAMES.has(name.value.trim().toLowerCase())) return;
  reportObjectUrl(visit, scan, value, replaceAttribute(scan.source, visit.element, name, 'name="payguard-blocked"'));
};

function reportObjectUrl(visit: Visit, scan: Scan, attr: Attribute, edits: ReturnType<typeof removeAttribute>): void {
  const raw = attr.value;
  if (stripHtmlWhitespace(raw) === '') return;
  scan.reportAttribute(visit, attr, { kind: 'object', list: 'frame', raw }, (base) =>
    judgeUrl(scan.policy, scan.mode, 'frame', resolveUrl(raw, base), raw, 'foreign-frame'), edits);
}
