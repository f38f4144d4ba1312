/**
 * Whether an error on a response is the client leaving (a closed tab, a cancelled fetch) rather
 * than a failure of payguard's or the storefront's: the upstream is aborted on the response's
 * 'close', and the abort then surfaces as one of these errors (Node 24 rejects a body pipeline with
 * an AbortError where Node 20 ended it quietly).
 */
import type { ServerResponse } from 'node:http';

const CLIENT_GONE_CODES = new Set(['ABORT_ERR', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'UND_ERR_ABORTED', 'ECONNRESET', 'EPIPE']);

export function clientWentAway(res: ServerResponse, err: unknown): boolean {
  if (res.writableFinished || !(res.closed || res.destroyed)) return false;
  const e = err as { name?: string; code?: string } | undefined;
  return e?.name === 'AbortError' || CLIENT_GONE_CODES.has(e?.code ?? '');
}
