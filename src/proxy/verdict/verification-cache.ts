/**
 * Verifications of pages already verified, by content (what the verifier found; the verdict, what
 * payguard then does with the response, is decided afresh every time by decide.ts). Verification is pure (bytes, URL, Content-Type,
 * policy and mode in; findings out), so a page served again unchanged (the usual case: a shop serves
 * the same checkout to every customer) need not be parsed again. The key is a SHA-256 over every
 * input, so a changed byte, another policy, URL or mode is another entry; only successful
 * verifications are kept (a timeout depends on load, not on the page).
 *
 * The bytes hashed are the body as received (still content-coded) together with its codings:
 * decoding is deterministic, so the same encoded bytes under the same codings are the same
 * document, and a repeated gzip page is found before it is decompressed (docs/bench.md).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { LIMITS } from '../../limits.js';
import type { RouteMode } from '../../policy/model.js';
import type { HeaderList } from '../../verify/types.js';
import type { InspectSuccess } from '../workers/pool.js';

export interface VerificationKeyParts {
  /** CompiledPolicy.id: another policy is another verification. */
  readonly policyId: number;
  readonly mode: RouteMode;
  readonly url: string;
  /** Only the headers the body's verification reads (Content-Type: the charset). */
  readonly headers: HeaderList;
  readonly rewrite: boolean;
  /** The Content-Encoding codings in the order applied (contentCodings()); empty for identity. */
  readonly codings: readonly string[];
  /** The body as received from the upstream, before any content decoding. */
  readonly bytes: Uint8Array;
}

/** Per-entry overhead counted on top of the rewritten bytes and the findings (key, bookkeeping). */
const ENTRY_OVERHEAD = LIMITS.verificationCacheEntryOverheadBytes;

/** What an entry is counted for: its bytes, and its findings (hundreds on a real page: every image is one). */
function entrySize(reply: InspectSuccess): number {
  const findings = reply.verified.findings.length + (reply.rewritten?.verified.findings.length ?? 0);
  const bytes = (reply.rewritten?.bytes.byteLength ?? 0) + (reply.sri?.byteLength ?? 0);
  return ENTRY_OVERHEAD + bytes + findings * LIMITS.verificationCacheFindingBytes;
}

export class VerificationCache {
  readonly #entries: LRUCache<string, InspectSuccess> | undefined;
  readonly #inFlight = new Map<string, Promise<InspectSuccess>>();

  /** `maxBytes` 0 disables the cache (every page is verified every time). */
  constructor(maxBytes: number) {
    this.#entries =
      maxBytes <= 0
        ? undefined
        : new LRUCache<string, InspectSuccess>({
            maxSize: Math.max(maxBytes, ENTRY_OVERHEAD),
            sizeCalculation: entrySize,
          });
  }

  get enabled(): boolean {
    return this.#entries !== undefined;
  }

  keyFor(parts: VerificationKeyParts): string {
    const hash = createHash('sha256');
    // Length-prefixed fields: no two different inputs serialise to the same stream.
    const field = (text: string): void => {
      hash.update(`${Buffer.byteLength(text)}:`);
      hash.update(text);
    };
    field(String(parts.policyId));
    field(parts.mode);
    field(parts.url);
    field(parts.rewrite ? 'rewrite' : 'verify');
    for (const [name, value] of parts.headers) field(`${name}\n${value}`);
    field(parts.codings.join(','));
    field(String(parts.bytes.byteLength));
    hash.update(parts.bytes);
    return hash.digest('base64');
  }

  /**
   * The verification already done (or being done) for this key, if any: a hit needs neither the
   * decoded body nor a worker.
   */
  known(key: string): InspectSuccess | Promise<InspectSuccess> | undefined {
    return this.#entries?.get(key) ?? this.#inFlight.get(key);
  }

  /**
   * The cached verification, or the one being computed for the same key (a page requested by many
   * customers at once is verified once, not once per request), or a new verification.
   */
  async verification(key: string, verify: () => Promise<InspectSuccess>): Promise<InspectSuccess> {
    const cached = this.#entries?.get(key);
    if (cached) return cached;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = verify();
      this.#inFlight.set(key, pending);
      pending.then(
        (reply) => {
          this.#inFlight.delete(key);
          this.#entries?.set(key, reply);
        },
        () => this.#inFlight.delete(key),
      );
    }
    return pending;
  }
}

/**
 * The bytes sent for a page whose verification came from the cache above: on a protected route the
 * verified bytes decoded, with the navigation guard inserted (document/path.ts). They are a pure
 * function of the verification key (policy, mode, URL, Content-Type, codings and body as received)
 * and of the decision's action, so a hit sends what the first hit built. Only hits are stored: a
 * page seen once (a unique checkout) never enters, so unique traffic cannot churn it.
 */
export class ServedDocumentCache {
  readonly #entries: LRUCache<string, Buffer> | undefined;

  /** `maxBytes` 0 disables it. */
  constructor(maxBytes: number) {
    this.#entries = maxBytes <= 0 ? undefined : new LRUCache<string, Buffer>({ maxSize: maxBytes, sizeCalculation: (bytes) => Math.max(1, bytes.byteLength) });
  }

  /** The bytes built for this verification key and action before, or those `build` makes now (kept when they fit). */
  async served(verificationKey: string, action: string, build: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const key = `${action}\n${verificationKey}`;
    const known = this.#entries?.get(key);
    if (known) return known;
    const bytes = await build();
    if (bytes && this.#entries && bytes.byteLength <= this.#entries.maxSize) this.#entries.set(key, bytes);
    return bytes;
  }
}
