/**
 * RFC 8288 §3 `Link` header field values: `<target>; rel="a b"; as=script, <target2>; …`.
 * Only what payguard decides on is kept: the target, the relation types, `as` and `imagesrcset`.
 */
export interface LinkValue {
  readonly target: string;
  /** Relation types, lower-cased (RFC 8288 §2.1.1: compared case-insensitively). */
  readonly rel: readonly string[];
  readonly as: string | undefined;
  /** A preload's `imagesrcset` (HTML §4.6.7.12; Chromium honours it in Link headers too). */
  readonly imagesrcset?: string;
}

export function parseLinkHeader(value: string): LinkValue[] {
  const links: LinkValue[] = [];
  let position = 0;
  // Bounded: each iteration consumes at least the '<' it found.
  while (position < value.length) {
    const open = value.indexOf('<', position);
    if (open < 0) break;
    const close = value.indexOf('>', open + 1);
    if (close < 0) break;
    const target = value.slice(open + 1, close);
    const params = new Map<string, string>();
    position = close + 1;
    while (position < value.length && value[position] !== ',') {
      if (value[position] === ';') {
        const parsed = parseParam(value, position + 1);
        // RFC 8288 §3.3: occurrences of rel after the first are ignored; same for other params here.
        if (parsed.name !== '' && !params.has(parsed.name)) params.set(parsed.name, parsed.value);
        position = parsed.end;
      } else position++;
    }
    const rel = (params.get('rel') ?? '').toLowerCase().split(/[\t\n\f\r ]+/).filter((t) => t !== '');
    const imagesrcset = params.get('imagesrcset');
    links.push({ target, rel, as: params.get('as')?.toLowerCase(), ...(imagesrcset === undefined ? {} : { imagesrcset }) });
    position++;
  }
  return links;
}

function parseParam(value: string, start: number): { name: string; value: string; end: number } {
  let position = start;
  let name = '';
  while (position < value.length && !'=;,'.includes(value[position]!)) name += value[position++];
  name = name.trim().toLowerCase();
  if (value[position] !== '=') return { name, value: '', end: position };
  position++;
  while (value[position] === ' ' || value[position] === '\t') position++;
  if (value[position] === '"') {
    let v = '';
    position++;
    while (position < value.length && value[position] !== '"') {
      if (value[position] === '\\' && position + 1 < value.length) position++;
      v += value[position++];
    }
    return { name, value: v, end: position + 1 };
  }
  let v = '';
  while (position < value.length && !';,'.includes(value[position]!)) v += value[position++];
  return { name, value: v.trim(), end: position };
}
