/**
 * Fake upstreams for tests: real servers on 127.0.0.1 with a port the OS picks. Pick by what the
 * test needs to control:
 * - startStorefront: a scriptable storefront (status, headers, body; chunked, slow, raw socket
 *   bytes; per-path handlers; WebSocket echo) that records what payguard forwarded to it.
 * - startStaticServer: exact bytes with exact header lines in order (duplicates kept, Content-Length
 *   added), for pages a browser must see as the verifier did; records method and path only.
 * - startRecordingUpstream: a raw socket that reads requests with its own strict RFC 9112 reader, to
 *   see how payguard framed what it forwarded (request smuggling, oversize heads).
 * - freePort: a port nobody listens on (for a child to bind, or for an upstream that is down).
 * They differ in behaviour tests rely on (header ordering and framing, what a path nobody set
 * answers, what is recorded), so they stay three servers rather than one with options.
 * Servers that are one suite's world stay beside it and listen through listenOnLoopback: the e2e
 * case storefront and forward proxy (test/e2e/), the second layer's forward proxy
 * (test/second-layer/internet.ts) and the fuzz upstream (test/robustness/proxy/hostile-upstream.ts).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Listens on 127.0.0.1, port picked by the OS; resolves with `http://127.0.0.1:PORT`. */
export async function listenOnLoopback(server: Server | TcpServer): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port free on 127.0.0.1 right now: closed again before it is returned, so nothing listens there until someone binds it. */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  const url = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return Number(new URL(url).port);
}

/*
 * A scriptable storefront for proxy tests: real HTTP on 127.0.0.1, port 0. Each path answers
 * with given bytes, headers (duplicates kept, as separate lines) and status, optionally in chunks,
 * slowly, or as raw bytes on the socket for responses no well-behaved server would send.
 * It records what reached it (headers, whether a request was cut off) so tests can check what
 * payguard forwarded. WebSocket upgrades get a minimal RFC 6455 echo.
 */

export interface PageSpec {
  readonly status?: number;
  /** Header lines in order; a name may repeat (each becomes its own line). */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Uint8Array;
  /** Write the body in pieces of this size (chunked transfer when no Content-Length is given). */
  readonly chunkSize?: number;
  /** Wait this long before the status line (a slow storefront). */
  readonly delayMs?: number;
  /** Wait this long between body pieces. */
  readonly chunkDelayMs?: number;
  /** Bytes written straight to the socket instead of an HTTP response (malformed framing, truncation). */
  readonly raw?: Uint8Array | string;
}

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: readonly string[];
  /** Bytes of request body received. */
  bodyLength: number;
  /** True when the connection closed before the response finished (payguard aborted it). */
  aborted: boolean;
  finished: boolean;
}

export interface Storefront {
  readonly url: string;
  readonly origin: URL;
  readonly requests: RecordedRequest[];
  page(path: string, spec: PageSpec | PageHandler): void;
  /** Requests recorded for a path (query string ignored). */
  requestsFor(path: string): RecordedRequest[];
  /** Open TCP connections right now (to check nothing leaks). */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startStorefront(pages: Record<string, PageSpec | PageHandler> = {}): Promise<Storefront> {
  const routes = new Map<string, PageSpec | PageHandler>(Object.entries(pages));
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders],
      bodyLength: 0,
      aborted: false,
      finished: false,
    };
    requests.push(record);
    req.on('data', (chunk: Buffer) => {
      record.bodyLength += chunk.length;
    });
    res.on('close', () => {
      record.finished = res.writableFinished;
      record.aborted = !res.writableFinished;
    });
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const spec = routes.get(path);
    if (spec === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such test page\n');
      return;
    }
    if (typeof spec === 'function') {
      spec(req, res);
      return;
    }
    // Let a POST body arrive before answering, as a real application would.
    const answer = (): void => void serve(spec, req, res);
    if (req.readableEnded) answer();
    else req.once('end', answer);
    req.resume();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', websocketEcho);

  const url = await listenOnLoopback(server);
  return {
    url,
    origin: new URL(url),
    requests,
    page(path, spec) {
      routes.set(path, spec);
    },
    requestsFor(path) {
      return requests.filter((r) => (r.url.split('?')[0] ?? '') === path);
    },
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}

async function serve(spec: PageSpec, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (spec.delayMs) await sleep(spec.delayMs);
  if (res.destroyed) return;
  if (spec.raw !== undefined) {
    const socket = res.socket!;
    socket.end(typeof spec.raw === 'string' ? Buffer.from(spec.raw, 'latin1') : spec.raw);
    return;
  }
  const grouped = new Map<string, string[]>();
  for (const [name, value] of spec.headers ?? []) {
    const list = grouped.get(name) ?? [];
    list.push(value);
    grouped.set(name, list);
  }
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.statusCode = spec.status ?? 200;
  const body = spec.body === undefined ? Buffer.alloc(0) : typeof spec.body === 'string' ? Buffer.from(spec.body, 'utf8') : Buffer.from(spec.body);
  if (req.method === 'HEAD' || !spec.chunkSize) {
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.flushHeaders();
  for (let offset = 0; offset < body.length && !res.destroyed; offset += spec.chunkSize) {
    if (spec.chunkDelayMs) await sleep(spec.chunkDelayMs);
    if (!res.write(body.subarray(offset, offset + spec.chunkSize))) await new Promise((r) => res.once('drain', r));
  }
  if (!res.destroyed) res.end();
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 §4.2.2 handshake, then every unfragmented client frame echoed back unmasked (§5.2). */
function websocketEcho(req: IncomingMessage, socket: Duplex): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.destroy();
    return;
  }
  const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let pending = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const frame = readFrame(pending);
      if (!frame) return;
      pending = pending.subarray(frame.size);
      if (frame.opcode === 0x8) {
        socket.end(Buffer.from([0x88, 0x00]));
        return;
      }
      socket.write(encodeFrame(frame.opcode, frame.payload, false));
    }
  });
}

export function readFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskOffset + (i % 4)]!;
  return { opcode, payload, size: offset + length };
}

export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const header: number[] = [0x80 | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (payload.length < 126) header.push(maskBit | payload.length);
  else header.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
  if (!mask) return Buffer.concat([Buffer.from(header), payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(header), key, body]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * A static HTTP server on 127.0.0.1 (port 0) that serves exact bytes with exact headers,
 * duplicates and odd values included, so a browser sees what a test hands the verifier.
 * It records the method and path of every request (never bodies or query values).
 */

export interface StaticResponse {
  readonly status?: number;
  /** Sent in this order, one header line per pair (so duplicate Content-Type lines stay duplicates). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

export interface ServedRequest {
  readonly method: string;
  /** Path without the query string (query values may hold card data in a real submission). */
  readonly path: string;
}

export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Every request received so far, in order. */
  readonly requests: readonly ServedRequest[];
  /** Serve `response` at `path` (exact match on the path, query ignored). */
  set(path: string, response: StaticResponse): void;
  close(): Promise<void>;
}

/** What a path nobody set answers: an empty page, so a form submission or a self frame lands somewhere. */
const EMPTY_PAGE: StaticResponse = {
  status: 404,
  headers: [['content-type', 'text/html; charset=utf-8']],
  body: new Uint8Array(0),
};

export async function startStaticServer(initial: Iterable<[string, StaticResponse]> = []): Promise<StaticServer> {
  const routes = new Map<string, StaticResponse>(initial);
  const requests: ServedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = pathOf(req);
    requests.push({ method: req.method ?? 'GET', path });
    // Drain any request body without looking at it: a submitted form may carry card fields.
    req.resume();
    req.on('end', () => send(res, routes.get(path) ?? EMPTY_PAGE, req.method === 'HEAD'));
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    requests,
    set: (path, response) => void routes.set(path, response),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return q < 0 ? raw : raw.slice(0, q);
}

function send(res: ServerResponse, response: StaticResponse, headOnly: boolean): void {
  // A flat [name, value, name, value…] list is written as given: Node neither merges nor reorders it.
  const flat: string[] = [];
  for (const [name, value] of response.headers) flat.push(name, value);
  flat.push('content-length', String(response.body.byteLength));
  res.writeHead(response.status ?? 200, flat);
  res.end(headOnly ? undefined : response.body);
}

/*
 * An upstream that records exactly the bytes payguard sends it and splits them into requests with a
 * strict RFC 9112 reader of its own (not Node's), noting every framing ambiguity it meets: both
 * Content-Length and Transfer-Encoding, two Content-Lengths, a Transfer-Encoding other than exactly
 * `chunked`, obs-fold, a bare LF. A request smuggled past payguard shows up here as a request payguard
 * never answered, or as an ambiguity a lenient server behind it could read differently.
 * Each request is answered with a small `text/plain; nosniff` response (a non-document, so the answer
 * itself is not what is being tested).
 */

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

const RECORDED_ANSWER = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-content-type-options: nosniff\r\ncontent-length: 2\r\n\r\nok', 'latin1');

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const requests: UpstreamRequest[] = [];
  const raw: Buffer[] = [];
  const unparsable: string[] = [];
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
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
        socket.write(RECORDED_ANSWER);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listenOnLoopback(server);
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
