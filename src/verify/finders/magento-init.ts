/**
 * Magento's loader data (docs/vectors.md S-18): `<script type="text/x-magento-init">` blocks and
 * `data-mage-init` attributes. Both are JSON that Magento's own code reads and never evaluates
 * (lib/web/mage/apply/scripts.js JSON.parses a block's textContent, main.js an attribute's value),
 * so they are judged as data, not hashed as code; what makes them dangerous is what that JSON asks
 * RequireJS to load, and the few strings Magento's code evaluates.
 *
 * - Shape. A block is `{ "<selector>": { "<component>": <config> } }` (`*` is the page, anything
 *   else a querySelectorAll selector); an attribute is `{ "<component>": <config> }`. JSON that
 *   does not parse, or is not shaped so, is `invalid-data-block`. Magento's selector
 *   `script[type="text/x-magento-init"]` names no namespace: SVG and MathML scripts are blocks too.
 * - Components. Each component name, each `mixins` entry of a component's config (main.js requires
 *   them before the component), and every string `component` in a config at any depth (the
 *   uiComponent layout of Magento_Ui/js/core/app requires each node's `component`, a nested
 *   `config.component` included) is a RequireJS dependency name, read as RequireJS reads it
 *   (moduleIdReadings): a bare module id resolves under the site's static base (first-party code,
 *   which the proxy judges by the release manifest when it is requested) and is not reported; a
 *   name RequireJS takes for a URL is judged as a script URL against allow.script
 *   (`foreign-script`), resolved against the effective base as the `<script src>` RequireJS
 *   inserts is; anything else is `unreadable-component` (fail closed).
 * - Evaluated strings. Magento's uiElement renders every config string and key holding `${`
 *   with eval of a template literal (lib/web/mage/utils/template.js), and widgets pass option
 *   strings to underscore templates (`<% %>`, lib/web/mage/template.js). A `${…}` that only reads a
 *   property path (the checkout's `${ $.provider }:${ $.parentScope }.country_id`) is data; any
 *   other such string is inline code, allowed by its hash in allow.inline (`inline-code`).
 * - URLs carried as data. A block's strings and keys are read by the carried-URL rules
 *   (carried-urls.ts reportReading: an absolute URL must be the site's or named by a list); an
 *   attribute's value is read by carriedInAttributes already.
 *
 * On rewrite routes a block is made inert (Magento selects it by its type, so it no longer reads
 * it) and an attribute is removed.
 */
import { judgeInline, judgeUrl, resolveUrl, type Judgement } from '../judge.js';
import { makeScriptInert, removeAttribute } from '../edits.js';
import type { Edit, Finder, Scan, Visit } from '../scan.js';
import { scriptKind } from '../script-type.js';
import { attribute, childText, isElement, NS_HTML, type Attribute } from '../tree.js';
import type { FindingKind } from '../types.js';
import type { AllowKind } from '../../policy/model.js';
import { keyedJsonStrings, mayHoldUrl, parseJson, urlReadings } from '../url-readings.js';
import { reportReading as reportCarriedReading } from './carried-urls.js';

export const MAGE_INIT_ATTRIBUTE = 'data-mage-init';

/** How RequireJS reads one part of a dependency name. */
export type ModuleIdReading =
  /** A module id: `baseUrl + id + '.js'` (require.js nameToUrl), the site's own static code. */
  | { readonly as: 'module' }
  /** A URL: RequireJS sets it as a `<script src>` as written. */
  | { readonly as: 'url'; readonly address: string }
  /** Neither shape payguard reads with certainty. */
  | { readonly as: 'unreadable' };

/** require.js `req.jsExtRegExp`: a name that starts with `/`, holds `:` or `?`, or ends in `.js` is "already a path". */
const REQUIREJS_PATH = /^\/|:|\?|\.js$/;
/**
 * One segment of a bare module id as Magento writes them (`Magento_Ui/js/core/app`, `mage/url`,
 * `jquery/jquery-storageapi`, `../x`). Narrower than RequireJS: no whitespace, `\`, `%`, `#`,
 * non-ASCII or empty segments, which RequireJS would append to its baseUrl (same origin when that
 * is absolute) but which no real page writes and a relative baseUrl would turn into a URL.
 */
const BARE_SEGMENT = /^[A-Za-z0-9_$.~@+-]+$/;

/**
 * A dependency name as RequireJS reads it: `plugin!resource` splits at `!` (require.js
 * splitPrefix); the plugin is a module like any other, and the resource is the plugin's to
 * interpret, so each part is read (an empty resource, `domReady!`, reads nothing). Each part is a
 * URL when require.js's own test says so, a module id when it is a bare id, else unreadable.
 * The name is the string JSON.parse gave (escapes decoded), before any trimming: RequireJS tests
 * it as it is, and the URL parser later strips what surrounds a URL.
 */
export function moduleIdReadings(name: string): ModuleIdReading[] {
  // An empty name loads nothing: the layout skips a falsy `component`, and RequireJS gives an empty
  // dependency an internal name of its own.
  if (name === '') return [];
  const parts = name.split('!');
  const readings: ModuleIdReading[] = [];
  parts.forEach((part, i) => {
    if (part === '') {
      if (i === 0) readings.push({ as: 'unreadable' });
      return;
    }
    if (REQUIREJS_PATH.test(part)) readings.push({ as: 'url', address: part });
    else if (part.split('/').every((segment) => BARE_SEGMENT.test(segment))) readings.push({ as: 'module' });
    else readings.push({ as: 'unreadable' });
  });
  return readings;
}

/**
 * A uiElement template that only reads properties: `${ $.a.b }` pieces between literal text. It is
 * rendered again while the result holds `${`, so the pieces must not be able to assemble a new one
 * from the values they read: no two side by side, no `$` just before one, no `{` just after one.
 * The literal text goes inside a template literal as written, so it may hold no backtick or `\`.
 */
const PROPERTY_PATH = /^[ \t]*\$(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*[ \t]*$/;

export function isPropertyPathTemplate(value: string): boolean {
  let from = 0;
  let lastEnd = -1;
  for (;;) {
    const open = value.indexOf('${', from);
    const literal = value.slice(from, open < 0 ? value.length : open);
    if (literal.includes('`') || literal.includes('\\')) return false;
    if (open < 0) return true;
    if (open === lastEnd || (open > 0 && value[open - 1] === '$')) return false;
    const close = value.indexOf('}', open + 2);
    if (close < 0 || !PROPERTY_PATH.test(value.slice(open + 2, close))) return false;
    if (value[close + 1] === '{') return false;
    from = lastEnd = close + 1;
  }
}

/** A config string Magento's code evaluates as JavaScript (beyond a property path). */
export function isEvaluatedString(value: string): boolean {
  if (value.includes('<%')) return true;
  return value.includes('${') && !isPropertyPathTemplate(value);
}

/** What one Magento init document asks for, in document order. */
export interface MagentoInitReading {
  /** Why it is not shaped as Magento reads it; the rest is then empty. */
  readonly shapeProblem?: string;
  /** Every dependency name it makes RequireJS load (component names, mixins, uiComponent `component`s); non-string mixins as JSON. */
  readonly dependencies: readonly { readonly name: string; readonly readable: boolean }[];
  /** Config strings and keys that Magento evaluates as code. */
  readonly evaluated: readonly string[];
}

/** Reads parsed JSON as a block (`selectors`) or as a `data-mage-init` value (`components`). */
export function readMagentoInit(json: unknown, level: 'selectors' | 'components'): MagentoInitReading {
  const dependencies: { name: string; readable: boolean }[] = [];
  const evaluated: string[] = [];
  const shapeless = (shapeProblem: string): MagentoInitReading => ({ shapeProblem, dependencies: [], evaluated: [] });
  if (!isRecord(json)) return shapeless(level === 'selectors' ? 'not an object of selectors' : 'not an object of components');
  const componentMaps: Record<string, unknown>[] = [];
  if (level === 'components') componentMaps.push(json);
  else {
    for (const [selector, components] of Object.entries(json)) {
      if (!isRecord(components)) return shapeless(`selector ${JSON.stringify(selector)} does not map to an object of components`);
      componentMaps.push(components);
    }
  }
  for (const components of componentMaps) {
    for (const [component, config] of Object.entries(components)) {
      dependencies.push({ name: component, readable: true });
      if (isRecord(config) && Object.hasOwn(config, 'mixins')) dependencies.push(...mixinNames(config['mixins']));
      readConfig(config, dependencies, evaluated);
    }
  }
  return { dependencies, evaluated };
}

/** main.js `require(obj.mixins, …)`, after scripts.js `[].concat(obj.mixins)`: a name or a list of names. */
function mixinNames(mixins: unknown): { name: string; readable: boolean }[] {
  const list = Array.isArray(mixins) ? mixins : [mixins];
  return list.map((m) => (typeof m === 'string' ? { name: m, readable: true } : { name: JSON.stringify(m) ?? String(m), readable: false }));
}

/** Every `component` string and every evaluated string and key of a config, at any depth; iterative. */
function readConfig(config: unknown, dependencies: { name: string; readable: boolean }[], evaluated: string[]): void {
  const stack: unknown[] = [config];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (isEvaluatedString(value)) evaluated.push(value);
    } else if (value instanceof ComponentName) {
      dependencies.push({ name: value.name, readable: true });
    } else if (value instanceof EvaluatedKey) {
      evaluated.push(value.key);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    } else if (isRecord(value)) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, inner] = entries[i]!;
        stack.push(inner);
        if (key === 'component' && typeof inner === 'string') stack.push(new ComponentName(inner));
        if (isEvaluatedString(key)) stack.push(new EvaluatedKey(key));
      }
    }
  }
}

/** Markers on readConfig's stack, so that findings come out in document order. */
class ComponentName {
  constructor(readonly name: string) {}
}
class EvaluatedKey {
  constructor(readonly key: string) {}
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Report = (place: { kind: FindingKind; list: AllowKind; raw: string }, judge: (base: string) => Judgement) => void;

/** The findings of one reading, through `report` (at the block's start tag, or at the attribute). */
function reportFindings(scan: Scan, reading: MagentoInitReading, raw: string, report: Report): void {
  if (reading.shapeProblem !== undefined) {
    report({ kind: 'data-block', list: 'script', raw }, () => ({ allowed: false, reason: 'invalid-data-block' }));
    return;
  }
  for (const { name, readable } of reading.dependencies) {
    const parts = readable ? moduleIdReadings(name) : [{ as: 'unreadable' } as const];
    for (const part of parts) {
      if (part.as === 'module') continue;
      if (part.as === 'unreadable') {
        report({ kind: 'component', list: 'script', raw: name }, () => ({ allowed: false, reason: 'unreadable-component' }));
        continue;
      }
      const address = part.address;
      report({ kind: 'component', list: 'script', raw: name }, (base) =>
        judgeUrl(scan.policy, scan.mode, 'script', resolveUrl(address, base), address, 'foreign-script'));
    }
  }
  for (const text of reading.evaluated) {
    report({ kind: 'config-code', list: 'inline', raw: text }, () => judgeInline(scan.policy, scan.mode, text, 'inline-code'));
  }
}

/**
 * A `text/x-magento-init` block (HTML, SVG or MathML: Magento's selector matches all three).
 * scripts.js reads its textContent, every descendant's text, while the parser gives an SVG or
 * MathML script element children too: a block with an element inside is refused rather than read
 * two ways.
 */
export function magentoInitBlock(visit: Visit, scan: Scan, inert: readonly Edit[]): void {
  const report: Report = (place, judge) => scan.reportElement(visit, place, judge, inert);
  const text = childText(visit.element);
  if (visit.element.namespaceURI !== NS_HTML && visit.element.childNodes.some(isElement)) {
    report({ kind: 'data-block', list: 'script', raw: text }, () => ({ allowed: false, reason: 'invalid-data-block' }));
    return;
  }
  if (text.trim() === '') return;
  const json = parseJson(text);
  if (json === undefined) {
    report({ kind: 'data-block', list: 'script', raw: text }, () => ({ allowed: false, reason: 'invalid-data-block' }));
    return;
  }
  reportFindings(scan, readMagentoInit(json, 'selectors'), text, report);
  if (!mayHoldUrl(text)) return;
  // The config is data the shop's code may navigate to or load: the carried-URL rules, as for JSON blocks.
  for (const { key, value } of keyedJsonStrings(json)) {
    for (const url of urlReadings(value)) {
      reportCarriedReading(scan, url, key, (place, judge) => scan.reportElement(visit, place, judge, inert));
    }
  }
}

/**
 * A MathML `<script>` is no script to the browser, but Magento's selector, a type selector with no
 * namespace, matches it too; its text children are text (foreign content). Only Magento's kind is
 * judged there: the other types do nothing in MathML.
 */
export const mathmlMagentoInitBlock: Finder = (visit, scan) => {
  if (scriptKind(visit.element) === 'magento-init') magentoInitBlock(visit, scan, makeScriptInert(scan.source, visit.element));
};

/** `data-mage-init` on any element, in any namespace (main.js selects `[data-mage-init]`). */
export const mageInitAttribute: Finder = (visit, scan) => {
  const attr = attribute(visit.element, MAGE_INIT_ATTRIBUTE);
  if (attr) checkMageInitAttribute(visit, scan, attr);
};

function checkMageInitAttribute(visit: Visit, scan: Scan, attr: Attribute): void {
  let edits: Edit[] | undefined;
  const report: Report = (place, judge) => {
    edits ??= removeAttribute(scan.source, visit.element, attr);
    scan.reportAttribute(visit, attr, place, judge, edits);
  };
  const json = parseJson(attr.value);
  if (json === undefined) {
    report({ kind: 'data-block', list: 'script', raw: attr.value }, () => ({ allowed: false, reason: 'invalid-data-block' }));
    return;
  }
  reportFindings(scan, readMagentoInit(json, 'components'), attr.value, report);
}
