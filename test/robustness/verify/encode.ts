/**
 * Re-encoding a page into the legacy encodings Japanese shops still serve. Node has no encoder
 * for them (TextEncoder is UTF-8 only), so the tables are built by inverting Node's WHATWG
 * TextDecoder: the bytes we write decode, in the browser and in the verifier, to exactly the text
 * we meant. A character the encoding cannot hold is written as a numeric character reference, as
 * browsers do when submitting forms in that encoding.
 */

export type PageEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'shift_jis' | 'euc-jp' | 'windows-1252';

export const PAGE_ENCODINGS: readonly PageEncoding[] = ['utf-8', 'utf-16le', 'utf-16be', 'shift_jis', 'euc-jp', 'windows-1252'];

const tables = new Map<PageEncoding, Map<string, readonly number[]>>();

export function encodeText(text: string, encoding: PageEncoding): Uint8Array {
  if (encoding === 'utf-8') return new TextEncoder().encode(text);
  if (encoding === 'utf-16le' || encoding === 'utf-16be') return utf16(text, encoding === 'utf-16be');
  const table = tableFor(encoding);
  const out: number[] = [];
  for (const ch of text) {
    const bytes = table.get(ch);
    if (bytes) out.push(...bytes);
    else for (const c of `&#${ch.codePointAt(0)};`) out.push(c.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** The byte order mark of an encoding (WHATWG Encoding §4.1 "decode": BOM sniffing). */
export function bomOf(encoding: PageEncoding): Uint8Array {
  if (encoding === 'utf-8') return Uint8Array.of(0xef, 0xbb, 0xbf);
  if (encoding === 'utf-16le') return Uint8Array.of(0xff, 0xfe);
  if (encoding === 'utf-16be') return Uint8Array.of(0xfe, 0xff);
  return new Uint8Array(0);
}

function utf16(text: string, bigEndian: boolean): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[2 * i + (bigEndian ? 0 : 1)] = unit >> 8;
    out[2 * i + (bigEndian ? 1 : 0)] = unit & 0xff;
  }
  return out;
}

function tableFor(encoding: PageEncoding): Map<string, readonly number[]> {
  let table = tables.get(encoding);
  if (!table) {
    table = invertDecoder(encoding);
    tables.set(encoding, table);
  }
  return table;
}

/** Every single byte, and every two-byte sequence in the encoding's lead/trail ranges, decoded once. */
function invertDecoder(encoding: PageEncoding): Map<string, readonly number[]> {
  const decoder = new TextDecoder(encoding, { fatal: true });
  const table = new Map<string, readonly number[]>();
  const add = (bytes: number[]): void => {
    let ch: string;
    try {
      ch = decoder.decode(Uint8Array.from(bytes));
    } catch {
      return;
    }
    // The first (shortest) sequence for a character wins, as the Encoding standard's encoders pick it.
    if ([...ch].length === 1 && !table.has(ch)) table.set(ch, bytes);
  };
  for (let b = 0; b < 0x80; b++) add([b]);
  if (encoding === 'windows-1252') {
    for (let b = 0x80; b < 0x100; b++) add([b]);
    return table;
  }
  const [leads, trails] = encoding === 'shift_jis' ? [[0x81, 0x9f, 0xe0, 0xfc], [0x40, 0xfc]] : [[0xa1, 0xfe, 0x8e, 0x8e], [0xa1, 0xfe]];
  for (let r = 0; r < leads.length; r += 2) {
    for (let lead = leads[r]!; lead <= leads[r + 1]!; lead++) {
      for (let trail = trails[0]!; trail <= trails[1]!; trail++) add([lead, trail]);
    }
  }
  if (encoding === 'shift_jis') for (let b = 0xa1; b <= 0xdf; b++) add([b]);
  return table;
}
