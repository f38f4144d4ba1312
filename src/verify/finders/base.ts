/**
 * `<base href>` (docs/vectors.md F-10): the first one in tree order, wherever it stands, retargets
 * every relative URL at use time, so a base that resolves outside the site origin is a violation in
 * itself, whatever it is (data: and javascript: bases, ignored by the browser, included).
 */
import { resolveUrl } from '../judge.js';
import { removeAttribute } from '../edits.js';
import { selfOnly, type Finder } from '../scan.js';
import { attribute, NS_HTML } from '../tree.js';

export const base: Finder = (visit, scan) => {
  const href = attribute(visit.element, 'href');
  if (!href) return;
  // HTML §4.2.3: only an HTML base element sets the document base URL; a foreign-namespace one is
  // still a violation, because the preload scanner fetches through it.
  scan.noteBase(visit, href.value, visit.element.namespaceURI === NS_HTML);
  const raw = href.value;
  scan.reportAttribute(visit, href, { kind: 'base', list: 'navigate', raw }, () =>
    selfOnly(resolveUrl(raw, scan.options.fallbackBase), scan.policy.site), removeAttribute(scan.source, visit.element, href));
};
