/**
 * Content-Encoding: what payguard offers upstream and how it decodes a document before inspection
 * (docs/vectors.md H-01..H-04). payguard decodes exactly as Chromium does or refuses, and never
 * judges one reading of the bytes while the browser makes another (issue 17 class 1; docs/headers.md
 * "Content-Encoding"; every claim below is shown by test/proxy/oracle-codings.test.ts).
 */
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { HeaderList } from '../../verify/types.js';
import { headerValues } from '../http/header-list.js';
import { trimHttpWhitespace } from '../../verify/mime.js';

type Decoder = (input: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Promise<Buffer>;

// zstd arrived in Node 22.15/23.8 (zlib.zstdDecompress); Node 20 cannot decode it, so it is neither
// offered upstream nor accepted from it there.
const zstdDecompress = (zlib as unknown as { zstdDecompress?: typeof zlib.gunzip }).zstdDecompress;

const gunzip = promisify(zlib.gunzip) as Decoder;
const inflate = promisify(zlib.inflate) as Decoder;
const inflateRaw = promisify(zlib.inflateRaw) as Decoder;
const brotli = promisify(zlib.brotliDecompress) as Decoder;
const zstd = zstdDecompress ? (promisify(zstdDecompress) as Decoder) : undefined;

/** Every coding payguard can decode. */
const DECODABLE: readonly string[] = zstd ? ['gzip', 'deflate', 'br', 'zstd'] : ['gzip', 'deflate', 'br'];

/**
 * The Accept-Encoding payguard sends upstream on the document path: the codings the client offered
 * (q > 0, `*` meaning any), in the client's order, that payguard can also decode (H-01); else
 * `identity`. A clean page goes out as the upstream's original bytes, so asking for a coding the
 * client did not offer would hand the client a body it cannot read, and decompressing what nobody
 * asked to be compressed is wasted work.
 */
export function upstreamAcceptEncoding(clientValues: readonly string[]): string {
  const offered = new Map<string, number>();
  for (const item of clientValues.join(',').split(',')) {
    const [name = '', ...params] = item.split(';').map((p) => p.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    offered.set(name === 'x-gzip' ? 'gzip' : name, q ? Number(q.slice(2)) : 1);
  }
  const wildcard = offered.get('*');
  const chosen = [...offered].filter(([name, q]) => q > 0 && DECODABLE.includes(name)).map(([name]) => name);
  if (wildcard !== undefined && wildcard > 0) {
    for (const coding of DECODABLE) if (!offered.has(coding)) chosen.push(coding);
  }
  return chosen.length > 0 ? chosen.join(', ') : 'identity';
}

/** The codings Chromium decodes: the names of net's FilterSourceStream::ParseEncodingType, compared case-insensitively. */
const CHROMIUM_CODINGS: ReadonlySet<string> = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'zstd']);

/**
 * The items of every Content-Encoding line as Chromium's HttpResponseHeaders::EnumerateHeader yields
 * them: each line split on ',', each item trimmed of space and tab only (HTTP LWS, not JavaScript's
 * trim, which also eats U+00A0 and \v), lower-cased, and EMPTY ITEMS KEPT ("gzip," is two items).
 */
export function contentCodingItems(headers: HeaderList): string[] {
  const items: string[] = [];
  for (const value of headerValues(headers, 'content-encoding')) {
    for (const item of value.split(',')) items.push(trimHttpWhitespace(item).toLowerCase());
  }
  return items;
}

/**
 * The codings of a response in the order they were applied, as far as the browser decodes them.
 *
 * Chromium (URLRequestHttpJob::SetUpSourceStream) decodes only when EVERY item names a coding it
 * knows; one item that does not (`identity`, an empty item from "gzip," or ", gzip", `compress`,
 * `gzip;q=1`) makes it decode nothing and render the raw bytes, whatever else the list says
 * (oracle-codings: "gzip, identity", "gzip,", ", gzip" render the gzip header's markup live). RFC 9110
 * §8.4 clients decode the codings and skip identity instead. So:
 * - only known codings: decode them all, last applied first (Chromium's reading and RFC 9110's);
 * - only `identity` and empty items: no coding at all, in every reading;
 * - a known coding beside an item Chromium does not know: the readings differ, and the whole list
 *   is returned so that checkDecodable refuses it (fail closed on protected routes);
 * - only unknown items: returned as they are, and refused as undecodable.
 */
export function contentCodings(headers: HeaderList): string[] {
  const items = contentCodingItems(headers);
  if (items.every((item) => item === 'identity' || item === '')) return [];
  return items;
}

/** Throws VerifyRefusal('unsupported-content-coding') before any byte is read when the stack cannot be decoded as the browser will. */
export function checkDecodable(codings: readonly string[]): void {
  const known = codings.filter((c) => CHROMIUM_CODINGS.has(c));
  if (known.length > 0 && known.length < codings.length) {
    throw new VerifyRefusal(
      'unsupported-content-coding',
      `Content-Encoding "${codings.join(', ')}" mixes a coding with identity, empty or unknown items: Chromium then decodes nothing and renders the raw bytes, other clients decode (docs/headers.md)`,
    );
  }
  if (codings.length > LIMITS.maxContentCodings) {
    throw new VerifyRefusal('unsupported-content-coding', `${codings.length} stacked content codings (at most ${LIMITS.maxContentCodings})`);
  }
  for (const coding of codings) {
    if (!decoderFor(coding)) throw new VerifyRefusal('unsupported-content-coding', `content coding "${coding}"`);
  }
}

/**
 * The body as the browser's decoder produces it. Every step's output is capped at `maxBytes`
 * (zlib's maxOutputLength: a bomb stops at the cap instead of filling memory).
 */
export async function decodeBody(body: Buffer, codings: readonly string[], maxBytes: number): Promise<Buffer> {
  checkDecodable(codings);
  let bytes = body;
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!;
    bytes = await decodeOne(coding, bytes, maxBytes);
  }
  return bytes;
}

async function decodeOne(coding: string, input: Buffer, maxBytes: number): Promise<Buffer> {
  const decoder = decoderFor(coding)!;
  try {
    return await decoder(input, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new VerifyRefusal('too-large', `decoded ${coding} body exceeds ${maxBytes} bytes`, { cause: err });
    }
    throw new VerifyRefusal('content-coding-error', `corrupt or truncated ${coding} body`, { cause: err });
  }
}

function decoderFor(coding: string): Decoder | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip': // RFC 9110 §8.4.1.3: a recipient should treat x-gzip as gzip
      return gunzip;
    case 'deflate':
      return inflateEither;
    case 'br':
      return brotli;
    case 'zstd':
      return zstd;
    default:
      return undefined;
  }
}

/**
 * "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but servers have long sent raw DEFLATE
 * and browsers accept both (Chromium's GzipSourceStream sniffs the zlib header), so payguard
 * decodes both forms: a page must not be unreadable to payguard yet readable to the browser.
 */
async function inflateEither(input: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  if (looksZlibWrapped(input)) return inflate(input, options);
  return inflateRaw(input, options);
}

/** RFC 1950 §2.2: CM = 8 (deflate), and (CMF*256 + FLG) is a multiple of 31. */
function looksZlibWrapped(input: Buffer): boolean {
  if (input.length < 2) return false;
  const cmf = input[0]!;
  const flg = input[1]!;
  return (cmf & 0x0f) === 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 === 0;
}
