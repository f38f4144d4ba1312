/**
 * A global bound on the document bytes payguard holds for inspection. A document is buffered whole
 * (raw, and decoded when it was content-coded) until a worker has judged it; with hundreds of
 * connections and only two workers, most of those bodies just wait, and resident memory grew with
 * the connection count (339 MB at 256 connections of 100 KB pages, docs/bench.md). Here a request
 * is admitted onto the document path only while the bytes held by those already admitted are under
 * the budget; the others wait before anything is fetched from the upstream (the storefront is not
 * asked for pages nobody can inspect yet), first come first served.
 *
 * Admitted requests always run to their end, so the oldest ones always progress (no deadlock when
 * the budget is spent); the budget can be overshot by the pages already admitted, never by new ones.
 * A request that cannot be admitted within the wait limit is refused (`inspection-timeout`): on a
 * protected route that is a block, never a page served unverified.
 */
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';

/**
 * What an admitted request is counted for before its body is read (limits.ts). With the default
 * budget that admits as many requests waiting on the upstream as the upstream pool has connections,
 * so a storefront slow to answer is not throttled more than it already was, while pages that have
 * arrived count for their real size.
 */
const RESERVED_BYTES = LIMITS.inspectionReservationBytes;

export interface InspectionTicket {
  /** The bytes this request holds now (raw plus decoded body); replaces the previous figure. */
  hold(bytes: number): void;
  /** Done holding (sent, blocked, or streaming on unbuffered); idempotent. */
  release(): void;
}

interface Waiter {
  readonly admit: () => void;
  readonly refuse: (err: Error) => void;
}

export class InspectionBudget {
  readonly #maxBytes: number;
  readonly #waitLimitMs: number;
  readonly #waiting: Waiter[] = [];
  #heldBytes = 0;
  #admitted = 0;

  constructor(maxBytes: number, waitLimitMs: number) {
    this.#maxBytes = maxBytes;
    this.#waitLimitMs = waitLimitMs;
  }

  /** Bytes held by admitted requests (reserved or read), for tests and metrics. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves with a ticket once there is room; rejects with VerifyRefusal('inspection-timeout')
   * after the wait limit, or with the signal's reason when the client goes away meanwhile.
   */
  admit(signal: AbortSignal): Promise<InspectionTicket> {
    if (this.#waiting.length === 0 && this.#hasRoom()) return Promise.resolve(this.#ticket());
    return new Promise<InspectionTicket>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
      };
      const waiter: Waiter = {
        admit: () => {
          leave();
          resolve(this.#ticket());
        },
        refuse: (err) => {
          leave();
          reject(err);
        },
      };
      const onAbort = (): void => waiter.refuse(signal.reason instanceof Error ? signal.reason : new Error('client went away'));
      const timer = setTimeout(
        () => waiter.refuse(new VerifyRefusal('inspection-timeout', `no room to inspect within ${this.#waitLimitMs} ms (${this.#maxBytes} bytes held)`)),
        this.#waitLimitMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #hasRoom(): boolean {
    // With nothing admitted, anything fits: a page larger than the budget must still be served.
    return this.#admitted === 0 || this.#heldBytes + RESERVED_BYTES <= this.#maxBytes;
  }

  #ticket(): InspectionTicket {
    let counted = RESERVED_BYTES;
    let released = false;
    this.#admitted += 1;
    this.#heldBytes += counted;
    return {
      hold: (bytes) => {
        if (released) return;
        const next = Math.max(bytes, RESERVED_BYTES);
        this.#heldBytes += next - counted;
        const shrank = next < counted;
        counted = next;
        if (shrank) this.#admitNext();
      },
      release: () => {
        if (released) return;
        released = true;
        this.#admitted -= 1;
        this.#heldBytes -= counted;
        this.#admitNext();
      },
    };
  }

  #admitNext(): void {
    while (this.#waiting.length > 0 && this.#hasRoom()) this.#waiting[0]!.admit();
  }
}
