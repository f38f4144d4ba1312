/**
 * A small pool of verifier worker threads with a time limit per verification. The verifier is
 * synchronous: a pathological page would otherwise hold the event loop. A worker over its limit is
 * terminated and replaced, and the page is refused (`inspection-timeout`), never served unverified.
 *
 * The limit covers verification only: workers are started ahead of need and a task is handed only
 * to a worker that has finished loading, because loading the verifier (parse5 and friends) on a busy
 * machine can take longer than a verification limit, and a cold replacement that timed out in turn
 * would never recover.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VerifyRefusal } from '../../errors.js';
import type { CompiledPolicy } from '../../policy/compiled.js';
import type { Policy } from '../../policy/model.js';
import type { InspectReply, InspectRequest, WorkerReady } from './protocol.js';

/** A page to verify, under a compiled policy (its id names it to the workers, which keep their copy). */
export type InspectTask = Omit<InspectRequest, 'id' | 'policyId' | 'policy'> & { readonly policy: CompiledPolicy };
export type InspectSuccess = Extract<InspectReply, { ok: true }>;

interface Pending {
  readonly request: Omit<InspectRequest, 'policy'>;
  readonly policy: Policy;
  readonly resolve: (reply: InspectSuccess) => void;
  readonly reject: (err: Error) => void;
  /** Bounds the wait for a free worker (overload is refused, not queued forever). */
  queueTimer: NodeJS.Timeout | undefined;
}

interface Slot {
  worker: Worker | undefined;
  ready: boolean;
  policyId: number;
  current: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
  /** When the last worker of this slot failed to start; respawns are spaced out after that. */
  failedAt: number;
}

/** A task may wait this many verification limits (at least 5 s) for a free worker before it is refused. */
const QUEUE_LIMITS = 10;
const MIN_QUEUE_LIMIT_MS = 5_000;
const RESPAWN_BACKOFF_MS = 1_000;

/**
 * Each worker is a V8 isolate with its own heap, whose young generation is by default sized as if
 * it were the whole process (up to 3 × 16 MB semi-spaces on 64-bit). A verification's garbage is
 * short-lived (the parse5 DOM of one page), so a young generation of 8 MB holds it just as well:
 * measured on the 100 KB checkout, a worker's heap peaks at ~26 MB instead of ~48 MB for the same
 * CPU per page (4 MB costs ~25% more CPU and more heap, from promotions). docs/bench.md, peak RSS.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 8 };

export class VerifyPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  readonly #timeoutMs: number;
  readonly #queueLimitMs: number;
  readonly #script: URL;
  #nextId = 1;
  #closed = false;

  constructor(size: number, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#queueLimitMs = Math.max(timeoutMs * QUEUE_LIMITS, MIN_QUEUE_LIMIT_MS);
    this.#script = workerScript();
    for (let i = 0; i < Math.max(1, size); i++) {
      const slot: Slot = { worker: undefined, ready: false, policyId: -1, current: undefined, timer: undefined, failedAt: -Infinity };
      this.#slots.push(slot);
      this.#spawn(slot);
    }
  }

  inspect(task: InspectTask): Promise<InspectSuccess> {
    if (this.#closed) return Promise.reject(new VerifyRefusal('internal-error', 'verifier pool is closed'));
    const { policy, ...rest } = task;
    return new Promise<InspectSuccess>((resolve, reject) => {
      const request = { ...rest, id: this.#nextId++, policyId: policy.id };
      const pending: Pending = { request, policy: policy.policy, resolve, reject, queueTimer: undefined };
      pending.queueTimer = setTimeout(() => this.#queueTimedOut(pending), this.#queueLimitMs);
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) {
      clearTimeout(pending.queueTimer);
      pending.reject(new VerifyRefusal('internal-error', 'verifier pool closed'));
    }
    await Promise.all(
      this.#slots.map(async (slot) => {
        this.#settle(slot)?.reject(new VerifyRefusal('internal-error', 'verifier pool closed'));
        const worker = slot.worker;
        slot.worker = undefined;
        worker?.removeAllListeners();
        await worker?.terminate();
      }),
    );
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.worker) this.#spawn(slot);
      if (!slot.worker || !slot.ready || slot.current) continue;
      const pending = this.#queue.shift()!;
      clearTimeout(pending.queueTimer);
      slot.current = pending;
      const message: InspectRequest =
        slot.policyId === pending.request.policyId ? pending.request : { ...pending.request, policy: pending.policy };
      slot.policyId = pending.request.policyId;
      slot.timer = setTimeout(() => this.#timedOut(slot), this.#timeoutMs);
      slot.worker.postMessage(message);
    }
  }

  #queueTimedOut(pending: Pending): void {
    const index = this.#queue.indexOf(pending);
    if (index < 0) return;
    this.#queue.splice(index, 1);
    pending.reject(new VerifyRefusal('inspection-timeout', `no verifier free within ${this.#queueLimitMs} ms`));
  }

  #settle(slot: Slot): Pending | undefined {
    const pending = slot.current;
    slot.current = undefined;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    return pending;
  }

  #timedOut(slot: Slot): void {
    const pending = this.#settle(slot);
    this.#discardWorker(slot);
    pending?.reject(new VerifyRefusal('inspection-timeout', `verification took longer than ${this.#timeoutMs} ms`));
    // A worker that loaded once will load again: replace it now, warm, before the next page needs it.
    this.#spawn(slot);
    this.#dispatch();
  }

  #discardWorker(slot: Slot): void {
    const old = slot.worker;
    slot.worker = undefined;
    slot.ready = false;
    slot.policyId = -1;
    if (!old) return;
    old.removeAllListeners();
    old.on('error', () => undefined);
    // The thread may be stuck in a loop: terminate() stops it at its next interrupt check.
    void old.terminate();
  }

  #spawn(slot: Slot): void {
    // Monotonic: with Date.now() a wall clock set back an hour would hold every respawn for that hour.
    if (this.#closed || slot.worker || performance.now() - slot.failedAt < RESPAWN_BACKOFF_MS) return;
    const worker = new Worker(this.#script, { resourceLimits: WORKER_HEAP });
    slot.worker = worker;
    slot.ready = false;
    // Idle workers must not keep a finished process alive.
    worker.unref();
    worker.on('message', (message: InspectReply | WorkerReady) => {
      if (slot.worker !== worker) return;
      if ('ready' in message) {
        slot.ready = true;
        this.#dispatch();
        return;
      }
      if (slot.current?.request.id !== message.id) return;
      const pending = this.#settle(slot)!;
      if (message.ok) pending.resolve(message);
      else pending.reject(new VerifyRefusal(message.refusal ?? 'internal-error', message.message));
      this.#dispatch();
    });
    const fail = (err: unknown): void => {
      if (slot.worker !== worker) return;
      const failure = (): VerifyRefusal => new VerifyRefusal('internal-error', `verifier worker failed: ${err instanceof Error ? err.message : String(err)}`);
      const neverLoaded = !slot.ready;
      if (neverLoaded) slot.failedAt = performance.now();
      const pending = this.#settle(slot);
      this.#discardWorker(slot);
      pending?.reject(failure());
      // No worker can load (a broken build): refuse what waits now rather than at its queue limit.
      if (neverLoaded && !this.#slots.some((s) => s.ready)) {
        for (const waiting of this.#queue.splice(0)) {
          clearTimeout(waiting.queueTimer);
          waiting.reject(failure());
        }
      }
      if (this.#queue.length > 0) setTimeout(() => this.#dispatch(), RESPAWN_BACKOFF_MS).unref();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }
}

/**
 * The compiled worker beside this module. Under vitest this module runs from TypeScript source,
 * and a worker thread cannot load .ts on Node 20, so the compiled copy in dist/ (`npx tsc -p
 * tsconfig.json`) is used.
 */
function workerScript(): URL {
  const sibling = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const compiled = new URL('../../../dist/src/proxy/workers/worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return compiled;
  throw new Error(`verifier worker not found at ${fileURLToPath(sibling)}: build with "npx tsc -p tsconfig.json"`);
}
