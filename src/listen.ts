/**
 * Starting an HTTP server, shared by payguard's public port, its admin port and the demo sites:
 * resolve once listening, reject with the listen error (EADDRINUSE, EACCES…) so the caller can
 * say what is wrong, and return the URL it is reachable at.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from './errors.js';

/** Where a server listens. Port 0 picks a free port (tests). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * `HOST:PORT` from the command line: `127.0.0.1:8080`, `[::1]:8080` (IPv6 in brackets, as in a URL).
 * With a `defaultHost`, `:8080` and `8080` mean that host; without one, the host is required.
 */
export function parseListenAddress(flag: string, text: string, defaultHost?: string): ListenAddress {
  const withHost = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text);
  const portOnly = /^\d{1,5}$/.test(text);
  const host = withHost ? (withHost[1] ?? (withHost[2] || defaultHost)) : portOnly ? defaultHost : undefined;
  const port = Number(withHost ? withHost[3] : text);
  if (host === undefined || port > 65535) {
    throw new UsageError(`${flag} must be HOST:PORT (e.g. 127.0.0.1:8080), got "${text}"`);
  }
  return { host, port };
}

export async function listenOn(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return urlOf(server.address() as AddressInfo);
}

export function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
