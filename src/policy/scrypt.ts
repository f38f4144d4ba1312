/**
 * minisign's password box for secret keys: libsodium's crypto_pwhash_scryptsalsa208sha256, which
 * takes (opslimit, memlimit) and turns them into scrypt's (N, r, p) with its "pickparams" rule.
 * We reproduce that rule exactly and run Node's scrypt with the same N, r, p, so keys encrypted by
 * minisign open here and ours open in minisign.
 */
import { scrypt, scryptSync } from 'node:crypto';

/** minisign -G's limits: libsodium's *_OPSLIMIT_SENSITIVE and *_MEMLIMIT_SENSITIVE. */
export const MINISIGN_OPSLIMIT = 33_554_432;
export const MINISIGN_MEMLIMIT = 1_073_741_824;

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** libsodium crypto_pwhash/scryptsalsa208sha256/pwhash_scryptsalsa208sha256.c, pickparams(). */
export function pickParams(opslimit: number, memlimit: number): ScryptParams {
  const ops = Math.max(opslimit, 32_768);
  const r = 8;
  // C integer division throughout, hence the floors.
  if (ops < Math.floor(memlimit / 32)) {
    const maxN = Math.floor(ops / (r * 4));
    return { N: 2 ** log2Below(maxN), r, p: 1 };
  }
  const maxN = Math.floor(memlimit / (r * 128));
  const nLog2 = log2Below(maxN);
  const maxrp = Math.min(Math.floor(Math.floor(ops / 4) / 2 ** nLog2), 0x3fffffff);
  return { N: 2 ** nLog2, r, p: Math.floor(maxrp / r) };
}

/** The smallest n in [1, 63) with 2^n > maxN / 2 (pickparams' loop), as integer arithmetic does it. */
function log2Below(maxN: number): number {
  const half = Math.floor(Math.floor(maxN) / 2);
  let n = 1;
  while (n < 63 && 2 ** n <= half) n++;
  return n;
}

/** Bytes scrypt needs for these parameters (OpenSSL's check: 128·r·(N + p + 2), plus slack). */
export function scryptMemory({ N, r, p }: ScryptParams): number {
  return 128 * r * (N + p + 2) + 1024 * 1024;
}

export interface KeystreamRequest {
  readonly password: string;
  readonly salt: Uint8Array;
  readonly opslimit: number;
  readonly memlimit: number;
  readonly length: number;
}

/** The keystream minisign XORs over the 104-byte key block. Blocks the event loop for seconds. */
export function minisignKeystream({ password, salt, opslimit, memlimit, length }: KeystreamRequest): Buffer {
  const params = pickParams(opslimit, memlimit);
  return scryptSync(Buffer.from(password, 'utf8'), salt, length, { ...params, maxmem: scryptMemory(params) });
}

/** minisignKeystream on Node's thread pool. */
export function minisignKeystreamAsync({ password, salt, opslimit, memlimit, length }: KeystreamRequest): Promise<Buffer> {
  const params = pickParams(opslimit, memlimit);
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(password, 'utf8'), salt, length, { ...params, maxmem: scryptMemory(params) }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
