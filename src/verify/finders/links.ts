/**
 * `<link>` relations that fetch code or documents (docs/vectors.md S-10, S-12): modulepreload and
 * preload as=script fetch (and compile) scripts; prefetch and prerender fetch navigations.
 * Stylesheets, icons and preconnects to other origins are legitimate and are not findings.
 */
import { judgeUrl, resolveUrl } from '../judge.js';
import { removeAttribute } from '../edits.js';
import type { Finder } from '../scan.js';
import { attribute, tokenList } from '../tree.js';

export const link: Finder = (visit, scan) => {
  const href = attribute(visit.element, 'href');
  const rel = attribute(visit.element, 'rel');
  if (!href || !rel) return;
  const rels = tokenList(rel.value);
  const as = attribute(visit.element, 'as')?.value.trim().toLowerCase();
  const raw = href.value;
  const edits = removeAttribute(scan.source, visit.element, href);
  if (rels.includes('modulepreload') || (rels.includes('preload') && (as === 'script' || as === 'worker' || as === 'sharedworker'))) {
    scan.reportAttribute(visit, href, { kind: 'module-preload', list: 'script', raw }, (base) =>
      judgeUrl(scan.policy, scan.mode, 'script', resolveUrl(raw, base), raw, 'foreign-script'), edits);
  } else if (rels.includes('prefetch') || rels.includes('prerender')) {
    scan.reportAttribute(visit, href, { kind: 'speculation-rules', list: 'navigate', raw }, (base) =>
      judgeUrl(scan.policy, scan.mode, 'navigate', resolveUrl(raw, base), raw, 'speculation-rules'), edits);
  }
};
