/**
 * The one place that decides what of a request may reach a log line. A log is copied to places
 * with wider access than the payment path (log shippers, support tickets), so PCI DSS 3.3/3.4
 * applies: no card data, ever. Query strings and bodies are where card data travels
 * (a GET form, a skimmer's beacon URL), so they are removed, not masked.
 */

/** Header names whose values may be logged; every other header's value is dropped. */
export const LOGGABLE_HEADERS = new Set([
  'content-type',
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'cache-control',
  'location',
  'refresh',
  'user-agent',
  'x-request-id',
]);

/** Header names whose values are URLs, logged as origin + path like every other URL. */
const URL_HEADERS = new Set(['location', 'refresh']);

/** Field names never logged, whatever their value. */
const DROPPED_FIELDS = new Set(['body', 'rawbody', 'raw', 'cookie', 'authorization', 'password', 'query', 'search']);

/** A request path without its query string or fragment. */
export function pathOnly(path: string): string {
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}

/**
 * A URL reduced to origin + path (no credentials, query or fragment). A value that is not an
 * absolute URL is treated as a path. Opaque URLs (javascript:, data:) keep only their scheme:
 * their "path" is code or content.
 */
export function originAndPath(value: string): string {
  if (!URL.canParse(value)) return pathOnly(value);
  const url = new URL(value);
  if (url.origin === 'null') return `${url.protocol}…`;
  return url.origin + url.pathname;
}

// Any absolute URL inside free text (error messages): its query and fragment are cut.
const URL_IN_TEXT = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi;

/**
 * A primary account number: 13 to 19 digits, optionally grouped by single spaces or dashes.
 * Matches are replaced only when they pass the Luhn check, so counters and ids survive.
 */
const PAN_CANDIDATE = /(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g;

export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, '$1').replace(PAN_CANDIDATE, (m) => (luhnValid(m.replace(/[ -]/g, '')) ? '[redacted-pan]' : m));
}

/** True when the text holds a run of 13 to 19 digits (spaces or dashes between) that passes the Luhn check. */
export function containsCardNumber(text: string): boolean {
  for (const m of text.matchAll(PAN_CANDIDATE)) if (luhnValid(m[0].replace(/[ -]/g, ''))) return true;
  return false;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Headers as name → value, keeping only the allowlisted names. */
export function loggableHeaders(headers: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (!LOGGABLE_HEADERS.has(name)) continue;
    out[name] = redactText(URL_HEADERS.has(name) ? originAndPath(value) : value);
  }
  return out;
}

/**
 * Caller-supplied fields made safe: dropped names removed, `path`/`url` fields cut to origin + path,
 * `headers` filtered, every string run through redactText. Depth-bounded so a cyclic or
 * enormous object cannot stall the process.
 */
export function redactFields(fields: object, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const lower = key.toLowerCase();
    if (DROPPED_FIELDS.has(lower)) continue;
    if (lower === 'headers' && value !== null && typeof value === 'object') {
      out[key] = loggableHeaders(headerEntries(value));
      continue;
    }
    out[key] = redactValue(lower, value, depth);
  }
  return out;
}

function redactValue(key: string, value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    if (key === 'path') return redactText(pathOnly(value));
    if (key === 'url' || key.endsWith('url')) return redactText(originAndPath(value));
    return redactText(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return value;
  if (typeof value === 'bigint') return value.toString();
  if (depth >= 4) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactValue(key, v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (typeof value === 'object') return redactFields(value, depth + 1);
  return typeof value;
}

function headerEntries(value: object): Iterable<readonly [string, string]> {
  if (Array.isArray(value)) {
    return value.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string');
  }
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'string' ? [[k, v] as const] : Array.isArray(v) ? v.map((x) => [k, String(x)] as const) : [],
  );
}
