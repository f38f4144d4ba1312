/**
 * What a <script> is (HTML §4.12.1.1 "prepare the script element", steps 8-11), over-approximated:
 * the browser runs a JavaScript MIME type, an empty type, "module"; "importmap" and
 * "speculationrules" are special; everything else is a data block. payguard treats every type it
 * does not know to be data as code (docs/vectors.md S-02).
 *
 * `text/x-magento-init` is a data block to the browser, and data to Magento too: its loader
 * (lib/web/mage/apply/scripts.js) JSON.parses the text and never evaluates it. What it asks
 * RequireJS to load is judged by finders/magento-init.ts (S-18), so the block is not code.
 */
import { INERT_SCRIPT_TYPE } from './edits.js';
import { attribute, type Element } from './tree.js';

export type ScriptKind = 'classic' | 'module' | 'importmap' | 'speculationrules' | 'json' | 'magento-init' | 'data';

/** Magento's loader data (docs/vectors.md S-18). */
export const MAGENTO_INIT_TYPE = 'text/x-magento-init';

/** Types whose content is data the page reads, never executed or fetched by the browser. */
const JSON_TYPES: ReadonlySet<string> = new Set(['application/ld+json', 'application/json']);
const TEMPLATE_TYPES: ReadonlySet<string> = new Set([
  'text/template', 'text/x-template', 'text/html', 'text/plain', 'text/x-magento-template',
  'text/x-handlebars-template', 'text/x-jquery-tmpl', 'text/ng-template', INERT_SCRIPT_TYPE,
]);

export function scriptKind(script: Element): ScriptKind {
  const type = attribute(script, 'type');
  const language = attribute(script, 'language');
  let typeString: string;
  if (type !== undefined) typeString = type.value;
  else if (language !== undefined && language.value !== '') typeString = `text/${language.value}`;
  else typeString = '';
  // Parameters are dropped: `text/javascript; charset=utf-8` is over-approximated as code.
  const essence = typeString.split(';')[0]!.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase();
  if (essence === 'module') return 'module';
  if (essence === 'importmap') return 'importmap';
  if (essence === 'speculationrules') return 'speculationrules';
  if (JSON_TYPES.has(essence)) return 'json';
  // Magento selects `script[type="text/x-magento-init"]`: the whole value, ASCII case-insensitive
  // (`type` is one of HTML's case-insensitive attributes for selectors, HTML §4.16.2). A spelling it
  // does not select (a parameter, spaces, `language=`) is a data block nobody reads; judging it as
  // Magento would read it over-approximates.
  if (essence === MAGENTO_INIT_TYPE) return 'magento-init';
  if (TEMPLATE_TYPES.has(essence)) return 'data';
  return 'classic';
}
