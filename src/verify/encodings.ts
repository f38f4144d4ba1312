/**
 * Encoding labels to WHATWG encodings (Encoding Standard §4.2 "get an encoding"). Node's
 * TextDecoder (full ICU) implements the WHATWG decoders; it only lacks the "replacement" encoding
 * and x-user-defined, which it rejects with a RangeError (docs/vectors.md E-05).
 */

/** Canonical WHATWG names, keyed by the lower-case name TextDecoder reports in `.encoding`. */
const CANONICAL_NAMES: ReadonlyMap<string, string> = new Map(
  [
    'UTF-8', 'IBM866', 'ISO-8859-2', 'ISO-8859-3', 'ISO-8859-4', 'ISO-8859-5', 'ISO-8859-6', 'ISO-8859-7',
    'ISO-8859-8', 'ISO-8859-8-I', 'ISO-8859-10', 'ISO-8859-13', 'ISO-8859-14', 'ISO-8859-15', 'ISO-8859-16',
    'KOI8-R', 'KOI8-U', 'macintosh', 'windows-874', 'windows-1250', 'windows-1251', 'windows-1252',
    'windows-1253', 'windows-1254', 'windows-1255', 'windows-1256', 'windows-1257', 'windows-1258',
    'x-mac-cyrillic', 'GBK', 'gb18030', 'Big5', 'EUC-JP', 'ISO-2022-JP', 'Shift_JIS', 'EUC-KR',
    'UTF-16BE', 'UTF-16LE', 'x-user-defined', 'replacement',
  ].map((name) => [name.toLowerCase(), name]),
);

/** Labels of the "replacement" encoding: the browser renders the whole document as one U+FFFD. */
const REPLACEMENT_LABELS: ReadonlySet<string> = new Set([
  'csiso2022kr', 'hz-gb-2312', 'iso-2022-cn', 'iso-2022-cn-ext', 'iso-2022-kr', 'replacement',
]);

export type LabelLookup =
  | { readonly kind: 'encoding'; readonly name: string }
  /** A label the browser knows but payguard cannot decode faithfully: refuse, never guess. */
  | { readonly kind: 'undecodable'; readonly name: string }
  /** Not an encoding label at all: the browser ignores it and moves to the next source. */
  | { readonly kind: 'unknown' };

/** Encoding Standard "get an encoding": trim ASCII whitespace, match labels case-insensitively. */
export function lookupEncodingLabel(label: string): LabelLookup {
  const key = label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase();
  if (REPLACEMENT_LABELS.has(key)) return { kind: 'undecodable', name: 'replacement' };
  if (key === 'x-user-defined') return { kind: 'undecodable', name: 'x-user-defined' };
  try {
    const encoding = new TextDecoder(key).encoding;
    return { kind: 'encoding', name: CANONICAL_NAMES.get(encoding) ?? encoding };
  } catch {
    return { kind: 'unknown' };
  }
}

/** Encodings in which every byte decodes to exactly one UTF-16 code unit (offsets map 1:1). */
export function isSingleByteEncoding(name: string): boolean {
  return !MULTI_BYTE.has(name);
}

const MULTI_BYTE: ReadonlySet<string> = new Set([
  'UTF-8', 'UTF-16BE', 'UTF-16LE', 'GBK', 'gb18030', 'Big5', 'EUC-JP', 'ISO-2022-JP', 'Shift_JIS', 'EUC-KR',
]);
