/**
 * Fetching for the inventory: one GET, bounded in size and time, redirects not followed (a
 * redirect is itself a navigation target to list). Asks for identity coding so the bytes hashed
 * are the bytes the SRI check in the browser hashes (SRI is over the decoded body).
 */
import { gunzipSync, brotliDecompressSync, inflateSync } from 'node:zlib';
import { request } from 'undici';
import type { HeaderList } from '../verify/types.js';

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** What to offer the server; identity by default (see above). Whatever comes back is decoded. */
  readonly acceptEncoding?: string;
}

export interface Fetched {
  readonly status: number;
  readonly headers: HeaderList;
  readonly bytes: Uint8Array;
}

/** A page or script the inventory could not read; listed in the output, never a crash. */
export class FetchFailure extends Error {
  constructor(readonly url: string, problem: string) {
    super(`${shown(url)}: ${problem}`);
    this.name = 'FetchFailure';
  }
}

/** Origin and path only: a query string may carry personal data (and never reaches output). */
export function shown(url: string): string {
  if (!URL.canParse(url)) return '(unparsable URL)';
  const u = new URL(url);
  return u.origin + u.pathname;
}

/** A request other than a plain GET, and the session it belongs to (session.ts). */
export interface RequestExtras {
  readonly method?: 'GET' | 'POST';
  readonly body?: { readonly contentType: string; readonly text: string };
  /** Extra request headers a step names (an AJAX API's CSRF header). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly session?: { cookieHeader(url: string): string | undefined; remember(url: string, headers: HeaderList): void };
}

export async function fetchBounded(url: string, limits: FetchLimits, accept: string, extras: RequestExtras = {}): Promise<Fetched> {
  let response;
  const cookie = extras.session?.cookieHeader(url);
  try {
    response = await request(url, {
      method: extras.method ?? 'GET',
      ...(extras.body ? { body: extras.body.text } : {}),
      headers: {
        accept,
        'accept-encoding': limits.acceptEncoding ?? 'identity',
        ...(cookie ? { cookie } : {}),
        ...(extras.body ? { 'content-type': extras.body.contentType } : {}),
        ...extras.headers,
      },
      headersTimeout: limits.timeoutMs,
      bodyTimeout: limits.timeoutMs,
      signal: AbortSignal.timeout(limits.timeoutMs * 2),
    });
  } catch (err) {
    throw new FetchFailure(url, `cannot fetch: ${(err as Error).message}`);
  }
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) headers.push([name.toLowerCase(), v]);
  }
  extras.session?.remember(url, headers);
  const body = await readBounded(url, response.body, limits.maxBytes);
  return { status: response.statusCode, headers, bytes: decodeContent(url, body, headers, limits.maxBytes) };
}

async function readBounded(url: string, body: AsyncIterable<Uint8Array> & { destroy(): void }, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        body.destroy();
        throw new FetchFailure(url, `larger than ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof FetchFailure) throw err;
    throw new FetchFailure(url, `cannot read: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks);
}

/** A server may compress despite `identity`; undo it (RFC 9110 §8.4), bounded like the body. */
function decodeContent(url: string, body: Buffer, headers: HeaderList, maxBytes: number): Uint8Array {
  const codings = headers
    .filter(([name]) => name === 'content-encoding')
    .flatMap(([, value]) => value.split(','))
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let bytes = body;
  for (const coding of codings.reverse()) {
    const limit = { maxOutputLength: maxBytes };
    try {
      if (coding === 'gzip' || coding === 'x-gzip') bytes = gunzipSync(bytes, limit);
      else if (coding === 'deflate') bytes = inflateSync(bytes, limit);
      else if (coding === 'br') bytes = brotliDecompressSync(bytes, limit);
      else throw new FetchFailure(url, `Content-Encoding "${coding}" cannot be decoded`);
    } catch (err) {
      if (err instanceof FetchFailure) throw err;
      throw new FetchFailure(url, `the ${coding} body is corrupt or too large`);
    }
  }
  return bytes;
}
