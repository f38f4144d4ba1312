/**
 * The corpus: every `NAME.html` under test/corpus/ with its `NAME.json` expectations.
 * A case is validated when it is loaded, so a typo in an expectation fails loudly instead of
 * silently asserting nothing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, FindingKind } from '../../src/verify/types.js';
import { REFUSAL_REASONS, VIOLATION_REASONS, type RefusalReason, type ViolationReason } from '../../src/reasons.js';

export const CORPUS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Written in a case file as `$SITE`: the test server's origin (`http://127.0.0.1:PORT`). */
export const SITE_TOKEN = '$SITE';

/** A description of a finding; every field given must match (strings after `$SITE` is replaced). */
export interface FindingPattern {
  readonly kind?: FindingKind;
  readonly reason?: ViolationReason;
  readonly origin?: string;
  readonly url?: string;
  readonly element?: string;
  readonly attribute?: string;
  readonly context?: string;
}

export type Expectation =
  | { readonly clean: true }
  | {
      readonly violations: readonly FindingPattern[];
      readonly mayAlsoFind: readonly FindingPattern[];
      /**
       * A refusal that is an equally correct answer: only for pages whose point is an input
       * payguard may refuse outright (a byte the encoding declares invalid, duplicate headers):
       * a refusal blocks the page as surely as a violation.
       */
      readonly orRefused?: RefusalReason;
    }
  | { readonly refused: RefusalReason };

/** What the oracle should additionally do and prove in Chromium for this page. */
export interface OracleInstructions {
  /** Submit a form: click this selector, or focus it and press Enter (implicit submission). */
  readonly submit?: { readonly click: string } | { readonly enter: string };
  /** The URL (origin + path) the submission must reach in Chromium: proves the trick works. */
  readonly submitsTo?: string;
  /** URLs (fragment ignored) Chromium must request: proves the element is live in Chromium. */
  readonly loads?: readonly string[];
  /**
   * Groups of URLs of which Chromium must request at least one each: where which one it requests
   * depends on the parser's timing (an object before a later <base> is fetched through the page
   * URL or through the base), a claim must hold for every timing.
   */
  readonly loadsOneOf?: readonly (readonly string[])[];
  /** Source texts of inline code Chromium must compile: proves the code is live. */
  readonly runs?: readonly string[];
  /** Source texts of inline code Chromium must NOT compile: proves the markup is dead. */
  readonly doesNotRun?: readonly string[];
  /**
   * URLs of elements the page's own code creates (document.write): invisible in the markup by
   * nature, so the verifier is not expected to see them; the code that makes them is judged.
   */
  readonly generatedByCode?: readonly string[];
  /** The encoding Chromium must report in document.characterSet. */
  readonly characterSet?: string;
}

export interface CorpusCase {
  /** Path below test/corpus without extension, e.g. `forms/f05-formaction-button`. */
  readonly name: string;
  readonly description: string;
  readonly vectors: readonly string[];
  /** The public path the page is served at. */
  readonly path: string;
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly bytes: Uint8Array;
  readonly expect: Expectation;
  readonly oracle: OracleInstructions;
}

const DEFAULT_HEADERS: readonly (readonly [string, string])[] = [['content-type', 'text/html; charset=utf-8']];
const VECTOR_ID = /^[FSNPEUMHX]-\d{2}$/;
const CASE_KEYS = new Set(['description', 'vectors', 'path', 'status', 'headers', 'expect', 'oracle']);
const PATTERN_KEYS = new Set(['kind', 'reason', 'origin', 'url', 'element', 'attribute', 'context']);

export function loadCorpus(dir: string = CORPUS_DIR): CorpusCase[] {
  const cases = htmlFiles(dir).map((file) => loadCase(dir, file));
  const paths = new Map<string, string>();
  for (const c of cases) {
    const other = paths.get(c.path);
    if (other) throw new Error(`corpus cases ${other} and ${c.name} are both served at ${c.path}`);
    paths.set(c.path, c.name);
  }
  return cases;
}

function htmlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...htmlFiles(full));
    else if (entry.endsWith('.html')) out.push(full);
  }
  return out;
}

function loadCase(root: string, htmlFile: string): CorpusCase {
  const name = relative(root, htmlFile).replace(/\.html$/, '').split('\\').join('/');
  const jsonFile = htmlFile.replace(/\.html$/, '.json');
  const fail = (problem: string): never => {
    throw new Error(`corpus case ${name} (${jsonFile}): ${problem}`);
  };
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    return fail(`cannot read the expectations: ${(err as Error).message}`);
  }
  for (const key of Object.keys(spec)) if (!CASE_KEYS.has(key)) fail(`unknown key "${key}"`);
  if (typeof spec.description !== 'string' || spec.description.trim() === '') fail('"description" is required');
  const vectors = spec.vectors;
  if (!Array.isArray(vectors) || vectors.length === 0 || !vectors.every((v) => typeof v === 'string' && VECTOR_ID.test(v))) {
    fail('"vectors" must list section ids such as "F-07"');
  }
  const base = name.split('/').pop() ?? name;
  const path = spec.path ?? `/checkout/${base}`;
  if (typeof path !== 'string' || !path.startsWith('/')) fail('"path" must start with "/"');
  const status = spec.status ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status)) fail('"status" must be an integer');
  const headers = spec.headers ?? DEFAULT_HEADERS;
  if (!Array.isArray(headers) || !headers.every((h) => Array.isArray(h) && h.length === 2 && h.every((s) => typeof s === 'string'))) {
    fail('"headers" must be a list of [name, value] pairs');
  }
  return {
    name,
    description: spec.description as string,
    vectors: vectors as string[],
    path: path as string,
    status: status as number,
    headers: (headers as [string, string][]).map(([n, v]) => [n.toLowerCase(), v] as const),
    bytes: new Uint8Array(readFileSync(htmlFile)),
    expect: parseExpectation(spec.expect, fail),
    oracle: (spec.oracle ?? {}) as OracleInstructions,
  };
}

function parseExpectation(value: unknown, fail: (problem: string) => never): Expectation {
  if (!value || typeof value !== 'object') return fail('"expect" is required');
  const e = value as Record<string, unknown>;
  if (e.clean === true && Object.keys(e).length === 1) return { clean: true };
  if (typeof e.refused === 'string') {
    if (!(e.refused in REFUSAL_REASONS)) fail(`"expect.refused": unknown refusal reason "${e.refused}"`);
    return { refused: e.refused as RefusalReason };
  }
  if (Array.isArray(e.violations)) {
    const mayAlsoFind = e.mayAlsoFind ?? [];
    if (!Array.isArray(mayAlsoFind)) fail('"expect.mayAlsoFind" must be a list');
    if (e.orRefused !== undefined && !(typeof e.orRefused === 'string' && e.orRefused in REFUSAL_REASONS)) {
      fail(`"expect.orRefused": unknown refusal reason "${String(e.orRefused)}"`);
    }
    return {
      violations: e.violations.map((p) => parsePattern(p, fail)),
      mayAlsoFind: (mayAlsoFind as unknown[]).map((p) => parsePattern(p, fail)),
      ...(e.orRefused ? { orRefused: e.orRefused as RefusalReason } : {}),
    };
  }
  return fail('"expect" must be {"clean": true}, {"violations": [...]} or {"refused": "<reason>"}');
}

function parsePattern(value: unknown, fail: (problem: string) => never): FindingPattern {
  if (!value || typeof value !== 'object') return fail('a finding pattern must be an object');
  const keys = Object.keys(value);
  if (keys.length === 0) fail('a finding pattern must name at least one field');
  for (const key of keys) if (!PATTERN_KEYS.has(key)) fail(`unknown finding pattern field "${key}"`);
  const reason = (value as FindingPattern).reason;
  if (reason !== undefined && !(reason in VIOLATION_REASONS)) fail(`unknown violation reason "${reason}"`);
  return value as FindingPattern;
}

/** Does `finding` match every field `pattern` names? `$SITE` stands for the test server's origin. */
export function matchesPattern(finding: Finding, pattern: FindingPattern, site: string): boolean {
  for (const [key, expected] of Object.entries(pattern) as [keyof FindingPattern, string][]) {
    const actual = finding[key];
    if (actual !== expected.split(SITE_TOKEN).join(site)) return false;
  }
  return true;
}

/** A one-line description of a finding for failure messages. */
export function describeFinding(f: Finding): string {
  const where = `${f.line}:${f.col}`;
  const verdict = f.allowed ? 'allowed' : `VIOLATION ${f.reason ?? ''}`;
  return `${f.kind} <${f.element}${f.attribute ? ` ${f.attribute}` : ''}> ${where} ${f.url ?? f.raw ?? ''} ${f.context ? `[${f.context}] ` : ''}${verdict}`;
}
