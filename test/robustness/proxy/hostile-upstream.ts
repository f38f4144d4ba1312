/**
 * The fuzz's storefront: raw `net` sockets on 127.0.0.1, so a response can be anything a broken or
 * hostile server writes (Node's http server would refuse to send most of it). Each request names
 * its plan in `X-Fuzz-Case`; the plan's bytes are written on the schedule it gives.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from '../../helpers/upstreams.js';
import { renderResponse, type ResponsePlan } from './response-plan.js';

export const CASE_HEADER = 'x-fuzz-case';

/** A request head bigger than this is not from payguard: the socket is closed. */
const MAX_HEAD_BYTES = 256 * 1024;

export interface HostileUpstream {
  readonly origin: string;
  /** Registers the plan the next request carrying `id` is answered with. */
  plan(id: string, plan: ResponsePlan): void;
  /** Requests that arrived for `id` (0 when payguard answered without asking the upstream). */
  arrivals(id: string): number;
  /**
   * Resolves when every exchange for `id` is over on the upstream side (response written and the
   * socket closed, or kept open for the next request): by then payguard has seen all it will.
   */
  settled(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHostileUpstream(): Promise<HostileUpstream> {
  const plans = new Map<string, ResponsePlan>();
  const arrivals = new Map<string, number>();
  const exchanges = new Map<string, Promise<void>[]>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serveConnection(socket, (id, done) => {
      arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
      exchanges.set(id, [...(exchanges.get(id) ?? []), done]);
      return plans.get(id);
    });
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    plan: (id, plan) => void plans.set(id, plan),
    arrivals: (id) => arrivals.get(id) ?? 0,
    settled: async (id) => void (await Promise.all(exchanges.get(id) ?? [])),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads request heads off one connection and answers each; keep-alive only when the plan says so. */
function serveConnection(socket: Socket, planFor: (id: string, done: Promise<void>) => ResponsePlan | undefined): void {
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let buffered = Buffer.alloc(0);
  let busy = false;
  const next = (): void => {
    if (busy || socket.destroyed) return;
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buffered.length > MAX_HEAD_BYTES) socket.destroy();
      return;
    }
    const head = buffered.subarray(0, end).toString('latin1');
    const bodyLength = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const chunkedBody = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
    if (buffered.length < end + 4 + bodyLength) return;
    buffered = buffered.subarray(end + 4 + bodyLength);
    const id = /\r\nx-fuzz-case:\s*([^\r]+)/i.exec(head)?.[1]?.trim() ?? '';
    busy = true;
    let delivered: (keepOpen: boolean) => void = () => undefined;
    const done = new Promise<boolean>((resolve) => (delivered = resolve)).then((keepOpen) => (keepOpen ? undefined : closed));
    const plan = planFor(id, done);
    void deliver(socket, plan).then((keepOpen) => {
      delivered(keepOpen);
      busy = false;
      // A chunked request body was not parsed: the connection cannot be reused safely.
      if (keepOpen && !chunkedBody) next();
      else if (keepOpen) socket.end();
    });
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    next();
  });
}

/** Writes the plan's bytes on its schedule; true when the connection stays open for another request. */
async function deliver(socket: Socket, plan: ResponsePlan | undefined): Promise<boolean> {
  if (!plan) {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return false;
  }
  const bytes = renderResponse(plan);
  const limit = plan.ending === 'drop' ? Math.floor(bytes.length * plan.dropAt) : bytes.length;
  const cuts = [...plan.drip].sort((a, b) => a.at - b.at);
  let offset = 0;
  for (const cut of cuts) {
    const to = Math.min(limit, Math.floor(bytes.length * cut.at));
    if (to > offset) socket.write(bytes.subarray(offset, to));
    offset = Math.max(offset, to);
    await pause(cut.delayMs);
    if (socket.destroyed) return false;
  }
  if (limit > offset) socket.write(bytes.subarray(offset, limit));
  switch (plan.ending) {
    case 'close':
      socket.end();
      return false;
    case 'drop':
      // A TCP reset mid-response, as a crashed upstream process gives.
      socket.resetAndDestroy();
      return false;
    case 'stall':
      // Nothing more, and no close: only payguard's timeout ends this.
      return false;
    case 'keep-open':
      return true;
  }
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
