/**
 * Scripts (docs/vectors.md S-01..S-03, S-06, S-07, S-09, S-12): external scripts of every
 * executable type, inline script text by CSP hash, import maps (every address), speculation
 * rules (every listed URL), and data blocks checked to be data (Magento's, S-18, by
 * finders/magento-init.ts).
 */
import { judgeInline, judgeUrl, resolveUrl, type Judgement } from '../judge.js';
import { makeScriptInert, removeAttribute } from '../edits.js';
import type { Finder, Scan, Visit } from '../scan.js';
import { scriptKind, type ScriptKind } from '../script-type.js';
import type { CodeGoal } from '../../policy/inline-template.js';
import { attribute, childText, NS_SVG, xlinkHref, type Attribute } from '../tree.js';
import { magentoInitBlock } from './magento-init.js';

export const script: Finder = (visit, scan) => {
  const kind = scriptKind(visit.element);
  if (kind === 'data') return;
  const inert = makeScriptInert(scan.source, visit.element);
  if (kind === 'json') {
    checkDataBlock(visit, scan, inert);
    return;
  }
  // Magento's loader data (S-18): judged by what it asks RequireJS to load, not by hash. A src
  // on it is still judged below, as on any script of a type payguard does not run.
  if (kind === 'magento-init') magentoInitBlock(visit, scan, inert);
  const sources = sourceAttributes(visit);
  if (sources.length > 0) {
    // HTML §4.12.1.1: with a src attribute the inline text never runs (even when src is empty).
    // The source goes too: Chromium still fetches an SVG <script href> whose type is unknown
    // (seen by the e2e suite), and a fetch alone is a beacon to the attacker's host.
    const neutralised = [...inert, ...sources.flatMap((src) => removeAttribute(scan.source, visit.element, src))];
    for (const src of sources) {
      const raw = src.value;
      scan.reportAttribute(visit, src, { kind: 'script', list: 'script', raw }, (base) => judgeScriptUrl(scan, raw, base), neutralised);
    }
    return;
  }
  if (kind === 'magento-init') return;
  const text = childText(visit.element);
  if (text.trim() === '') return;
  scan.reportElement(visit, { kind: 'inline-script', list: 'inline' }, () => judgeInline(scan.policy, scan.mode, text, 'inline-code', codeGoal(kind)), inert);
  if (kind === 'importmap') checkImportMap(visit, scan, text, inert);
  if (kind === 'speculationrules') checkSpeculationRules(visit, scan, text, inert);
};

/** `src` for HTML; `href` and `xlink:href` for SVG (SVG 2 gives href precedence; both are checked). */
function sourceAttributes(visit: Visit): Attribute[] {
  const found: Attribute[] = [];
  if (visit.element.namespaceURI === NS_SVG) {
    const href = attribute(visit.element, 'href');
    const xlink = xlinkHref(visit.element);
    if (href) found.push(href);
    if (xlink) found.push(xlink);
  } else {
    const src = attribute(visit.element, 'src');
    if (src) found.push(src);
  }
  return found;
}

function judgeScriptUrl(scan: Scan, raw: string, base: string): Judgement {
  return judgeUrl(scan.policy, scan.mode, 'script', resolveUrl(raw, base), raw, 'foreign-script');
}

function checkDataBlock(visit: Visit, scan: Scan, inert: ReturnType<typeof makeScriptInert>): void {
  const text = childText(visit.element);
  if (text.trim() === '' || parseJson(text) !== undefined) return;
  scan.reportElement(visit, { kind: 'data-block', list: 'script', raw: text }, () => ({ allowed: false, reason: 'invalid-data-block' }), inert);
}

/**
 * Import maps (S-09) remap bare and URL-like specifiers of module scripts, allowlisted ones
 * included. Every address in `imports` and `scopes`, and every `integrity` key, must be an allowed
 * script URL; a map that is not valid JSON is refused as well (Chromium ignores it, but markup
 * that fails to parse has no business on a protected page).
 */
function checkImportMap(visit: Visit, scan: Scan, text: string, inert: ReturnType<typeof makeScriptInert>): void {
  const map = parseJson(text);
  const addresses: string[] = [];
  if (isRecord(map)) {
    if (isRecord(map['imports'])) addresses.push(...stringValues(map['imports']));
    if (isRecord(map['scopes'])) for (const scope of Object.values(map['scopes'])) if (isRecord(scope)) addresses.push(...stringValues(scope));
    if (isRecord(map['integrity'])) addresses.push(...Object.keys(map['integrity']));
  } else {
    scan.reportElement(visit, { kind: 'import-map', list: 'script', raw: text }, () => ({ allowed: false, reason: 'import-map' }), inert);
    return;
  }
  for (const address of addresses) {
    scan.reportElement(visit, { kind: 'import-map', list: 'script', raw: address }, (base) => {
      const judgement = judgeUrl(scan.policy, scan.mode, 'script', resolveUrl(address, base), address, 'import-map');
      const ownReason = judgement.reason === 'javascript-url' || judgement.reason === 'unlisted-first-party-script';
      return judgement.allowed || ownReason ? judgement : { ...judgement, reason: 'import-map' };
    }, inert);
  }
}

/** Speculation rules (S-12): every URL of a list rule, resolved against the base (or `relative_to`, same base here). */
function checkSpeculationRules(visit: Visit, scan: Scan, text: string, inert: ReturnType<typeof makeScriptInert>): void {
  const rules = parseJson(text);
  const urls: string[] = [];
  if (!isRecord(rules)) {
    scan.reportElement(visit, { kind: 'speculation-rules', list: 'navigate', raw: text }, () => ({ allowed: false, reason: 'speculation-rules' }), inert);
    return;
  }
  for (const action of ['prefetch', 'prerender', 'prefetch_with_subresources']) {
    const list = rules[action];
    if (!Array.isArray(list)) continue;
    for (const rule of list) if (isRecord(rule) && Array.isArray(rule['urls'])) for (const u of rule['urls']) if (typeof u === 'string') urls.push(u);
  }
  for (const url of urls) {
    scan.reportElement(visit, { kind: 'speculation-rules', list: 'navigate', raw: url }, (base) => {
      const judgement = judgeUrl(scan.policy, scan.mode, 'navigate', resolveUrl(url, base), url, 'speculation-rules');
      return judgement;
    }, inert);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringValues(record: Record<string, unknown>): string[] {
  return Object.values(record).filter((v): v is string => typeof v === 'string');
}

/** How the browser compiles the script's text; import maps and speculation rules are JSON, so no template applies. */
function codeGoal(kind: ScriptKind): CodeGoal | undefined {
  if (kind === 'classic') return 'script';
  if (kind === 'module') return 'module';
  return undefined;
}
