/**
 * A verifier worker thread. The verifier is synchronous and pure; it runs here so that a page that
 * takes too long can be stopped (the pool terminates this thread) without stalling the event loop
 * that serves everyone else.
 */
import { parentPort } from 'node:worker_threads';
import { VerifyRefusal } from '../../errors.js';
import type { Policy } from '../../policy/model.js';
import { rewriteDocument, verifyDocument } from '../../verify/index.js';
import type { DocumentInput, VerifiedDocument } from '../../verify/types.js';
import { addScriptIntegrity } from '../../verify/sri-attributes.js';
import type { InspectReply, InspectRequest, WorkerReady } from './protocol.js';

let policyId = -1;
let policy: Policy | undefined;

parentPort?.on('message', (request: InspectRequest) => {
  parentPort!.postMessage(inspect(request));
});
warmUp();
// Static imports above have loaded and the verifier has run once: the pool may start timing this worker's tasks.
parentPort?.postMessage({ ready: true } satisfies WorkerReady);

/**
 * One verification of a small page before taking real ones: the first run of the parser and the
 * finders pays for lazy compilation, which on a busy machine can by itself exceed a page's limit.
 */
function warmUp(): void {
  const warmPolicy: Policy = {
    schema: 1,
    serial: 1,
    site: 'https://warm-up.invalid',
    routes: [{ path: '/**', mode: 'block' }],
    allow: { form: [], script: [], frame: [], navigate: [], connect: [], image: [], style: [], font: [], media: [], manifest: [], inline: [] },
    defaultCharset: 'windows-1252',
  };
  const page =
    '<!DOCTYPE html><html><head><meta charset="utf-8"><base href="/"><script src="/a.js"></script>' +
    '<script>var x = 1;</script><link rel="modulepreload" href="/m.js"></head><body onload="x()">' +
    '<form action="/pay" method="post"><input name="card"><button formaction="/b">Pay</button></form>' +
    '<iframe src="/f"></iframe><object data="/o"></object><a href="javascript:void 0">x</a>' +
    '<style>p{background:url(/b.png)}</style><img src="/i.png" srcset="/i2.png 2x"><p style="background:url(/c.png)">c</p>' +
    '<svg><script href="/s.js"></script></svg><template><form action="/t"></form></template></body></html>';
  try {
    verifyDocument({ bytes: new TextEncoder().encode(page.repeat(4)), url: 'https://warm-up.invalid/', headers: [['content-type', 'text/html; charset=utf-8']], policy: warmPolicy, mode: 'block' });
  } catch {
    // A warm-up that fails says nothing about real pages; their own verification reports properly.
  }
}

function inspect(request: InspectRequest): InspectReply {
  if (request.policy) {
    policyId = request.policyId;
    policy = request.policy;
  }
  if (!policy || policyId !== request.policyId) {
    return { id: request.id, ok: false, message: 'worker has no policy for this request' };
  }
  const input: DocumentInput = {
    bytes: request.bytes,
    url: request.url,
    headers: request.headers,
    policy,
    mode: request.mode,
  };
  try {
    const verified = verifyDocument(input);
    if (!request.rewrite || verified.violations.length === 0) return { id: request.id, ok: true, verified, ...withSri(input, verified) };
    const rewritten = rewriteDocument(input, verified, { sinkPath: request.sinkPath });
    const pinned = addScriptIntegrity({ ...input, bytes: rewritten.bytes }, rewritten.verified);
    return { id: request.id, ok: true, verified, rewritten: pinned ? { ...rewritten, bytes: pinned } : rewritten };
  } catch (err) {
    if (err instanceof VerifyRefusal) return { id: request.id, ok: false, refusal: err.reason, message: err.message };
    return { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** Third-party scripts the policy pins get integrity and crossorigin attributes (docs/second-layer.md). */
function withSri(input: DocumentInput, verified: VerifiedDocument): { sri?: Uint8Array } {
  const sri = addScriptIntegrity(input, verified);
  return sri ? { sri } : {};
}
