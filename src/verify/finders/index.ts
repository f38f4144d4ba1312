/**
 * The finders, keyed by the elements they look at. A new vector is a new finder here plus its
 * test pages. Keys are `namespace|localName` (parse5's case-adjusted SVG names).
 */
import type { Finder, Finders } from '../scan.js';
import { NS_HTML, NS_MATHML, NS_SVG } from '../tree.js';
import { attributes } from './attributes.js';
import { base } from './base.js';
import { carriedInAttributes, carriedInDataBlock, carriedInStyle } from './carried-urls.js';
import { formAction } from './forms.js';
import { frame } from './frames.js';
import { link } from './links.js';
import { mageInitAttribute, mathmlMagentoInitBlock } from './magento-init.js';
import { meta } from './meta.js';
import { embed, object, param } from './objects.js';
import { script } from './scripts.js';
import { svgAnimation } from './svg-animation.js';
import { cssAttributes, styleElement } from './css.js';
import { background, img, input, media, passiveLink, source, svgReference } from './passive.js';

const byElement: [string, string, Finder][] = [
  // F-09: a "form" in SVG or MathML is not a form, but checking it costs nothing and over-approximates.
  [NS_HTML, 'form', formAction],
  [NS_SVG, 'form', formAction],
  [NS_MATHML, 'form', formAction],
  [NS_HTML, 'script', script],
  [NS_SVG, 'script', script],
  // Magento's `script[type="text/x-magento-init"]` matches a MathML <script> too (S-18).
  [NS_MATHML, 'script', mathmlMagentoInitBlock],
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
  // Passive loads (issue 17 class 2): images, media, stylesheets, fonts, manifests, preconnects.
  [NS_HTML, 'img', img],
  [NS_HTML, 'source', source],
  [NS_HTML, 'video', media],
  [NS_HTML, 'audio', media],
  [NS_HTML, 'track', media],
  [NS_HTML, 'input', input],
  // The legacy background attribute maps to background-image on these (HTML §15.3.10 and §15.3.9).
  ...['body', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th'].map((name): [string, string, Finder] => [NS_HTML, name, background]),
  // As for modulepreload: the preload scanner reads a <link> whatever its namespace.
  [NS_HTML, 'link', passiveLink],
  [NS_SVG, 'link', passiveLink],
  [NS_MATHML, 'link', passiveLink],
  // The same scanner fetches <input type=image src> inside <svg> or <math>, where the tree builder
  // makes it a foreign element that loads nothing (oracle-passive found it); every passive tag of
  // the scanner is judged in foreign content too.
  ...[NS_SVG, NS_MATHML].flatMap((ns): [string, string, Finder][] => [
    [ns, 'img', img],
    [ns, 'input', input],
    [ns, 'source', source],
    [ns, 'video', media],
    [ns, 'audio', media],
    [ns, 'track', media],
    ...['body', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th'].map((name): [string, string, Finder] => [ns, name, background]),
  ]),
  [NS_HTML, 'style', styleElement],
  [NS_SVG, 'style', styleElement],
  [NS_MATHML, 'style', styleElement],
  // Data the shop's own code may navigate to (issue 17 class 4): data blocks and <style> text.
  [NS_HTML, 'script', carriedInDataBlock],
  [NS_HTML, 'style', carriedInStyle],
];

const dispatch = new Map<string, Map<string, Finder[]>>();
for (const [namespace, name, finder] of byElement) {
  const names = dispatch.get(namespace) ?? new Map<string, Finder[]>();
  names.set(name, [...(names.get(name) ?? []), finder]);
  dispatch.set(namespace, names);
}

// data-mage-init (S-18): Magento's loader reads it on any element (main.js selects `[data-mage-init]`).
export const FINDERS: Finders = { dispatch, everyElement: [attributes, cssAttributes, svgReference, carriedInAttributes, mageInitAttribute] };
