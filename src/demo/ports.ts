/**
 * Port choice for the demo. Every address must be known before anything starts, because the
 * signed policy names payguard's public origin as its `site`. A taken default port is not an
 * error on a newcomer's machine: the demo takes a free one and says so.
 */
import { createServer } from 'node:net';

export interface ChosenPort {
  readonly port: number;
  /** Set when the wanted port was taken and another was picked. */
  readonly fellBackFrom?: number;
}

export async function choosePort(host: string, wanted: number): Promise<ChosenPort> {
  if (wanted === 0) return { port: await probe(host, 0) };
  try {
    return { port: await probe(host, wanted) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' && (err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    return { port: await probe(host, 0), fellBackFrom: wanted };
  }
}

/** Binds and releases `port` (0: any free one) and returns the port that was bound. */
function probe(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port for every service, all distinct. A probe releases its port, so a later probe of 0 may be
 * handed the same one again; such a duplicate (or the same port asked twice) is re-picked.
 */
export async function chooseAll<K extends string>(host: string, wanted: Record<K, number>): Promise<Record<K, ChosenPort>> {
  const chosen = {} as Record<K, ChosenPort>;
  const taken = new Set<number>();
  for (const name of Object.keys(wanted) as K[]) {
    let pick = await choosePort(host, wanted[name]);
    for (let attempt = 0; taken.has(pick.port) && attempt < 20; attempt++) {
      pick = { port: await probe(host, 0), fellBackFrom: wanted[name] };
    }
    taken.add(pick.port);
    chosen[name] = pick;
  }
  return chosen;
}
