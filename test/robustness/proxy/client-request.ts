/**
 * Random client requests for the proxy fuzz (methods, paths with dots and encodings, huge headers,
 * Sec-Fetch-Dest and Accept-Encoding values, early aborts) and the client that sends one with a
 * deadline: whatever payguard does, the exchange ends (response or close) or the deadline says it hung.
 */
import { request, type Agent } from 'node:http';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { CASE_HEADER } from './hostile-upstream.js';

export type Abort = 'none' | 'after-send' | 'after-headers';

export interface ClientRequest {
  readonly method: string;
  readonly path: string;
  readonly secFetchDest: string | readonly string[] | undefined;
  readonly acceptEncoding: string | undefined;
  readonly hugeHeaderBytes: number;
  readonly body: string | undefined;
  readonly abort: Abort;
  readonly abortDelayMs: number;
}

const PATHS = [
  '/checkout',
  '/checkout/',
  '/checkout/pay',
  '/checkout/./pay',
  '/checkout/../checkout/pay',
  '/checkout/%2e%2e/pay',
  '/checkout/%2E/pay',
  '/Checkout/PAY',
  '//evil-skimmer.example/checkout',
  '/checkout/%00',
  '/checkout/;jsessionid=1',
  '/checkout?card=4111111111111111',
  '/checkout/%E3%81%82',
  '/rewrite/page',
  '/open/page',
  '/open/../checkout',
  '/.well-known/payguard/x',
  '/',
];

const DESTS: readonly (string | readonly string[] | undefined)[] = [undefined, 'document', 'document', 'iframe', 'script', 'style', 'image', 'empty', 'DOCUMENT', ' document ', 'fencedframe', 'nonsense', ['document', 'script']];
const ACCEPT_ENCODINGS = [undefined, 'gzip, deflate, br', 'gzip', 'br', 'identity', '*', 'gzip;q=0, br', 'zstd', 'x-gzip', ',,;;q=', 'GZIP'];

export const clientRequestArbitrary: fc.Arbitrary<ClientRequest> = fc.record({
  method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET') }, { weight: 4, arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'PROPFIND') }),
  path: fc.constantFrom(...PATHS),
  secFetchDest: fc.constantFrom(...DESTS),
  acceptEncoding: fc.constantFrom(...ACCEPT_ENCODINGS),
  hugeHeaderBytes: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(8 * 1024, 20 * 1024) }),
  body: fc.option(fc.constantFrom('cc-number=4111111111111111&cvc=123', ''), { nil: undefined }),
  abort: fc.oneof({ weight: 8, arbitrary: fc.constant<Abort>('none') }, { weight: 1, arbitrary: fc.constantFrom<Abort>('after-send', 'after-headers') }),
  abortDelayMs: fc.integer({ min: 0, max: 50 }),
});

export interface Exchange {
  /** undefined when the connection ended before a response (a cut, or the client aborted). */
  readonly status: number | undefined;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** The response ended cleanly (not cut off). */
  readonly complete: boolean;
  /** The deadline passed with the exchange still open. */
  readonly hung: boolean;
  readonly error: string | undefined;
  /** 1xx responses that reached the client (payguard must forward none). */
  readonly interim: readonly number[];
}

export function sendClientRequest(base: string, agent: Agent, caseId: string, req: ClientRequest, deadlineMs: number): Promise<Exchange> {
  const url = new URL(base);
  const headers: Record<string, string | string[]> = { host: 'shop.example', [CASE_HEADER]: caseId };
  if (req.secFetchDest !== undefined) headers['sec-fetch-dest'] = typeof req.secFetchDest === 'string' ? req.secFetchDest : [...req.secFetchDest];
  if (req.acceptEncoding !== undefined) headers['accept-encoding'] = req.acceptEncoding;
  if (req.hugeHeaderBytes > 0) headers.cookie = `session=${'x'.repeat(req.hugeHeaderBytes)}`;
  const sendsBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  if (sendsBody) headers['content-type'] = 'application/x-www-form-urlencoded';
  return new Promise<Exchange>((resolve) => {
    let status: number | undefined;
    let rawHeaders: string[] = [];
    const chunks: Buffer[] = [];
    const interim: number[] = [];
    let settled = false;
    const finish = (complete: boolean, hung: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ status, rawHeaders, body: Buffer.concat(chunks), complete, hung, error, interim });
    };
    const deadline = setTimeout(() => {
      finish(false, true, `no response or close within ${deadlineMs} ms`);
      outgoing.destroy();
    }, deadlineMs);
    const outgoing = request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent }, (res) => {
      status = res.statusCode;
      rawHeaders = res.rawHeaders;
      if (req.abort === 'after-headers') {
        outgoing.destroy();
        finish(false, false, 'client aborted');
        return;
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish(true, false));
      res.on('error', (err) => finish(false, false, err.message));
      res.on('close', () => finish(res.complete, false, res.complete ? undefined : 'response cut off'));
    });
    outgoing.on('information', (info) => interim.push(info.statusCode));
    outgoing.on('error', (err: NodeJS.ErrnoException) => finish(false, false, `${err.code ?? ''} ${err.message}`));
    outgoing.on('close', () => setImmediate(() => finish(false, false, 'closed before a response')));
    outgoing.end(sendsBody ? req.body : undefined);
    if (req.abort === 'after-send') {
      setTimeout(() => {
        outgoing.destroy();
        finish(false, false, 'client aborted');
      }, req.abortDelayMs);
    }
  });
}

/** One header's values, as the client received them (every line, in order). */
export function receivedValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  return values;
}

/**
 * The received body as a browser would decode it, best effort: each Content-Encoding undone in
 * reverse, as far as the bytes go (a truncated stream still yields its prefix), raw bytes on failure.
 */
export function decodedBody(rawHeaders: readonly string[], body: Buffer): Buffer {
  const codings = receivedValues(rawHeaders, 'content-encoding')
    .join(',')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  let bytes = body;
  for (const coding of codings.reverse()) {
    try {
      const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
      if (coding === 'gzip' || coding === 'x-gzip') bytes = zlib.gunzipSync(bytes, flush);
      else if (coding === 'deflate') bytes = bytes[0] === 0x78 ? zlib.inflateSync(bytes, flush) : zlib.inflateRawSync(bytes, flush);
      else if (coding === 'br') bytes = zlib.brotliDecompressSync(bytes, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      else return bytes;
    } catch {
      return bytes;
    }
  }
  return bytes;
}
