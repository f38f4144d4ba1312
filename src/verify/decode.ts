/**
 * Bytes to text exactly as Chromium will decode them (docs/vectors.md E-01..E-08). The order is
 * the HTML Standard's "determining the character encoding" (§13.2.3.2): BOM, then the transport
 * charset, then the meta prescan, then the locale default (the policy's `defaultCharset`).
 * The proxy pins the encoding returned here in the Content-Type it sends, so the browser's
 * confidence is "certain" and it cannot pick anything else (no later <meta>, no auto-detection).
 */
import { VerifyRefusal } from '../errors.js';
import { lookupEncodingLabel } from './encodings.js';
import { extractMimeType } from './mime.js';
import { prescanMetaCharset } from './prescan.js';
import type { HeaderList } from './types.js';

export type EncodingSource = 'bom' | 'header' | 'meta' | 'default';

export interface DecodedDocument {
  readonly text: string;
  /** Canonical WHATWG encoding name, e.g. `Shift_JIS`. */
  readonly encoding: string;
  readonly source: EncodingSource;
  /** Bytes of BOM skipped before `text` starts (0, 2 or 3). */
  readonly bomLength: number;
}

export function decodeDocument(bytes: Uint8Array, headers: HeaderList, defaultCharset: string): DecodedDocument {
  const { encoding, source, bomLength } = chooseEncoding(bytes, headers, defaultCharset);
  // ignoreBOM: the BOM (if any) was already identified and is skipped explicitly, so a second
  // BOM-looking sequence after it stays in the text as the browser keeps it.
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: true });
  const text = decoder.decode(bytes.subarray(bomLength));
  return { text, encoding, source, bomLength };
}

/** Which encoding the browser uses for these bytes, and why. */
export function chooseEncoding(
  bytes: Uint8Array,
  headers: HeaderList,
  defaultCharset: string,
): { encoding: string; source: EncodingSource; bomLength: number } {
  const bom = sniffBom(bytes);
  if (bom) return { ...bom, source: 'bom' };

  const charset = extractMimeType(headers)?.charset;
  if (charset !== undefined) {
    const found = lookupEncodingLabel(charset);
    if (found.kind === 'undecodable') throw unknownEncoding(charset, 'Content-Type charset');
    // An unknown label is ignored as the browser ignores it; the next source decides.
    if (found.kind === 'encoding') return { encoding: found.name, source: 'header', bomLength: 0 };
  }

  const metaLabel = prescanMetaCharset(bytes);
  if (metaLabel !== undefined) {
    const found = lookupEncodingLabel(metaLabel);
    if (found.kind === 'undecodable' && found.name === 'x-user-defined') {
      // HTML §13.2.3.2 prescan: x-user-defined from a meta means windows-1252.
      return { encoding: 'windows-1252', source: 'meta', bomLength: 0 };
    }
    if (found.kind === 'undecodable') throw unknownEncoding(metaLabel, '<meta> charset');
    if (found.kind === 'encoding') {
      // HTML §13.2.3.2 prescan: UTF-16 from a meta means UTF-8 (the bytes are evidently ASCII-compatible).
      const encoding = found.name === 'UTF-16BE' || found.name === 'UTF-16LE' ? 'UTF-8' : found.name;
      return { encoding, source: 'meta', bomLength: 0 };
    }
  }

  const fallback = lookupEncodingLabel(defaultCharset);
  if (fallback.kind !== 'encoding') throw unknownEncoding(defaultCharset, 'policy defaultCharset');
  return { encoding: fallback.name, source: 'default', bomLength: 0 };
}

/** Encoding Standard "BOM sniff". */
function sniffBom(bytes: Uint8Array): { encoding: string; bomLength: number } | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'UTF-8', bomLength: 3 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'UTF-16BE', bomLength: 2 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'UTF-16LE', bomLength: 2 };
  return undefined;
}

function unknownEncoding(label: string, where: string): VerifyRefusal {
  return new VerifyRefusal('unknown-encoding', `${where} "${label.slice(0, 40)}" names an encoding payguard cannot decode`);
}

/**
 * True when the decoder had to substitute U+FFFD for bytes that are invalid in `encoding`
 * (as opposed to a U+FFFD the bytes really encode). Only called when the text contains U+FFFD.
 */
export function hasInvalidBytes(bytes: Uint8Array, encoding: string, bomLength: number): boolean {
  try {
    new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(bomLength));
    return false;
  } catch {
    return true;
  }
}
