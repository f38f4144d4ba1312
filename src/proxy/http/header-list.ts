/**
 * Headers as lists of [lower-case name, value] pairs in wire order, duplicates kept. Node's and
 * undici's header objects fold or drop duplicates (Node discards a second Content-Type and
 * Location), and the browser reads all of them (docs/vectors.md M-01), so payguard reads raw headers.
 */
import type { HeaderList } from '../../verify/types.js';

/** From a flat raw list `[name, value, name, value, …]` (Node's rawHeaders, undici's 'raw'). */
export function headerListFromRaw(raw: readonly string[]): HeaderList {
  const list: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    list.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  }
  return list;
}

export function headerValues(headers: HeaderList, name: string): string[] {
  const values: string[] = [];
  for (const [n, v] of headers) if (n === name) values.push(v);
  return values;
}

export function firstHeader(headers: HeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/** Comma-separated list members across all lines of a header (RFC 9110 §5.3 combining). */
export function headerTokens(headers: HeaderList, name: string): string[] {
  const tokens: string[] = [];
  for (const value of headerValues(headers, name)) {
    for (const token of value.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) tokens.push(t);
    }
  }
  return tokens;
}

export function withoutHeaders(headers: HeaderList, names: ReadonlySet<string>): [string, string][] {
  return headers.filter(([n]) => !names.has(n)).map(([n, v]) => [n, v]);
}

/**
 * Node's `res.setHeader` form: one entry per name, an array where a name repeats (Set-Cookie stays
 * an array of separate lines, never joined with commas).
 */
export function toOutgoingHeaders(headers: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of headers) {
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}
