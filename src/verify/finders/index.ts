/**
 * The finders, keyed by the elements they look at. A new vector is a new finder here plus its
 * test pages. Keys are `namespace|localName` (parse5's case-adjusted SVG names).
 */
import type { Finder, Finders } from '../scan.js';
import { NS_HTML, NS_MATHML, NS_SVG } from '../tree.js';
import { attributes } from './attributes.js';
import { base } from './base.js';
import { formAction } from './forms.js';
import { frame } from './frames.js';
import { link } from './links.js';
import { meta } from './meta.js';
import { embed, object, param } from './objects.js';
import { script } from './scripts.js';
import { svgAnimation } from './svg-animation.js';

const byElement: [string, string, Finder][] = [
  // F-09: a "form" in SVG or MathML is not a form, but checking it costs nothing and over-approximates.
  [NS_HTML, 'form', formAction],
  [NS_SVG, 'form', formAction],
  [NS_MATHML, 'form', formAction],
  [NS_HTML, 'script', script],
  [NS_SVG, 'script', script],
  [NS_HTML, 'iframe', frame],
  [NS_HTML, 'frame', frame],
  [NS_HTML, 'object', object],
  [NS_HTML, 'embed', embed],
  [NS_HTML, 'param', param],
  [NS_HTML, 'link', link],
  // Chromium 156's speculative preload scanner does not track namespaces: it fetches a
  // <link rel=modulepreload|preload as=script> and honours a <base href> inside <svg> or <math>
  // (found by the Chromium oracle over the corpus, test/corpus/parser/p08-*).
  [NS_SVG, 'link', link],
  [NS_MATHML, 'link', link],
  [NS_HTML, 'base', base],
  [NS_SVG, 'base', base],
  [NS_MATHML, 'base', base],
  [NS_HTML, 'meta', meta],
  [NS_SVG, 'set', svgAnimation],
  [NS_SVG, 'animate', svgAnimation],
  [NS_SVG, 'animateTransform', svgAnimation],
  [NS_SVG, 'animateMotion', svgAnimation],
];

const dispatch = new Map<string, Map<string, Finder[]>>();
for (const [namespace, name, finder] of byElement) {
  const names = dispatch.get(namespace) ?? new Map<string, Finder[]>();
  names.set(name, [...(names.get(name) ?? []), finder]);
  dispatch.set(namespace, names);
}

export const FINDERS: Finders = { dispatch, everyElement: [attributes] };
