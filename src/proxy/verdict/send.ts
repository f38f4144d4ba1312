/**
 * Writing the response the decision chose: the upstream's own bytes (clean, reported, passed), the
 * rewritten page, or nothing of the upstream at all (block, see block-page.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HeaderList } from '../../verify/types.js';
import { headerValues, toOutgoingHeaders } from '../http/header-list.js';
import { clientWentAway } from '../http/client-gone.js';
import { hopByHopNames } from '../http/hop-by-hop.js';

/** The upstream body as payguard holds it when the verdict is reached. */
export type HeldBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'buffered'; readonly bytes: Buffer }
  /** The first chunks were read (to sniff, or up to the cap on a report route); the rest still flows. */
  | { readonly kind: 'stream'; readonly head: readonly Buffer[]; readonly rest: Readable };

/** Response headers to pass on: the upstream's minus hop-by-hop ones, Set-Cookie kept as separate lines. */
export function passOnHeaders(upstream: HeaderList, alsoDrop: readonly string[] = []): [string, string][] {
  const drop = new Set(hopByHopNames(headerValues(upstream, 'connection')));
  for (const name of alsoDrop) drop.add(name);
  return upstream.filter(([name]) => !drop.has(name)).map(([n, v]) => [n, v]);
}

/** Headers a rewritten body makes false: its length, validators and digests of the original bytes. */
export const INVALIDATED_BY_REWRITE = [
  'content-length',
  'content-encoding',
  'content-type',
  'etag', // dropped rather than weakened: a weak match would let the upstream answer 304 for the original
  'content-md5',
  'digest',
  'content-digest',
  'repr-digest',
  'accept-ranges',
];

export async function sendResponse(
  res: ServerResponse,
  status: number,
  headers: readonly (readonly [string, string])[],
  body: HeldBody,
  headOnly: boolean,
): Promise<void> {
  res.writeHead(status, toOutgoingHeaders(headers));
  if (body.kind === 'none') {
    res.end();
    return;
  }
  if (headOnly) {
    if (body.kind === 'stream') body.rest.destroy();
    res.end();
    return;
  }
  if (body.kind === 'buffered') {
    res.end(body.bytes);
    return;
  }
  for (const chunk of body.head) {
    if (!res.write(chunk)) await drained(res);
  }
  // pipeline: backpressure (pauses the upstream while the client's socket is full) and, when the
  // client goes away, destroys the upstream body, which aborts the upstream request.
  try {
    await pipeline(body.rest, res);
  } catch (err) {
    // The client went away mid-body: the upstream is already aborted, nothing is wrong with payguard.
    if (clientWentAway(res, err)) return;
    throw err;
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
