/**
 * Per-client token buckets, held in an LRU so that a flood of distinct addresses cannot grow memory
 * without bound (the oldest idle clients are forgotten, which only ever gives them a full bucket).
 */
import { LRUCache } from 'lru-cache';

interface Bucket {
  tokens: number;
  at: number;
}

export interface BucketOptions {
  /** Tokens a client may spend at once. */
  readonly burst: number;
  /** Tokens added per second, up to `burst`. */
  readonly perSecond: number;
  /** Distinct clients remembered. */
  readonly clients: number;
  /** Milliseconds; injectable so tests need no sleeping. */
  readonly now?: () => number;
}

export class TokenBuckets {
  readonly #buckets: LRUCache<string, Bucket>;
  readonly #now: () => number;

  constructor(readonly options: BucketOptions) {
    this.#buckets = new LRUCache<string, Bucket>({ max: options.clients });
    this.#now = options.now ?? (() => performance.now());
  }

  /** Spends one token of `client`'s bucket; false when it is empty. */
  take(client: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(client) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(client, bucket);
    return allowed;
  }
}
