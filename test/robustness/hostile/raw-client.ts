/**
 * A client that writes bytes no HTTP library would send and reads every response payguard sends on
 * that connection: until payguard closes it, or, once a response has arrived, until the connection
 * has been quiet for `quietMs` (keep-alive connections stay open). It does not half-close: Node's
 * server aborts requests in flight when the client's side ends (httpAllowHalfOpen is off).
 * Bounded: cut after `timeoutMs`.
 */
import { connect } from 'node:net';

export interface RawExchange {
  /** Everything payguard sent back. */
  readonly text: string;
  /** The status code of each response, in order. */
  readonly statuses: number[];
  /** True when the connection had to be cut because payguard neither answered nor closed. */
  readonly timedOut: boolean;
}

/**
 * `settled`, when given, must also hold before a quiet connection is cut (e.g. "as many responses
 * as the storefront saw requests", so a slow machine does not cut off a late response).
 */
export function exchange(baseUrl: string, bytes: string | Buffer, timeoutMs = 10_000, quietMs = 750, settled?: (statuses: number[]) => boolean): Promise<RawExchange> {
  const url = new URL(baseUrl);
  return new Promise<RawExchange>((resolve, reject) => {
    let text = '';
    let timedOut = false;
    let quiet: NodeJS.Timeout | undefined;
    const armQuiet = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(() => (settled === undefined || settled(statusCodes(text)) ? socket.destroy() : armQuiet()), quietMs);
    };
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    const timer = setTimeout(() => {
      timedOut = statusCodes(text).length === 0;
      socket.destroy();
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      clearTimeout(quiet);
      if (statusCodes(text).length > 0) armQuiet();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(quiet);
      resolve({ text, statuses: statusCodes(text), timedOut });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the answer (payguard closing a connection it refused) still leaves what was read.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
  });
}

/** Status codes of the responses in a raw byte stream (the test bodies never contain a status line). */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}
