/**
 * Reading an upstream body into memory for inspection, with a cap. Chunks are kept in a list and
 * joined once (an interceptor that concatenates per chunk copies O(n²): docs/vectors.md, performance notes B.1 pitfall 3).
 */
import type { Readable } from 'node:stream';

/** The body so far, and whether it ended within the cap. */
export interface BufferedBody {
  readonly chunks: Buffer[];
  readonly length: number;
  /** False when the cap was reached: the rest is still in the stream (for report routes to pass on). */
  readonly complete: boolean;
}

/**
 * Reads `stream` until it ends or more than `maxBytes` are held. Stops at the first chunk past the
 * cap without consuming the rest, so a report-mode route can still stream it on.
 */
export async function readCapped(stream: Readable, maxBytes: number, already?: BufferedBody): Promise<BufferedBody> {
  const chunks = already ? [...already.chunks] : [];
  let length = already?.length ?? 0;
  if (length > maxBytes) return { chunks, length, complete: false };
  if (stream.readableEnded) return { chunks, length, complete: true };
  return new Promise<BufferedBody>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > maxBytes) {
        cleanup();
        stream.pause();
        resolve({ chunks, length, complete: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ chunks, length, complete: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      // 'close' without 'end': the stream was destroyed (the client went away, the upstream reset).
      if (!stream.readableEnded) onError(new Error('upstream body closed before its end'));
    };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
    // A stream paused by an earlier read does not resume when a 'data' listener is added.
    stream.resume();
  });
}

/** Reads until at least `bytes` are held (or the end): enough to sniff (MIME Sniffing §7: 1445 bytes). */
export async function readAtLeast(stream: Readable, bytes: number): Promise<BufferedBody> {
  return readCapped(stream, bytes - 1);
}

export function joined(body: BufferedBody): Buffer {
  return body.chunks.length === 1 ? body.chunks[0]! : Buffer.concat(body.chunks, body.length);
}
