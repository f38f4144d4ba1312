/**
 * The learning record (issue 18 item 4): what `payguard serve --learn FILE` saw on report routes
 * of live traffic, for `payguard policy draft FILE` to turn into a policy. It is the inventory's
 * raw material gathered from real shoppers instead of a crawl, so that code a page only gets at
 * run time (a payment library the vendor bundle injects) is learned from the browser's CSP reports.
 *
 * What it holds, and what it never holds:
 * - loads: the URL (origin and path, never a query) and list of everything the pages name;
 * - reported: what browsers reported under the report-only CSP, with how many reports and from how
 *   many clients (anyone can post a report, so these are marked for review in the draft);
 * - inline: hashes, and templates whose fixed text is what every rendering shared: a literal that
 *   varied is a slot, and its values are not written. Never a whole page, script text, request
 *   body, cookie or query string.
 */
import { readFile } from 'node:fs/promises';
import { LearningRecordError } from '../errors.js';
import { ALLOW_KINDS, type AllowKind } from '../policy/model.js';
import type { SlotSpec } from '../policy/inline-template.js';
import type { InventoryItem } from './inventory.js';
import type { LearnedInline } from './templates.js';

export const RECORD_FORMAT = 1;

/** A load the pages name, as the inventory lists it. */
export interface RecordedLoad {
  readonly list: AllowKind;
  readonly kinds: readonly string[];
  readonly address: string;
  readonly origin: string | undefined;
  readonly pages: readonly string[];
}

/** A load only the browser saw: a CSP report (report-only on report routes) named it. */
export interface ReportedLoad {
  readonly list: AllowKind;
  /** Origin and path of the blocked URL. */
  readonly address: string;
  readonly origin: string;
  readonly directive: string;
  readonly reports: number;
  /** Distinct client addresses (IPv6 by /64) that reported it, counted up to a cap. */
  readonly clients: number;
  readonly pages: readonly string[];
}

export interface LearningRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly site: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Documents learned from. */
  readonly documents: number;
  readonly pages: readonly string[];
  readonly loads: readonly RecordedLoad[];
  readonly reported: readonly ReportedLoad[];
  readonly inline: readonly LearnedInline[];
  /** Pages whose code called eval or new Function (browsers reported `eval` under script-src). */
  readonly evalPages: readonly string[];
  /** What was seen but not learned, by why (a cap reached, a card-like number, a streamed page). */
  readonly skipped: Readonly<Record<string, number>>;
}

export async function readLearningRecord(file: string): Promise<LearningRecord> {
  const record = await readLearningRecordIfAny(file);
  if (!record) throw new LearningRecordError(file, undefined, 'cannot read: no such file');
  return record;
}

/** The record in `file`, or undefined when there is none yet (`serve --learn` starts a new one). */
export async function readLearningRecordIfAny(file: string): Promise<LearningRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LearningRecordError(file, undefined, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new LearningRecordError(file, undefined, `not JSON: ${(err as Error).message}`, { cause: err });
  }
  return checkRecord(file, data);
}

/** The shape checked field by field: the record may come from another payguard version, or be edited. */
export function checkRecord(file: string, data: unknown): LearningRecord {
  const fail = (field: string | undefined, problem: string): never => {
    throw new LearningRecordError(file, field, problem);
  };
  if (!isObject(data)) return fail(undefined, 'not a learning record (expected a JSON object)');
  if (data.format !== RECORD_FORMAT) fail('format', `expected ${RECORD_FORMAT}, got ${JSON.stringify(data.format)}: written by another payguard version`);
  const site = str(data.site, 'site', fail);
  if (!URL.canParse(site) || new URL(site).origin !== site) fail('site', `not an origin: "${site}"`);
  const list = (value: unknown, field: string): AllowKind => {
    if (typeof value !== 'string' || !(ALLOW_KINDS as readonly string[]).includes(value)) return fail(field, `expected one of ${ALLOW_KINDS.join(', ')}`);
    return value as AllowKind;
  };
  const loads = arr(data.loads, 'loads', fail).map((l, i): RecordedLoad => {
    const at = `loads[${i}]`;
    if (!isObject(l)) return fail(at, 'expected an object');
    return {
      list: list(l.list, `${at}.list`),
      kinds: strings(l.kinds, `${at}.kinds`, fail),
      address: str(l.address, `${at}.address`, fail),
      origin: l.origin === undefined ? undefined : str(l.origin, `${at}.origin`, fail),
      pages: strings(l.pages, `${at}.pages`, fail),
    };
  });
  const reported = arr(data.reported, 'reported', fail).map((r, i): ReportedLoad => {
    const at = `reported[${i}]`;
    if (!isObject(r)) return fail(at, 'expected an object');
    return {
      list: list(r.list, `${at}.list`),
      address: str(r.address, `${at}.address`, fail),
      origin: str(r.origin, `${at}.origin`, fail),
      directive: str(r.directive, `${at}.directive`, fail),
      reports: count(r.reports, `${at}.reports`, fail),
      clients: count(r.clients, `${at}.clients`, fail),
      pages: strings(r.pages, `${at}.pages`, fail),
    };
  });
  const inline = arr(data.inline, 'inline', fail).map((e, i): LearnedInline => {
    const at = `inline[${i}]`;
    if (!isObject(e)) return fail(at, 'expected an object');
    const pages = strings(e.pages, `${at}.pages`, fail);
    if (e.kind === 'hash') return { kind: 'hash', hash: str(e.hash, `${at}.hash`, fail), pages };
    if (e.kind !== 'template') return fail(`${at}.kind`, 'expected "hash" or "template"');
    // The slots' own rules are the policy parser's: `payguard policy draft` parses what it writes.
    if (!isObject(e.slots)) return fail(`${at}.slots`, 'expected an object');
    return { kind: 'template', template: str(e.template, `${at}.template`, fail), slots: e.slots as Record<string, SlotSpec>, renderings: count(e.renderings, `${at}.renderings`, fail), pages };
  });
  const skipped: Record<string, number> = {};
  if (data.skipped !== undefined) {
    if (!isObject(data.skipped)) fail('skipped', 'expected an object');
    for (const [why, n] of Object.entries(data.skipped as object)) skipped[why] = count(n, `skipped.${why}`, fail);
  }
  return {
    format: RECORD_FORMAT,
    site,
    firstSeen: str(data.firstSeen, 'firstSeen', fail),
    lastSeen: str(data.lastSeen, 'lastSeen', fail),
    documents: count(data.documents, 'documents', fail),
    pages: strings(data.pages, 'pages', fail),
    loads,
    reported,
    inline,
    evalPages: data.evalPages === undefined ? [] : strings(data.evalPages, 'evalPages', fail),
    skipped,
  };
}

/** The record as the inventory's items, for draftPolicyYaml (a reported load carries its report counts). */
export function recordItems(record: LearningRecord): InventoryItem[] {
  const items: InventoryItem[] = record.loads.map((l) => ({ ...l, hashes: undefined, sri: undefined, self: l.origin === record.site }));
  const named = new Set(items.map((i) => `${i.list} ${i.address}`));
  for (const r of record.reported) {
    if (named.has(`${r.list} ${r.address}`)) continue;
    items.push({ list: r.list, kinds: [`csp-report:${r.directive}`], address: r.address, origin: r.origin, hashes: undefined, sri: undefined, pages: r.pages, self: r.origin === record.site, reports: { count: r.reports, clients: r.clients } });
  }
  return items;
}

type Fail = (field: string | undefined, problem: string) => never;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, field: string, fail: Fail): string {
  return typeof value === 'string' ? value : fail(field, 'expected a string');
}

function count(value: unknown, field: string, fail: Fail): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(field, 'expected a whole number ≥ 0');
}

function arr(value: unknown, field: string, fail: Fail): unknown[] {
  return Array.isArray(value) ? value : fail(field, 'expected a list');
}

function strings(value: unknown, field: string, fail: Fail): string[] {
  return arr(value, field, fail).map((v, i) => str(v, `${field}[${i}]`, fail));
}
