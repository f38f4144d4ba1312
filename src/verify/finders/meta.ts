/**
 * `<meta http-equiv>` that acts (docs/vectors.md N-02, S-13): refresh (parsed by the shared
 * declarative refresh steps; every refresh meta is checked, not only the first the browser obeys)
 * and Content-Security-Policy (its report endpoints receive page data).
 */
import { judgeUrl, resolveUrl } from '../judge.js';
import { replaceAttribute } from '../edits.js';
import { parseDeclarativeRefresh } from '../refresh.js';
import type { Finder, Scan, Visit } from '../scan.js';
import { attribute, type Attribute } from '../tree.js';

export const meta: Finder = (visit, scan) => {
  const httpEquiv = attribute(visit.element, 'http-equiv');
  const content = attribute(visit.element, 'content');
  if (!httpEquiv || !content) return;
  const pragma = httpEquiv.value.trim().toLowerCase();
  if (pragma === 'refresh') refresh(visit, scan, httpEquiv, content);
  else if (pragma === 'content-security-policy') csp(visit, scan, httpEquiv, content);
};

function refresh(visit: Visit, scan: Scan, httpEquiv: Attribute, content: Attribute): void {
  const parsed = parseDeclarativeRefresh(content.value);
  if (parsed?.url === undefined) return;
  const target = parsed.url;
  scan.reportAttribute(visit, content, { kind: 'meta-refresh', list: 'navigate', raw: content.value }, (base) =>
    judgeUrl(scan.policy, scan.mode, 'navigate', resolveUrl(target, base), target, 'foreign-navigation'),
    replaceAttribute(scan.source, visit.element, httpEquiv, 'data-payguard-blocked=""'));
}

/** A meta CSP can only add restrictions, but its report-uri endpoints receive violation reports. */
function csp(visit: Visit, scan: Scan, httpEquiv: Attribute, content: Attribute): void {
  const edits = replaceAttribute(scan.source, visit.element, httpEquiv, 'data-payguard-blocked=""');
  const endpoints: string[] = [];
  for (const directive of content.value.split(';')) {
    const [name, ...values] = directive.trim().split(/[\t\n\f\r ]+/);
    if (name?.toLowerCase() === 'report-uri') endpoints.push(...values.filter((v) => v !== ''));
  }
  if (endpoints.length === 0) {
    scan.reportAttribute(visit, content, { kind: 'meta-csp', list: 'connect', raw: content.value }, () => ({ allowed: true }), edits);
    return;
  }
  for (const endpoint of endpoints) {
    scan.reportAttribute(visit, content, { kind: 'meta-csp', list: 'connect', raw: endpoint }, (base) =>
      judgeUrl(scan.policy, scan.mode, 'connect', resolveUrl(endpoint, base), endpoint, 'meta-csp'), edits);
  }
}
