/**
 * What the JSON Schema cannot say, checked on data that already has the schema's shape, and the
 * conversion to the in-memory `Policy`: origins and URLs go through the WHATWG URL parser (the
 * browser is the judge of what a string means), hashes are decoded and measured.
 */
import type { AllowEntry, AllowKind, CodeRemoval, CspMode, FirstPartyBase, FirstPartyFile, FirstPartyManifest, GeneratedScript, Policy, Route, RouteMode } from './model.js';
import { RESERVED_PREFIX } from '../reserved-paths.js';
import { firstPartyKey } from './first-party.js';
import { ALLOW_KINDS } from './model.js';
import type { FieldPath, SourceProblem } from './policy-text.js';
import { compileTemplate, TemplateProblem, type SlotSpec } from './inline-template.js';

/** The shape the schema guarantees (see schema.ts). */
export interface PolicyData {
  schema: 1;
  serial: number;
  site: string;
  charset?: string;
  clearSiteData?: boolean;
  firstParty?: FirstPartyData;
  routes: RouteData[];
  allow: Partial<Record<AllowKind, EntryData[]>>;
}

interface RouteData {
  path: string;
  mode: RouteMode;
  csp?: CspMode;
  strictDynamic?: boolean;
  scriptEval?: boolean;
  codeRemoval?: CodeRemoval;
  headers?: Record<string, string>;
}

interface FirstPartyData {
  base?: string[];
  scripts: Record<string, string>;
  data?: Record<string, string>;
  generated?: { path: string; why: string }[];
}

interface EntryData {
  origin?: string;
  url?: string;
  integrity?: string;
  hash?: string;
  template?: string;
  slots?: Record<string, SlotSpec>;
  why: string;
}

export const DEFAULT_CHARSET = 'windows-1252';

/** SHA-2 digest sizes of the algorithms SRI (W3C SRI §3.2) and CSP hash sources (CSP3 §2.3.1) accept. */
const DIGEST_BYTES: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * The examples write `sha384-...` for a hash not yet computed. We accept that exact
 * placeholder so a draft parses; it can never match a real digest (it only ever blocks), and
 * `payguard sign` refuses a policy that still contains one (see lint.ts).
 */
export const HASH_PLACEHOLDER = '...';

export function buildPolicy(data: PolicyData, problems: SourceProblem[]): Policy {
  const site = bareOrigin(data.site, ['site'], problems);
  const allow = {} as Record<AllowKind, readonly AllowEntry[]>;
  for (const kind of ALLOW_KINDS) {
    allow[kind] = (data.allow[kind] ?? []).map((entry, i) => buildEntry(entry, ['allow', kind, i], problems));
  }
  return {
    schema: 1,
    serial: data.serial,
    site: site ?? data.site,
    routes: data.routes.map((route, i) => buildRoute(route, ['routes', i], problems)),
    allow,
    defaultCharset: data.charset === undefined ? DEFAULT_CHARSET : encodingName(data.charset, problems),
    ...(data.clearSiteData === undefined ? {} : { clearSiteData: data.clearSiteData }),
    ...(data.firstParty === undefined ? {} : { firstParty: buildFirstParty(data.firstParty, site ?? data.site, ['firstParty'], problems) }),
  };
}

function buildEntry(entry: EntryData, path: FieldPath, problems: SourceProblem[]): AllowEntry {
  const why = entry.why.trim();
  if (entry.hash !== undefined) {
    return { type: 'hash', hash: cspHashSource(entry.hash, [...path, 'hash'], problems), why };
  }
  if (entry.template !== undefined) return templateEntry(entry.template, entry.slots ?? {}, why, path, problems);
  const integrity = entry.integrity === undefined ? undefined : sriTokens(entry.integrity, [...path, 'integrity'], problems);
  const withIntegrity = integrity ? { integrity } : {};
  if (entry.origin !== undefined) {
    const origin = bareOrigin(entry.origin, [...path, 'origin'], problems) ?? entry.origin;
    return { type: 'origin', origin, why, ...withIntegrity };
  }
  const url = allowedUrl(entry.url ?? '', [...path, 'url'], problems);
  return { type: 'url', url: url ?? '', prefix: url?.endsWith('/') ?? false, why, ...withIntegrity };
}

/**
 * An inline template: its slots' constraints are consistent, and the template compiles against
 * them (JavaScript, every slot declared and used, no slot in a key's place).
 */
function templateEntry(template: string, slots: Record<string, SlotSpec>, why: string, path: FieldPath, problems: SourceProblem[]): AllowEntry {
  let consistent = true;
  for (const [name, spec] of Object.entries(slots)) {
    const problem = slotProblem(spec);
    if (problem) {
      problems.push({ path: [...path, 'slots', name], message: `slot ${name}: ${problem}` });
      consistent = false;
    }
  }
  if (consistent) {
    try {
      compileTemplate(template, slots);
    } catch (err) {
      if (!(err instanceof TemplateProblem)) throw err;
      problems.push({ path: [...path, 'template'], message: `template: ${err.message}` });
    }
  }
  return { type: 'template', template, slots, why };
}

/** What the schema cannot say about a slot: which fields fit its type, and ranges that hold something. */
function slotProblem(spec: SlotSpec): string | undefined {
  const fields = Object.keys(spec).filter((k) => k !== 'type');
  const fitting: Record<SlotSpec['type'], readonly string[]> = { string: ['charset', 'length'], number: ['min', 'max', 'integer'], boolean: [], null: [], json: ['maxLength'] };
  const misplaced = fields.filter((f) => !fitting[spec.type].includes(f));
  if (misplaced.length > 0) return `${misplaced.join(', ')} does not apply to a ${spec.type} slot`;
  if (spec.length && (spec.length[0] < 0 || spec.length[0] > spec.length[1])) return `length [${spec.length.join(', ')}] must be [min, max] with 0 <= min <= max`;
  if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) return `min ${spec.min} is above max ${spec.max}`;
  if (spec.maxLength !== undefined && spec.maxLength < 2) return 'maxLength must be at least 2 (the brackets of an empty array)';
  return undefined;
}

/** A bare http(s) origin, serialised as the URL parser does (`HTTPS://X:443` → `https://x`). */
function bareOrigin(text: string, path: FieldPath, problems: SourceProblem[]): string | undefined {
  const url = parseHttpUrl(text, path, problems);
  if (!url) return undefined;
  // `*` is a valid host code point to the URL parser, so `https://*.example` would parse and match nothing.
  if (url.hostname.includes('*')) {
    problems.push({ path, message: `"${text}": wildcards are not supported; list each origin` });
    return undefined;
  }
  if (url.href !== `${url.origin}/`) {
    problems.push({ path, message: `"${text}" is not a bare origin (no path, query, fragment or credentials); use a url entry for a path` });
    return undefined;
  }
  return url.origin;
}

/** An exact URL or (ending in `/`) a prefix, stored as the URL parser serialises it. */
function allowedUrl(text: string, path: FieldPath, problems: SourceProblem[]): string | undefined {
  const url = parseHttpUrl(text, path, problems);
  if (!url) return undefined;
  if (url.username || url.password) {
    problems.push({ path, message: `"${text}" contains credentials` });
    return undefined;
  }
  // Fragments never reach the server and matchAllow ignores them: an entry with one would match nothing.
  if (url.hash || text.includes('#')) {
    problems.push({ path, message: `"${text}" has a fragment, which never reaches the server; remove it` });
    return undefined;
  }
  if (url.href.endsWith('/') && url.search) {
    problems.push({ path, message: `"${text}": a prefix entry (ending in "/") cannot have a query` });
    return undefined;
  }
  return url.href;
}

function parseHttpUrl(text: string, path: FieldPath, problems: SourceProblem[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push({ path, message: `"${text}" is not an absolute URL the WHATWG URL parser accepts` });
    return undefined;
  }
  // Only network schemes can be allowed (matchAllow never matches javascript:, data:, blob:).
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push({ path, message: `"${text}": only http: and https: can be allowed` });
    return undefined;
  }
  return url;
}

/** SRI metadata as in the integrity attribute: space-separated `alg-base64` tokens (W3C SRI §3.5). */
function sriTokens(text: string, path: FieldPath, problems: SourceProblem[]): readonly string[] {
  const tokens = text.trim().split(/\s+/);
  for (const token of tokens) {
    const problem = hashProblem(token);
    if (problem) problems.push({ path, message: `integrity "${token}": ${problem}` });
  }
  return tokens;
}

/** A CSP hash source (CSP3 §2.3.1 hash-source), quotes optional, base64url folded to base64. */
function cspHashSource(text: string, path: FieldPath, problems: SourceProblem[]): string {
  const unquoted = /^'.*'$/s.test(text) ? text.slice(1, -1) : text;
  const dash = unquoted.indexOf('-');
  const algorithm = unquoted.slice(0, dash + 1).toLowerCase();
  const digest = unquoted.slice(dash + 1).replace(/-/g, '+').replace(/_/g, '/');
  const problem = dash < 0 ? hashProblem(unquoted) : hashProblem(algorithm + digest);
  if (problem) {
    problems.push({ path, message: `hash "${text}": ${problem}` });
    return text;
  }
  // One spelling per digest, so matchInlineHash can compare strings.
  return digest === HASH_PLACEHOLDER ? algorithm + digest : algorithm + Buffer.from(digest, 'base64').toString('base64');
}

function hashProblem(token: string): string | undefined {
  const match = /^(sha256|sha384|sha512)-(.*)$/s.exec(token);
  if (!match) return 'must be sha256-, sha384- or sha512- followed by the base64 digest';
  const [, algorithm, digest] = match as unknown as [string, string, string];
  if (digest === HASH_PLACEHOLDER) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(digest)) return 'the digest is not base64';
  const bytes = Buffer.from(digest, 'base64').length;
  const expected = DIGEST_BYTES[algorithm]!;
  if (bytes !== expected) return `a ${algorithm} digest is ${expected} bytes, this one is ${bytes}`;
  return undefined;
}

/**
 * The release manifest (docs/policy.md "First-party code"). Each path must be one the URL parser
 * would send as it is written (so the CSP can name it and a reviewer reads what the browser asks
 * for), and no two may name the same file under the lookup's normalisation (first-party.ts).
 */
function buildFirstParty(data: FirstPartyData, site: string, path: FieldPath, problems: SourceProblem[]): FirstPartyManifest {
  const owners = new Map<string, string>();
  const claim = (written: string, at: FieldPath, atKey: boolean): string | undefined => {
    const problem = manifestPathProblem(written, site);
    if (problem) {
      problems.push({ path: at, atKey, message: `"${written}": ${problem}` });
      return undefined;
    }
    const key = firstPartyKey(written);
    const owner = owners.get(key);
    if (owner !== undefined) {
      problems.push({ path: at, atKey, message: `"${written}" names the same file as "${owner}" (paths are compared without query, case, unreserved percent-encoding or repeated slashes)` });
      return undefined;
    }
    owners.set(key, written);
    return key;
  };
  const files = (list: 'scripts' | 'data'): Record<string, FirstPartyFile> => {
    const out: Record<string, FirstPartyFile> = {};
    for (const [written, integrity] of Object.entries(data[list] ?? {})) {
      const key = claim(written, [...path, list, written], true);
      const tokens = sriTokens(integrity, [...path, list, written], problems);
      if (key !== undefined) out[key] = { path: written, integrity: tokens };
    }
    return out;
  };
  const base: FirstPartyBase[] = (data.base ?? []).flatMap((written, i) => {
    const problem = manifestPathProblem(written, site) ?? (written.endsWith('/') ? undefined : 'a base is a directory: end it with "/"');
    if (problem) {
      problems.push({ path: [...path, 'base', i], message: `"${written}": ${problem}` });
      return [];
    }
    return [{ path: written, key: firstPartyKey(written) }];
  });
  const scripts = files('scripts');
  const dataFiles = files('data');
  const generated: Record<string, GeneratedScript> = {};
  (data.generated ?? []).forEach((entry, i) => {
    const key = claim(entry.path, [...path, 'generated', i, 'path'], false);
    if (key !== undefined) generated[key] = { path: entry.path, why: entry.why.trim() };
  });
  return { base, scripts, data: dataFiles, generated };
}

/** Why a manifest path cannot be used as written, or undefined. */
function manifestPathProblem(written: string, site: string): string | undefined {
  if (!written.startsWith('/') || written.startsWith('//')) return 'a path on the site starts with a single "/"';
  if (/[?#]/.test(written)) return 'a path only: the query and fragment are ignored when looking it up; remove them';
  if (written.includes(';')) return 'a ";" starts path parameters that servers read differently; a file name with one cannot be pinned';
  if (/%2f|%5c/i.test(written)) return 'an encoded slash is read as a separator by some servers; write the path as it is served';
  if (written.startsWith(RESERVED_PREFIX)) return `${RESERVED_PREFIX} is payguard's own`;
  const serialised = new URL(written, site).pathname;
  if (serialised !== written) return `the URL parser sends this path as "${serialised}"; write that`;
  return undefined;
}

function buildRoute(route: RouteData, path: FieldPath, problems: SourceProblem[]): Route {
  const problem = routePathProblem(route.path);
  if (problem) problems.push({ path: [...path, 'path'], message: `route path "${route.path}": ${problem}` });
  // Second-layer settings (docs/second-layer.md) are kept only when written, so a policy without them is unchanged.
  return {
    path: route.path,
    mode: route.mode,
    ...(route.csp === undefined ? {} : { csp: route.csp }),
    ...(route.strictDynamic === undefined ? {} : { strictDynamic: route.strictDynamic }),
    ...(route.scriptEval === undefined ? {} : { scriptEval: route.scriptEval }),
    ...(route.codeRemoval === undefined ? {} : { codeRemoval: route.codeRemoval }),
    ...(route.headers === undefined ? {} : { headers: { ...route.headers } }),
  };
}

/** Route patterns are paths with `*` (inside a segment) and `**` (a whole segment) as the only wildcards. */
function routePathProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('/')) return 'must start with "/"';
  if (/[?#]/.test(pattern)) return 'a route matches the path only; remove the query or fragment';
  if (/[\s\\[\]{}()|^$+<>"`\u0000-\u001f\u007f]/.test(pattern)) return 'only * and ** are wildcards; this contains a character that is neither a path character nor a wildcard';
  for (const segment of pattern.split('/')) {
    if (segment.includes('***')) return '*** is not a wildcard (use * for one segment, ** for any number)';
    if (segment.includes('**') && segment !== '**') return '** must be a whole path segment (/a/**/b, not /a**)';
  }
  return undefined;
}

/** A WHATWG encoding label (Encoding §4.2 "get an encoding"), stored as the encoding's name. */
function encodingName(label: string, problems: SourceProblem[]): string {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    problems.push({ path: ['charset'], message: `"${label}" is not an encoding label browsers know (e.g. utf-8, shift_jis, euc-jp, windows-1252)` });
    return DEFAULT_CHARSET;
  }
}

/** Object.freeze, all the way down: the policy in force must not change under a response. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
