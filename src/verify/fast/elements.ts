/**
 * What the tree builder does with each HTML start tag "in body" (HTML §13.2.6.4.7), reduced to the
 * cases the fast scanner models. A name missing here is an ordinary element ("any other start
 * tag"): inserted where it stands. Every special case the scanner does not model is a bail.
 */
import type { BailReason } from './bail.js';

export enum StartKind {
  Ordinary,
  Formatting, // b, big, code, em, font, i, s, small, strike, strong, tt, u
  SingleOpen, // a, nobr, button: a second one while the first is open restructures the tree
  Heading,
  ClosesP, // the block elements that "close a p element" first
  Form,
  ListItem, // li
  Definition, // dd, dt
  Table,
  Void,
  VoidClosesP, // hr
  RcData, // textarea, title
  RawText, // style, iframe
  Script,
  Select,
  Option, // option, optgroup
  TableStructure, // tbody, thead, tfoot, tr, td, th, caption, col, colgroup
  Bail,
}

const kinds = new Map<string, StartKind>();
const bails = new Map<string, BailReason>();

function set(kind: StartKind, names: string): void {
  for (const name of names.split(' ')) kinds.set(name, kind);
}

function bailOn(reason: BailReason, names: string): void {
  for (const name of names.split(' ')) {
    kinds.set(name, StartKind.Bail);
    bails.set(name, reason);
  }
}

set(StartKind.Formatting, 'b big code em font i s small strike strong tt u');
set(StartKind.SingleOpen, 'a nobr button');
set(StartKind.Heading, 'h1 h2 h3 h4 h5 h6');
set(StartKind.ClosesP, 'address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer header hgroup main menu nav ol p search section summary ul pre listing');
set(StartKind.Form, 'form');
set(StartKind.ListItem, 'li');
set(StartKind.Definition, 'dd dt');
set(StartKind.Table, 'table');
set(StartKind.Void, 'area br embed img keygen wbr input param source track base basefont bgsound link meta');
set(StartKind.VoidClosesP, 'hr');
set(StartKind.RcData, 'textarea title');
set(StartKind.RawText, 'style iframe');
set(StartKind.Script, 'script');
set(StartKind.Select, 'select');
set(StartKind.Option, 'option optgroup');
set(StartKind.TableStructure, 'tbody thead tfoot tr td th caption col colgroup');
bailOn('foreign-content', 'svg math');
bailOn('template', 'template');
bailOn('noscript', 'noscript');
bailOn('frameset', 'frameset frame');
bailOn('rawtext-element', 'plaintext xmp noembed noframes');
bailOn('image', 'image');
bailOn('merged-tag', 'html head body');
bailOn('ruby', 'rb rtc rt rp');

export function startKind(name: string): StartKind {
  return kinds.get(name) ?? StartKind.Ordinary;
}

export function bailReasonOf(name: string): BailReason {
  return bails.get(name) ?? 'ignored-tag';
}

/** "Generate implied end tags" pops these (§13.2.6.3). */
export const IMPLIED_END: ReadonlySet<string> = new Set(['dd', 'dt', 'li', 'optgroup', 'option', 'p', 'rb', 'rp', 'rt', 'rtc']);

/** End tags whose rule generates implied end tags before popping the element (§13.2.6.4.7). */
export const CLOSES_IMPLIED: ReadonlySet<string> = new Set([
  'address', 'article', 'aside', 'blockquote', 'button', 'center', 'details', 'dialog', 'dir', 'div', 'dl',
  'fieldset', 'figcaption', 'figure', 'footer', 'header', 'hgroup', 'listing', 'main', 'menu', 'nav', 'ol',
  'pre', 'search', 'section', 'summary', 'ul', 'li', 'dd', 'dt', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'applet', 'marquee', 'object',
]);

/** Elements that bound "has a p element in button scope" (§13.2.4.2, HTML namespace). */
export const BUTTON_SCOPE: ReadonlySet<string> = new Set(['applet', 'caption', 'html', 'table', 'td', 'th', 'marquee', 'object', 'template', 'button']);

/** The "special" category (§13.2.4.2), HTML namespace: where the li/dd/dt loop stops. */
export const SPECIAL: ReadonlySet<string> = new Set((
  'address applet area article aside base basefont bgsound blockquote body br button caption center col colgroup ' +
  'dd details dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header ' +
  'hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed noframes noscript object ' +
  'ol p param plaintext pre script search section select source style summary table tbody td template textarea tfoot ' +
  'th thead title tr track ul wbr xmp').split(' '));

/** Start tags the "in head" insertion mode inserts itself (§13.2.6.4.4). */
export const HEAD_CONTENT: ReadonlySet<string> = new Set(['base', 'basefont', 'bgsound', 'link', 'meta', 'title', 'style', 'script', 'noscript', 'noframes', 'template']);

export const TABLE_SECTIONS: ReadonlySet<string> = new Set(['tbody', 'thead', 'tfoot']);
