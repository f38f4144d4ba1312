/**
 * Bytes spliced into a document in its own encoding. The rewrite (rewrite.ts) and the SRI insertion
 * (sri-attributes.ts) only ever insert ASCII, which every encoding payguard serves spells as the
 * same single byte, except UTF-16, where it is one code unit of two bytes.
 */

/** ASCII `text` as bytes of `encoding` (a WHATWG encoding name). */
export function encodeAscii(text: string, encoding: string): Uint8Array {
  if (encoding === 'UTF-16LE' || encoding === 'UTF-16BE') {
    const out = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) out[encoding === 'UTF-16LE' ? 2 * i : 2 * i + 1] = text.charCodeAt(i);
    return out;
  }
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** The parts, one after the other, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
