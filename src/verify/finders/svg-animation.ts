/**
 * SVG `<set>`/`<animate>`/`<animateTransform>`/`<animateMotion>` that write a URL or an event handler at
 * run time (docs/vectors.md S-06): `<set attributeName=href to="javascript:…">` turns a harmless
 * link into code after the page was checked. No legitimate checkout animates these.
 */
import { removeAttribute } from '../edits.js';
import type { Finder } from '../scan.js';
import { attribute } from '../tree.js';

export const svgAnimation: Finder = (visit, scan) => {
  const target = attribute(visit.element, 'attributeName');
  if (!target) return;
  const name = target.value.trim().toLowerCase();
  const local = name.startsWith('xlink:') ? name.slice(6) : name;
  if (local !== 'href' && local !== 'src' && !local.startsWith('on')) return;
  scan.reportAttribute(visit, target, { kind: 'svg-animation', list: 'inline', raw: target.value }, () => ({ allowed: false, reason: 'svg-animation-url' }),
    removeAttribute(scan.source, visit.element, target));
};
