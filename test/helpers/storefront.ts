/**
 * A scriptable storefront for proxy tests: real HTTP on 127.0.0.1, port 0. Each path answers
 * with given bytes, headers (duplicates kept, as separate lines) and status, optionally in chunks,
 * slowly, or as raw bytes on the socket for responses no well-behaved server would send.
 * It records what reached it (headers, whether a request was cut off) so tests can check what
 * payguard forwarded. WebSocket upgrades get a minimal RFC 6455 echo.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

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

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
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
