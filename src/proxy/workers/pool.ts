/**
 * A small pool of verifier worker threads with a time limit per verification. The verifier is
 * synchronous: a pathological page would otherwise hold the event loop. A worker over its limit is
 * terminated and replaced, and the page is refused (`inspection-timeout`), never served unverified.
 *
 * The limit covers verification only: workers are started ahead of need and a task is handed only
 * to a worker that has finished loading, because loading the verifier (parse5 and friends) on a busy
 * machine can take longer than a verification limit, and a cold replacement that timed out in turn
 * would never recover.
 *
 * Two lanes share the workers. Enforced pages (`inspect`) queue, first come first served, up to the
 * queue wait limit. Shadow-policy pages (`inspectInShadow`) are a lower lane that never queues: see
 * `inspectInShadow` for why a saturated shadow cannot change an enforced verdict.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { CompiledPolicy } from '../../policy/compiled.js';
import type { Policy } from '../../policy/model.js';
import type { InspectReply, InspectRequest, WorkerReady } from './protocol.js';

/** A page to verify, under a compiled policy (its id names it to the workers, which keep their copy). */
export type InspectTask = Omit<InspectRequest, 'id' | 'policyId' | 'policy'> & { readonly policy: CompiledPolicy };
export type InspectSuccess = Extract<InspectReply, { ok: true }>;

/** Enforced pages decide the response; shadow pages are judged under a candidate policy only. */
type Lane = 'enforced' | 'shadow';

/**
 * Why a shadow verification was not started: the closed set of `reason` values of
 * payguard_shadow_skipped_total, checked in this order (the first that applies is the one counted):
 * `enforced-waiting`, an enforced page is waiting for a worker and goes first; `shadow-in-flight`,
 * LIMITS.shadowVerificationsInFlight shadow verifications are running already; `no-idle-worker`,
 * every loaded worker is verifying (or none has loaded yet).
 */
export const SHADOW_SKIP_REASONS = ['enforced-waiting', 'shadow-in-flight', 'no-idle-worker'] as const;
export type ShadowSkipReason = (typeof SHADOW_SKIP_REASONS)[number];

/** A shadow verification started (its reply), or skipped (why). */
export type ShadowAttempt =
  | { readonly started: true; readonly reply: Promise<InspectSuccess> }
  | { readonly started: false; readonly reason: ShadowSkipReason };

/** What the workers are doing now (the shadow lane's tests read it). */
export interface PoolLoad {
  readonly enforcedWaiting: number;
  readonly enforcedVerifying: number;
  readonly shadowVerifying: number;
  /** Loaded workers with nothing to do. */
  readonly idleWorkers: number;
}

interface Pending {
  readonly lane: Lane;
  readonly request: Omit<InspectRequest, 'policy'>;
  readonly policy: Policy;
  readonly resolve: (reply: InspectSuccess) => void;
  readonly reject: (err: Error) => void;
  /** Bounds the wait for a free worker (overload is refused, not queued forever). Enforced lane only. */
  queueTimer: NodeJS.Timeout | undefined;
  /** performance.now() when a worker took it. */
  startedAt: number;
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

/**
 * Each worker is a V8 isolate with its own heap, whose young generation is by default sized as if
 * it were the whole process (up to 3 × 16 MB semi-spaces on 64-bit). A verification's garbage is
 * short-lived (the parse5 DOM of one page), so a young generation of 8 MB
 * (LIMITS.workerYoungGenerationMb) holds it just as well: measured on the 100 KB checkout, a
 * worker's heap peaks at ~26 MB instead of ~48 MB for the same CPU per page (4 MB costs ~25% more
 * CPU and more heap, from promotions). docs/bench.md, peak RSS.
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: LIMITS.workerYoungGenerationMb };

export class VerifyPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  readonly #timeoutMs: number;
  readonly #queueLimitMs: number;
  readonly #shadowInFlight: number;
  readonly #script: URL;
  #nextId = 1;
  #closed = false;

  /** `shadowInFlight` is LIMITS.shadowVerificationsInFlight; a test may set another cap. */
  constructor(size: number, timeoutMs: number, shadowInFlight: number = LIMITS.shadowVerificationsInFlight) {
    this.#timeoutMs = timeoutMs;
    // A task may wait this many verification limits (at least 5 s) for a free worker before it is refused.
    this.#queueLimitMs = Math.max(timeoutMs * LIMITS.queueWaitLimits, LIMITS.minQueueWaitMs);
    this.#shadowInFlight = Math.max(0, shadowInFlight);
    this.#script = workerScript();
    for (let i = 0; i < Math.max(1, size); i++) {
      const slot: Slot = { worker: undefined, ready: false, policyId: -1, current: undefined, timer: undefined, failedAt: -Infinity };
      this.#slots.push(slot);
      this.#spawn(slot);
    }
  }

  /** An enforced page: waits for a worker (up to the queue wait limit), ahead of every shadow page. */
  inspect(task: InspectTask): Promise<InspectSuccess> {
    if (this.#closed) return Promise.reject(new VerifyRefusal('internal-error', 'verifier pool is closed'));
    return new Promise<InspectSuccess>((resolve, reject) => {
      const pending = this.#pending('enforced', task, resolve, reject);
      // The wait a shadow verification already running can add (see inspectInShadow) is given back.
      pending.queueTimer = setTimeout(() => this.#queueTimedOut(pending), this.#queueLimitMs + this.#shadowHoldMs());
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /**
   * A shadow-policy page: started now on an idle worker, or not at all. It never queues, and it
   * starts only while no enforced page waits and fewer than `shadowInFlight` shadow pages run.
   *
   * Why a saturated shadow cannot change an enforced verdict. An enforced page E is refused by the
   * pool only for waiting longer than the queue limit (10 verify time limits, at least 5 s: 20 s
   * with the default 2 s limit), or for its own verification going over the time limit T. The
   * second is E's own work in its own worker, which no shadow touches. For the first: no shadow
   * starts while an enforced page waits, so every shadow verification that holds a worker while E
   * waits was already running when E arrived, and it ends, or is terminated, within T of its start.
   * Those are at most `shadowInFlight` (1) verifications, all over within T of E's arrival, after
   * which the workers serve enforced pages alone, in the same order as with no shadow: E starts at
   * most T later than it would have without a shadow. E's queue limit is extended by exactly what is
   * left of those T (`#shadowHoldMs`), so E is refused for waiting only if it would have been
   * without the shadow. Even without that extension the shadow's share is at most T against a wait
   * limit of at least 10 T (2 s of 20 s).
   *
   * What the cap bounds besides: a skipped shadow page holds nothing, so the decoded copies the
   * shadow keeps are at most `shadowInFlight` documents (a queue would have held one per response,
   * outside the inspection budget). The one cost this does not bound is a worker terminated over a
   * shadow verification (the candidate made a page slower than T, when the enforced pass of the
   * same bytes was not): its replacement loads as after any time-out, and `shadow-failed` logs it.
   */
  inspectInShadow(task: InspectTask): ShadowAttempt {
    if (this.#closed) return { started: true, reply: Promise.reject(new VerifyRefusal('internal-error', 'verifier pool is closed')) };
    if (this.#queue.length > 0) return { started: false, reason: 'enforced-waiting' };
    if (this.#running('shadow') >= this.#shadowInFlight) return { started: false, reason: 'shadow-in-flight' };
    const slot = this.#idleSlotForShadow(task.policy.id);
    if (!slot?.worker) return { started: false, reason: 'no-idle-worker' };
    const worker = slot.worker;
    const reply = new Promise<InspectSuccess>((resolve, reject) => this.#start(slot, worker, this.#pending('shadow', task, resolve, reject)));
    return { started: true, reply };
  }

  get load(): PoolLoad {
    return {
      enforcedWaiting: this.#queue.length,
      enforcedVerifying: this.#running('enforced'),
      shadowVerifying: this.#running('shadow'),
      idleWorkers: this.#slots.filter((slot) => slot.worker && slot.ready && !slot.current).length,
    };
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

  #pending(lane: Lane, task: InspectTask, resolve: (reply: InspectSuccess) => void, reject: (err: Error) => void): Pending {
    const { policy, ...rest } = task;
    const request = { ...rest, id: this.#nextId++, policyId: policy.id };
    return { lane, request, policy: policy.policy, resolve, reject, queueTimer: undefined, startedAt: 0 };
  }

  #running(lane: Lane): number {
    let running = 0;
    for (const slot of this.#slots) if (slot.current?.lane === lane) running++;
    return running;
  }

  /**
   * The longest a shadow verification running now can still hold its worker: what it can add to the
   * wait of an enforced page queued now (never more than one time limit; 0 with no shadow running).
   */
  #shadowHoldMs(): number {
    const now = performance.now();
    let hold = 0;
    for (const slot of this.#slots) {
      if (slot.current?.lane === 'shadow') hold = Math.max(hold, slot.current.startedAt + this.#timeoutMs - now);
    }
    return Math.ceil(hold);
  }

  /**
   * An idle worker for a shadow page: one that already holds the candidate policy, else the last
   * idle one. Enforced pages take the first idle worker, so under light load the two policies stay
   * on different workers and neither is sent again (a policy crosses to a worker by structured clone).
   */
  #idleSlotForShadow(policyId: number): Slot | undefined {
    let chosen: Slot | undefined;
    for (const slot of this.#slots) {
      if (!slot.worker || !slot.ready || slot.current) continue;
      if (slot.policyId === policyId) return slot;
      chosen = slot;
    }
    return chosen;
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.worker) this.#spawn(slot);
      if (!slot.worker || !slot.ready || slot.current) continue;
      const pending = this.#queue.shift()!;
      clearTimeout(pending.queueTimer);
      this.#start(slot, slot.worker, pending);
    }
  }

  /** Hands a task to a loaded, idle worker; its verification time limit starts now. */
  #start(slot: Slot, worker: Worker, pending: Pending): void {
    slot.current = pending;
    pending.startedAt = performance.now();
    const message: InspectRequest =
      slot.policyId === pending.request.policyId ? pending.request : { ...pending.request, policy: pending.policy };
    slot.policyId = pending.request.policyId;
    slot.timer = setTimeout(() => this.#timedOut(slot), this.#timeoutMs);
    worker.postMessage(message);
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
    if (this.#closed || slot.worker || performance.now() - slot.failedAt < LIMITS.workerRespawnBackoffMs) return;
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
      if (this.#queue.length > 0) setTimeout(() => this.#dispatch(), LIMITS.workerRespawnBackoffMs).unref();
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
