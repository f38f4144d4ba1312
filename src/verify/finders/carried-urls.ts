/**
 * Data that clean code turns into a navigation (issue 17, class 4; docs/vectors.md N-06). The 2019
 * break-in without touching a form: a foreign URL is put in data the shop's own, untampered code
 * reads (a `<meta content>`, a `data-*` attribute, a hidden input's value, a CSS custom property,
 * JSON-LD or a JSON data block, a named anchor reached through DOM clobbering), and that code sends
 * the shopper to the fake payment page. No CSP directive governs top-level navigation.
 *
 * So on protected routes every absolute or scheme-relative URL the document carries must resolve to
 * the site or to an origin the policy names in some list (any list: a URL on the shop's image CDN or
 * its gateway is no new destination). These finders cover:
 * - every attribute of every element, in every namespace (`href` of `a`/`area` too), except code
 *   (`on*`), nested documents (`srcdoc`) and namespace declarations (`xmlns`, `xmlns:*`);
 * - data blocks: JSON and JSON-LD strings and keys, template-type scripts' text;
 * - CSS: `style=""` and `<style>` declaration values, outside `url()`/`@import`/`image-set()` (those
 *   are fetches, judged by css.ts): custom properties and strings a script can read back (not
 *   selectors, at-rule preludes or comments between rules, which no script reads as a value);
 * - element text that is itself a URL (text-urls.ts, over the source, on both parser paths).
 * Which strings count as URLs is url-readings.ts. A URL that a specific finder also judges at the
 * same place (a form action, an image, a ping) is left to that finder (`preferSpecificFindings`).
 *
 * The finding names the list the URL would need (`navigate`, or `image` where the data names an
 * image); in report mode it is listed without being a violation, so the inventory drafts it. On
 * rewrite routes the attribute is removed, a data block emptied, a CSS reading replaced by `none`
 * and a text token removed.
 */
import { namingEntry, SELF_ENTRY } from '../../policy/allow.js';
import type { AllowEntry, AllowKind, Policy, RouteMode } from '../../policy/model.js';
import { cssUrls, declarationValueRanges, tokenizeCss, type CssContext } from '../css-syntax.js';
import { INERT_SCRIPT_TYPE, makeScriptInert, removeAttribute } from '../edits.js';
import { resolveUrl, type Judgement } from '../judge.js';
import type { Edit, Finder, Scan, Sighting, Visit } from '../scan.js';
import { scriptKind } from '../script-type.js';
import { attribute, childText, NS_HTML, type Attribute } from '../tree.js';
import { embeddedTokens, keyedJsonStrings, mayHoldUrl, parseJson, urlReadings, wholeValueReading } from '../url-readings.js';

type NeededList = Exclude<AllowKind, 'inline'>;

/** Names of data that hold an image (og:image, data-src, JSON-LD `image`, `logo`…): the image list would allow it. */
const IMAGE_HINT = /image|img|logo|icon|thumbnail|photo|picture|poster|banner|background|(?:^|[-_:])(?:bg|src|srcset)$/i;

export function neededList(hint: string): NeededList {
  return IMAGE_HINT.test(hint) ? 'image' : 'navigate';
}

/**
 * The judgement of one carried URL. Only http(s) URLs are judged: they are what a script can send
 * the shopper to as a page (javascript: is code, governed by CSP's script-src; data: top-level
 * navigations are blocked by Chromium; other schemes hand over to another application).
 */
export function judgeCarriedUrl(policy: Policy, mode: RouteMode, url: URL): Judgement {
  const located = { url: url.href, origin: url.origin };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { allowed: true, ...located };
  if (url.origin === policy.site) return { allowed: true, entry: SELF_ENTRY, ...located };
  const entry = namingEntry(policy, url.origin);
  if (entry) return { allowed: true, entry, ...located };
  // Report routes list it (the inventory drafts an entry for it) without making it a violation.
  if (mode === 'report') return { allowed: true, ...located };
  return { allowed: false, reason: 'unlisted-url', ...located };
}

/**
 * The URLs a first-party JSON file of the release manifest carries (issue 17 class 4: a same-origin
 * JSON file the shop's scripts read is data like a `data-*` attribute) whose origin neither the
 * site nor any allow list names, with the list each would need. Strings and keys are read as
 * JSON.parse gives them to the code (urlReadings), resolved against the site. Not JSON: nothing.
 */
export function unlistedUrlsInJson(policy: Policy, text: string): { url: string; list: NeededList }[] {
  if (!mayHoldUrl(text)) return [];
  const json = parseJson(text);
  if (json === undefined) return [];
  const out: { url: string; list: NeededList }[] = [];
  for (const { key, value } of keyedJsonStrings(json)) {
    for (const reading of urlReadings(value)) {
      const url = resolveUrl(reading, policy.site);
      if (url && !judgeCarriedUrl(policy, 'block', url).allowed) out.push({ url: url.href, list: neededList(key) });
    }
  }
  return out;
}

/**
 * Reports one reading, judged against the effective base once it is known. A reading the document's
 * fallback base already resolves to the site itself is left out (no finding for every absolute
 * link to the shop's own pages): an absolute URL resolves the same against any base, and a
 * scheme-relative one takes only the base's scheme, which a foreign `<base>` finding covers.
 */
export function reportReading(
  scan: Scan,
  reading: string,
  hint: string,
  report: (place: { kind: 'carried-url'; list: NeededList; raw: string }, judge: (base: string) => Judgement) => void,
): void {
  const first = resolveUrl(reading, scan.options.fallbackBase);
  if (!first || (first.protocol !== 'http:' && first.protocol !== 'https:')) return;
  if (first.origin === scan.policy.site && !/^[/\\]/.test(reading)) return;
  report({ kind: 'carried-url', list: neededList(hint), raw: reading }, (base) => {
    const url = resolveUrl(reading, base) ?? first;
    return judgeCarriedUrl(scan.policy, scan.mode, url);
  });
}

/** Every attribute of every element (the finder runs on all of them). */
export const carriedInAttributes: Finder = (visit, scan) => {
  const attrs = visit.element.attrs;
  for (let i = 0; i < attrs.length; i++) {
    const attr = attrs[i]!;
    const value = attr.value;
    // The cheap test first: almost every attribute (class, id, type, name) has no `/`, `\`, `:` or `%`.
    if (!mayHoldUrl(value) || skipped(attr)) continue;
    if (attr.name === 'style' && attr.namespace === undefined) {
      const readings = cssReadings(value, 'declarations').map((r) => r.reading);
      if (readings.length > 0) reportAttributeReadings(visit, scan, attr, readings, 'style');
      continue;
    }
    const readings = urlReadings(value);
    if (readings.length > 0) reportAttributeReadings(visit, scan, attr, readings, hintOf(visit, attr));
  }
};

/** Code, nested documents and namespace declarations are not data a script navigates to. */
function skipped(attr: Attribute): boolean {
  const name = attr.name;
  if (name.length > 2 && (name.charCodeAt(0) | 0x20) === 0x6f && (name.charCodeAt(1) | 0x20) === 0x6e) return true; // on*
  if (name === 'srcdoc' && attr.namespace === undefined) return true;
  return name === 'xmlns' || attr.prefix === 'xmlns' || name.startsWith('xmlns:');
}

/** The attribute's name, or for a `<meta content>` the name or property it carries (og:image). */
function hintOf(visit: Visit, attr: Attribute): string {
  if (attr.name === 'content' && visit.element.tagName === 'meta') {
    return attribute(visit.element, 'property')?.value ?? attribute(visit.element, 'name')?.value ?? attribute(visit.element, 'itemprop')?.value ?? 'content';
  }
  return attr.name;
}

function reportAttributeReadings(visit: Visit, scan: Scan, attr: Attribute, readings: readonly string[], hint: string): void {
  let edits: Edit[] | undefined;
  for (const reading of readings) {
    reportReading(scan, reading, hint, (place, judge) => {
      edits ??= removeAttribute(scan.source, visit.element, attr);
      scan.reportAttribute(visit, attr, place, judge, edits);
    });
  }
}

/**
 * `<script>` data blocks (HTML §4.12.1: a type the browser does not run). JSON and JSON-LD: every
 * string and key (JSON.parse has undone `\/` and `\u002F`). Template types: the URL-looking tokens
 * of their text. Executable scripts are code, judged by hash (scripts.ts); a script the rewriter
 * made inert is neutralised already.
 */
export const carriedInDataBlock: Finder = (visit, scan) => {
  const kind = scriptKind(visit.element);
  if (kind !== 'json' && kind !== 'data') return;
  const type = attribute(visit.element, 'type')?.value.trim().toLowerCase();
  if (type === INERT_SCRIPT_TYPE) return;
  const text = childText(visit.element);
  if (!mayHoldUrl(text)) return;
  let edits: Edit[] | undefined;
  const report = (reading: string, hint: string): void =>
    reportReading(scan, reading, hint, (place, judge) => {
      edits ??= emptyDataBlock(scan, visit, text, kind === 'json' ? '{}' : '');
      scan.reportElement(visit, place, judge, edits);
    });
  const json = kind === 'json' ? parseJson(text) : undefined;
  if (json !== undefined) {
    for (const { key, value } of keyedJsonStrings(json)) for (const reading of urlReadings(value)) report(reading, key);
    return;
  }
  // Template text, or JSON that does not parse (already a violation, invalid-data-block): its tokens.
  for (const reading of new Set(embeddedTokens(text).map((t) => t.reading))) report(reading, 'script');
};

/**
 * The rewrite of a data block carrying a foreign URL: its text replaced (by `{}` for JSON, which
 * stays valid, or nothing). Making it inert is not enough here: the shop's code reads the block by
 * its id whatever its type. The text runs from the start tag to the first `</script` end tag
 * (HTML §13.2.5.4 script data state); when the source slice there is not the text the parser gave
 * the element (an escaped `<!--<script>` section moved the end), the block is made inert instead,
 * and the re-verification of the rewrite decides.
 */
function emptyDataBlock(scan: Scan, visit: Visit, text: string, replacement: string): Edit[] {
  const start = scan.source.startTagEnd(visit.element);
  if (start === undefined) return makeScriptInert(scan.source, visit.element);
  const endTag = /<\/script[\t\n\f\r />]/gi;
  endTag.lastIndex = start;
  const match = endTag.exec(scan.text);
  const end = match ? match.index : scan.text.length;
  // The input stream's preprocessing (HTML §13.2.3.5) turns CR LF and CR into LF in the parser's text.
  if (scan.text.slice(start, end).replace(/\r\n?/g, '\n') !== text) return makeScriptInert(scan.source, visit.element);
  return [{ start, end, text: replacement }];
}

/**
 * An HTML `<style>`'s text: custom properties and strings, which a script reads back with
 * getComputedStyle(…).getPropertyValue('--x') or a `content` value. Each reading is replaced by
 * `none` on rewrite routes, as css.ts replaces a foreign `url()`.
 */
export const carriedInStyle: Finder = (visit, scan) => {
  if (visit.element.namespaceURI !== NS_HTML) return;
  const start = scan.source.startTagEnd(visit.element);
  if (start === undefined) return;
  const end = styleEnd(scan.text, start);
  const css = scan.text.slice(start, end);
  if (!mayHoldUrl(css)) return;
  for (const found of cssReadings(css, 'stylesheet')) {
    const at = start + found.start;
    reportReading(scan, found.reading, 'style', (place, judge) =>
      scan.reportAt(visit, at, place, judge, [{ start: at, end: start + found.end, text: 'none' }]));
  }
};

/**
 * The URL-looking readings of CSS that are data, not fetches: in declaration values only (a
 * selector, an at-rule's condition or a comment between rules is no value a script reads back,
 * css-syntax.ts declarationValueRanges), and there everywhere but inside what cssUrls() returns
 * (url(), src(), image-set() strings, @import), which css.ts judges as loads.
 * Outside strings, the text as written: `getPropertyValue('--x')` returns a custom property's
 * text as written, escapes and all (Chromium, test/verify/oracle-carried-urls.test.ts). A string
 * is read whole as written (not cut at a space: `"/\63 heckout"` is one invalid host, not host
 * `63`), and with its escapes decoded (§4.3.5), as a computed `content` serialises it.
 */
export function cssReadings(css: string, context: CssContext): { start: number; end: number; reading: string }[] {
  if (!mayHoldUrl(css)) return [];
  const embedded = embeddedTokens(css);
  const quoted = css.includes('"') || css.includes("'");
  if (embedded.length === 0 && !quoted && !/:[/\\]{2}/.test(css)) return [];
  const tokens = tokenizeCss(css);
  const values = declarationValueRanges(css, context, tokens);
  if (values.length === 0) return [];
  const inValue = (at: number): boolean => {
    // The ranges are in text order and disjoint: the last one starting at or before `at` decides.
    let low = 0;
    let high = values.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (values[mid]!.start <= at) low = mid;
      else high = mid - 1;
    }
    const range = values[low]!;
    return at >= range.start && at < range.end;
  };
  const fetched = css.includes('(') || css.includes('@') ? cssUrls(css, tokens) : [];
  const inFetched = (at: number): boolean => fetched.some((f) => at >= f.start && at < f.end);
  const strings = quoted ? tokens.filter((t) => (t.type === 'string' || t.type === 'bad-string') && inValue(t.start)) : [];
  const inString = (at: number): boolean => strings.some((t) => at >= t.start && at < t.end);
  const out: { start: number; end: number; reading: string }[] = embedded.filter((t) => inValue(t.start) && !inFetched(t.start) && !inString(t.start));
  // `--a://evil.example/`: the colon in front is the declaration's, not a scheme's (embeddedTokens
  // passes over `x://` as another scheme's URL); getPropertyValue returns `//evil.example/`.
  for (const range of values) {
    const head = css.charCodeAt(range.start);
    const next = css.charCodeAt(range.start + 1);
    if (!((head === 0x2f || head === 0x5c) && (next === 0x2f || next === 0x5c))) continue;
    const [first] = embeddedTokens(css.slice(range.start, range.end));
    if (first && !inFetched(range.start)) out.push({ start: range.start + first.start, end: range.start + first.end, reading: first.reading });
  }
  for (const token of strings) {
    if (inFetched(token.start)) continue;
    const quote = css[token.start]!;
    const rawEnd = token.end > token.start + 1 && css[token.end - 1] === quote ? token.end - 1 : token.end;
    const whole = wholeValueReading(css.slice(token.start + 1, rawEnd));
    const readings = new Set([...(whole === undefined ? [] : [whole]), ...urlReadings(token.value)]);
    for (const reading of readings) out.push({ start: token.start, end: token.end, reading });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** RAWTEXT ends at the first "appropriate end tag" (HTML §13.2.5.13-15): `</style` then whitespace, `/` or `>`. */
function styleEnd(text: string, from: number): number {
  const endTag = /<\/style[\t\n\f\r />]/gi;
  endTag.lastIndex = from;
  const match = endTag.exec(text);
  return match ? match.index : text.length;
}

/**
 * One judgement per place: a URL that a specific finder judged at the same offset (a form action,
 * a meta refresh, an image, a ping, a `url()`) is its finder's; the carried-URL reading of the same
 * attribute, resolving to the same URL, is dropped, and so is every carried reading at a place a
 * specific finder already refused (a `javascript:` URL's inner URL: the place is blocked under its
 * own, more telling reason). A reading at a place a specific finder allowed stays (a gateway form
 * action whose `?return=` names another host). The carried readings go last, so that a verdict's
 * first reason (the one a block is counted under) is the specific one. Linear in the sightings.
 */
export function preferSpecificFindings(sightings: Sighting[]): Sighting[] {
  if (!sightings.some((s) => s.finding.kind === 'carried-url')) return sightings;
  const judged = new Set<string>();
  const refusedAt = new Map<number, number>();
  sightings.forEach(({ finding }, i) => {
    if (finding.kind === 'carried-url') return;
    judged.add(`${finding.offset}|${finding.url}`);
    if (!finding.allowed && finding.offset !== undefined && !refusedAt.has(finding.offset)) refusedAt.set(finding.offset, i);
  });
  const out = sightings.map((s) => ({ ...s }));
  const carried: Sighting[] = [];
  for (const sighting of sightings) {
    const { finding } = sighting;
    if (finding.kind !== 'carried-url') continue;
    const at = finding.offset === undefined ? undefined : refusedAt.get(finding.offset);
    if (at !== undefined) {
      // The data stays after the specific rewrite (a refresh meta loses http-equiv, keeps content):
      // its own edits go with the specific sighting, unless they would touch the same bytes.
      const host = out[at]!;
      const overlaps = sighting.edits.some((e) => host.edits.some((h) => e.start < h.end && h.start < e.end));
      if (!overlaps) out[at] = { finding: host.finding, edits: [...host.edits, ...sighting.edits.filter((e) => !host.edits.some((h) => h.start === e.start && h.end === e.end))] };
      continue;
    }
    if (judged.has(`${finding.offset}|${finding.url}`)) continue;
    carried.push(sighting);
  }
  return [...out.filter((s) => s.finding.kind !== 'carried-url'), ...carried];
}

