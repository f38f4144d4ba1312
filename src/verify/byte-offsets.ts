/**
 * Decoded-text offsets back to byte offsets in the original body, so the rewriter can splice the
 * original bytes (Node cannot encode Shift_JIS or EUC-JP, and re-encoding would change bytes the
 * storefront's gateway depends on). Only used on the rewrite path.
 */
import { isSingleByteEncoding } from './encodings.js';

/**
 * For each requested text index, the byte index at which the decoder emitted that code unit.
 * Edit starts and insertion points always sit on an ASCII character (an attribute name, a space,
 * `/` or `>`), which every ASCII-compatible decoder emits at its own single byte.
 */
export function emissionBytes(bytes: Uint8Array, text: string, encoding: string, bomLength: number, indices: readonly number[]): Map<number, number> {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  if (encoding === 'UTF-16LE' || encoding === 'UTF-16BE') return mapEach(sorted, (t) => bomLength + 2 * t + 1);
  if (isSingleByteEncoding(encoding)) return mapEach(sorted, (t) => bomLength + t);
  if (encoding === 'UTF-8' && !text.includes('\uFFFD')) return utf8Emission(text, bomLength, sorted);
  return streamedEmission(bytes, encoding, bomLength, sorted);
}

function mapEach(sorted: readonly number[], f: (t: number) => number): Map<number, number> {
  return new Map(sorted.map((t) => [t, f(t)]));
}

/** Valid UTF-8: a code unit's bytes follow from the code points before it. */
function utf8Emission(text: string, bomLength: number, sorted: readonly number[]): Map<number, number> {
  const result = new Map<number, number>();
  let t = 0;
  let b = bomLength;
  for (const target of sorted) {
    for (; t < target && t < text.length; t++) {
      const c = text.charCodeAt(t);
      if (c < 0x80) b += 1;
      else if (c < 0x800) b += 2;
      else if (c >= 0xd800 && c <= 0xdbff) b += 4, t++;
      else b += 3;
    }
    // The last byte of the character at `target` (its emission point).
    const c = text.charCodeAt(target);
    const width = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    result.set(target, b + width - 1);
  }
  return result;
}

/** Stateful or multibyte legacy encodings (ISO-2022-JP, Shift_JIS, EUC-JP…): feed the decoder byte by byte. */
function streamedEmission(bytes: Uint8Array, encoding: string, bomLength: number, sorted: readonly number[]): Map<number, number> {
  const result = new Map<number, number>();
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: true });
  let emitted = 0;
  let next = 0;
  for (let i = bomLength; i < bytes.length && next < sorted.length; i++) {
    emitted += decoder.decode(bytes.subarray(i, i + 1), { stream: true }).length;
    while (next < sorted.length && sorted[next]! < emitted) result.set(sorted[next++]!, i);
  }
  if (next < sorted.length) {
    emitted += decoder.decode().length;
    while (next < sorted.length) result.set(sorted[next++]!, bytes.length - 1);
  }
  return result;
}
