/**
 * Starting an HTTP server, shared by payguard's public port, its admin port and the demo sites:
 * resolve once listening, reject with the listen error (EADDRINUSE, EACCES…) so the caller can
 * say what is wrong, and return the URL it is reachable at.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
