/**
 * An upstream that records exactly the bytes payguard sends it and splits them into requests with a
 * strict RFC 9112 reader of its own (not Node's), noting every framing ambiguity it meets: both
 * Content-Length and Transfer-Encoding, two Content-Lengths, a Transfer-Encoding other than exactly
 * `chunked`, obs-fold, a bare LF. A request smuggled past payguard shows up here as a request payguard
 * never answered, or as an ambiguity a lenient server behind it could read differently.
 * Each request is answered with a small `text/plain; nosniff` response (a non-document, so the answer
 * itself is not what is being tested).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface UpstreamRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly bodyLength: number;
  /** Every reason a lenient parser could disagree with this reading of the message. */
  readonly ambiguities: readonly string[];
}

export interface RecordingUpstream {
  readonly url: string;
  readonly origin: URL;
  readonly requests: UpstreamRequest[];
  /** Every chunk received, in order of arrival (all connections). */
  readonly raw: Buffer[];
  /** Connections whose bytes could not be read as HTTP/1.1 at all. */
  readonly unparsable: string[];
  reset(): void;
  close(): Promise<void>;
}

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-content-type-options: nosniff\r\ncontent-length: 2\r\n\r\nok', 'latin1');

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: UpstreamRequest[] = [];
  const raw: Buffer[] = [];
  const unparsable: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      raw.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (let guard = 0; guard < 1000; guard++) {
        let next: { request: UpstreamRequest; used: number } | 'incomplete';
        try {
          next = readRequest(pending);
        } catch (err) {
          unparsable.push((err as Error).message);
          socket.destroy();
          return;
        }
        if (next === 'incomplete') return;
        requests.push(next.request);
        pending = pending.subarray(next.used);
        socket.write(RESPONSE);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    origin: new URL(url),
    requests,
    raw,
    unparsable,
    reset() {
      requests.length = 0;
      raw.length = 0;
      unparsable.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One request from the front of `bytes`, or 'incomplete' when more must arrive. */
export function readRequest(bytes: Buffer): { request: UpstreamRequest; used: number } | 'incomplete' {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) {
    if (bytes.indexOf('\n\n') >= 0) throw new Error('header block ended by bare LFs');
    return 'incomplete';
  }
  const head = bytes.subarray(0, end).toString('latin1');
  const ambiguities: string[] = [];
  if (/(^|[^\r])\n/.test(head)) ambiguities.push('bare LF in the header block');
  const lines = head.split('\r\n');
  const [method = '', target = '', version = ''] = lines[0]!.split(' ');
  if (!/^HTTP\/1\.[01]$/.test(version)) throw new Error(`bad request line: ${JSON.stringify(lines[0])}`);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      ambiguities.push('obs-fold');
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) ambiguities.push(`malformed header line ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
  const codings = headers.filter(([n]) => n === 'transfer-encoding').map(([, v]) => v);
  if (lengths.length > 1) ambiguities.push('several Content-Length lines');
  if (lengths.length > 0 && codings.length > 0) ambiguities.push('Content-Length with Transfer-Encoding');
  if (codings.length > 0 && codings.join(',').toLowerCase() !== 'chunked') ambiguities.push(`Transfer-Encoding ${JSON.stringify(codings.join(', '))}`);
  if (lengths.some((v) => !/^\d+$/.test(v))) ambiguities.push(`Content-Length ${JSON.stringify(lengths.join(', '))}`);
  let at = end + 4;
  let bodyLength = 0;
  if (codings.length > 0) {
    const chunked = readChunked(bytes, at);
    if (chunked === 'incomplete') return 'incomplete';
    ({ at, bodyLength } = chunked);
    if (chunked.extensions) ambiguities.push('chunk extensions');
  } else if (lengths.length > 0) {
    bodyLength = Number(lengths[0]);
    if (bytes.length < at + bodyLength) return 'incomplete';
    at += bodyLength;
  }
  return { request: { method, target, headers, bodyLength, ambiguities }, used: at };
}

function readChunked(bytes: Buffer, start: number): { at: number; bodyLength: number; extensions: boolean } | 'incomplete' {
  let at = start;
  let bodyLength = 0;
  let extensions = false;
  for (let guard = 0; guard < 100_000; guard++) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return 'incomplete';
    const line = bytes.subarray(at, lineEnd).toString('latin1');
    if (line.includes(';')) extensions = true;
    const sizeText = line.split(';')[0]!;
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(line)}`);
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailer section: lines up to an empty one.
      const trailerEnd = bytes.indexOf('\r\n', at);
      if (trailerEnd < 0) return 'incomplete';
      if (trailerEnd !== at) {
        const block = bytes.indexOf('\r\n\r\n', at);
        if (block < 0) return 'incomplete';
        return { at: block + 4, bodyLength, extensions };
      }
      return { at: at + 2, bodyLength, extensions };
    }
    if (bytes.length < at + size + 2) return 'incomplete';
    if (bytes.subarray(at + size, at + size + 2).toString('latin1') !== '\r\n') throw new Error('chunk data not followed by CRLF');
    bodyLength += size;
    at += size + 2;
  }
  throw new Error('too many chunks');
}
