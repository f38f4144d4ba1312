/**
 * Hash identical bytes once (issue 17, class 3): a 1.2 MB pinned bundle was decoded and hashed again
 * on every fetch. When a pinned script's response is byte for byte the one already verified against
 * the same integrity under the same content codings, the verdict is the same, and payguard skips the
 * decoding and both hashes (SRI's and the dual vantage's sha256).
 *
 * What decides a hit is the bytes themselves, compared in full (memcmp), never a stand-in for them:
 * - not the upstream's ETag or Last-Modified: the storefront is what may be compromised, and it
 *   chooses those headers, so a tampered file under the old ETag must not pass;
 * - not a fast non-cryptographic hash (xxHash, CRC): the attacker chooses the bytes, and finding a
 *   collision with such a hash is cheap;
 * - not a cryptographic hash of the raw body either: comparing is cheaper than any hash, and needs
 *   no argument about collisions at all.
 * Decoding is a function of the raw bytes and the coding list, and the SRI check a function of the
 * decoded bytes and the tokens, so equal (raw bytes, codings, tokens) give an equal verdict. Only
 * matches are remembered (a mismatch is rare and is logged each time). The key (tokens, codings,
 * length) holds no policy identity: a reload with other tokens simply misses.
 */
import { LRUCache } from 'lru-cache';

interface Remembered {
  readonly raw: Buffer;
  /** The sha256 CSP hash source of the decoded body (what the browser reports running: vantage.ts). */
  readonly servedHash: string;
}

export class VerifiedBytes {
  readonly #entries: LRUCache<string, Remembered>;
  #hits = 0;
  #misses = 0;

  constructor(maxBytes: number, maxEntryBytes: number) {
    this.#entries = new LRUCache<string, Remembered>({
      maxSize: maxBytes,
      maxEntrySize: maxEntryBytes,
      // An empty body still takes a slot.
      sizeCalculation: (entry) => Math.max(1, entry.raw.length),
    });
  }

  /**
   * The served hash recorded when exactly these bytes were verified against `requirement` (the
   * integrity tokens and the content codings, see `requirementKey`), or undefined.
   */
  lookup(requirement: string, raw: Buffer): string | undefined {
    const remembered = this.#entries.get(entryKey(requirement, raw));
    if (remembered && remembered.raw.equals(raw)) {
      this.#hits++;
      return remembered.servedHash;
    }
    this.#misses++;
    return undefined;
  }

  /** Records that `raw` matched `requirement` once decoded. */
  remember(requirement: string, raw: Buffer, servedHash: string): void {
    this.#entries.set(entryKey(requirement, raw), { raw, servedHash });
  }

  /** Hits and misses so far (tests, the bench). */
  stats(): { readonly hits: number; readonly misses: number; readonly bytes: number } {
    return { hits: this.#hits, misses: this.#misses, bytes: this.#entries.calculatedSize };
  }
}

/** Everything besides the bytes that the verdict depends on: each pin's tokens, and the codings. */
export function requirementKey(integrity: readonly (readonly string[])[], codings: readonly string[]): string {
  return `${integrity.map((tokens) => tokens.join(' ')).join('\n')}\n${codings.join(',')}`;
}

function entryKey(requirement: string, raw: Buffer): string {
  return `${requirement}\n${raw.length}`;
}
