/**
 * minisign-compatible Ed25519 keys and signatures (https://jedisct1.github.io/minisign/), so a
 * release engineer can sign a policy with payguard or with minisign, and check either with both.
 *
 * Formats (all base64 lines after an `untrusted comment:` line; integers little-endian):
 * - public key: "Ed" ‖ key id (8) ‖ Ed25519 public key (32)
 * - secret key: "Ed" ‖ kdf ("Sc" scrypt, or 0x0000 unencrypted) ‖ "B2" ‖ salt (32) ‖ opslimit (u64)
 *   ‖ memlimit (u64) ‖ [key id (8) ‖ seed+public (64) ‖ BLAKE2b-256 checksum (32)], the bracket
 *   XORed with scrypt(password, salt) when encrypted
 * - signature: "ED" (signs BLAKE2b-512 of the file) or legacy "Ed" (signs the file) ‖ key id ‖ sig (64),
 *   then `trusted comment: …`, then the global signature: Ed25519 over (sig ‖ trusted comment).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2b';
import { KeyError, PolicySignatureError, UsageError } from '../errors.js';
import { MINISIGN_MEMLIMIT, MINISIGN_OPSLIMIT, minisignKeystream, minisignKeystreamAsync, pickParams, scryptMemory, type KeystreamRequest } from './scrypt.js';

export interface MinisignPublicKey {
  /** 16 upper-case hex digits: the little-endian u64 minisign prints. */
  readonly keyId: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly key: Buffer;
}

export interface MinisignSecretKey {
  readonly keyId: string;
  /** The 8 key id bytes as stored (little-endian). */
  readonly keyNum: Buffer;
  readonly privateKey: KeyObject;
  readonly publicKey: Buffer;
}

export interface VerifiedSignature {
  readonly keyId: string;
  readonly trustedComment: string;
  readonly prehashed: boolean;
}

const SIG_ALG = Buffer.from('Ed');
const SIG_ALG_PREHASHED = Buffer.from('ED');
const KDF_SCRYPT = Buffer.from('Sc');
const KDF_NONE = Buffer.from([0, 0]);
const CHK_ALG = Buffer.from('B2');
const UNTRUSTED = 'untrusted comment: ';
const TRUSTED = 'trusted comment: ';
// minisign's TRUSTEDCOMMENTMAXBYTES (8192) includes the prefix and the newline.
const TRUSTED_COMMENT_MAX_BYTES = 8192 - TRUSTED.length - 2;
const SECRET_KEY_BYTES = 2 + 2 + 2 + 32 + 8 + 8 + 104;
const KEY_BLOCK_OFFSET = 54;

// RFC 8410 DER prefixes: a raw Ed25519 key appended to these is a PKCS#8 / SPKI key Node imports.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface GeneratedKeyPair {
  keyId: string;
  publicKeyText: string;
  secretKeyText: string;
}

export interface KeyPairOptions {
  password?: string;
  untrustedComment?: string;
}

/**
 * A new key pair as minisign -G writes it. With a password this runs minisign's 1 GiB scrypt
 * synchronously (seconds); servers and tests that must not block use generateKeyPairAsync.
 */
export function generateKeyPair(options: KeyPairOptions = {}): GeneratedKeyPair {
  const draft = draftKeyPair(options);
  return draft.finish(draft.kdf ? minisignKeystream(draft.kdf) : undefined);
}

/** generateKeyPair, with the scrypt on Node's thread pool instead of the event loop. */
export async function generateKeyPairAsync(options: KeyPairOptions = {}): Promise<GeneratedKeyPair> {
  const draft = draftKeyPair(options);
  return draft.finish(draft.kdf ? await minisignKeystreamAsync(draft.kdf) : undefined);
}

function draftKeyPair(options: KeyPairOptions): { kdf: KeystreamRequest | undefined; finish(keystream: Buffer | undefined): GeneratedKeyPair } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const publicKey = Buffer.from(jwk.x!, 'base64url');
  const keyNum = randomBytes(8);
  const keyId = keyIdOf(keyNum);
  const keyBlock = Buffer.concat([keyNum, seed, publicKey, keyChecksum(keyNum, seed, publicKey)]);
  const encrypted = options.password !== undefined;
  const salt = encrypted ? randomBytes(32) : Buffer.alloc(32);
  const opslimit = encrypted ? MINISIGN_OPSLIMIT : 0;
  const memlimit = encrypted ? MINISIGN_MEMLIMIT : 0;
  const secretComment = options.untrustedComment ?? (encrypted ? 'minisign encrypted secret key' : 'minisign unencrypted secret key');
  return {
    kdf: encrypted ? { password: options.password!, salt, opslimit, memlimit, length: keyBlock.length } : undefined,
    finish(keystream) {
      const stored = keystream ? xor(keyBlock, keystream) : keyBlock;
      const secret = Buffer.concat([SIG_ALG, encrypted ? KDF_SCRYPT : KDF_NONE, CHK_ALG, salt, u64le(opslimit), u64le(memlimit), stored]);
      return {
        keyId,
        publicKeyText: `${UNTRUSTED}minisign public key ${keyId}\n${Buffer.concat([SIG_ALG, keyNum, publicKey]).toString('base64')}\n`,
        secretKeyText: `${UNTRUSTED}${oneLine(secretComment)}\n${secret.toString('base64')}\n`,
      };
    },
  };
}

export function parsePublicKey(text: string, file: string): MinisignPublicKey {
  const line = keyLine(text, file, 'public key');
  const bytes = strictBase64(line, 42);
  if (!bytes) throw new KeyError(file, 'not a minisign public key (expected 56 base64 characters after the comment line)');
  if (!bytes.subarray(0, 2).equals(SIG_ALG)) throw new KeyError(file, 'unsupported public key algorithm (minisign keys start with "Ed")');
  return { keyId: keyIdOf(bytes.subarray(2, 10)), key: Buffer.from(bytes.subarray(10, 42)) };
}

/**
 * A secret key file (minisign -G's format, encrypted or not). Opening an encrypted key runs
 * minisign's 1 GiB scrypt synchronously (seconds); parseSecretKeyAsync does not block.
 */
export function parseSecretKey(text: string, file: string, password?: string): MinisignSecretKey {
  const stored = readSecretKeyFile(text, file, password);
  return unlockSecretKey(stored, file, stored.kdf ? deriveOrThrow(() => minisignKeystream(stored.kdf!), file) : undefined);
}

/** parseSecretKey, with the scrypt on Node's thread pool instead of the event loop. */
export async function parseSecretKeyAsync(text: string, file: string, password?: string): Promise<MinisignSecretKey> {
  const stored = readSecretKeyFile(text, file, password);
  let keystream: Buffer | undefined;
  if (stored.kdf) {
    try {
      keystream = await minisignKeystreamAsync(stored.kdf);
    } catch (err) {
      throw kdfFailure(file, err);
    }
  }
  return unlockSecretKey(stored, file, keystream);
}

interface StoredSecretKey {
  readonly keyBlock: Buffer;
  readonly encrypted: boolean;
  /** What to derive the keystream from, when the key is encrypted. */
  readonly kdf: KeystreamRequest | undefined;
}

function readSecretKeyFile(text: string, file: string, password: string | undefined): StoredSecretKey {
  const bytes = strictBase64(keyLine(text, file, 'secret key'), SECRET_KEY_BYTES);
  if (!bytes) throw new KeyError(file, `not a minisign secret key (expected ${SECRET_KEY_BYTES} bytes of base64 after the comment line)`);
  if (!bytes.subarray(0, 2).equals(SIG_ALG)) throw new KeyError(file, 'unsupported signature algorithm (expected "Ed")');
  if (!bytes.subarray(4, 6).equals(CHK_ALG)) throw new KeyError(file, 'unsupported checksum algorithm (expected "B2")');
  const kdf = bytes.subarray(2, 4);
  const keyBlock = bytes.subarray(KEY_BLOCK_OFFSET);
  if (kdf.equals(KDF_NONE)) return { keyBlock, encrypted: false, kdf: undefined };
  if (!kdf.equals(KDF_SCRYPT)) throw new KeyError(file, 'unsupported key derivation function (expected scrypt or none)');
  if (password === undefined) throw new KeyError(file, 'this secret key is encrypted: give its password (--password-file or --password-env)');
  const opslimit = Number(bytes.readBigUInt64LE(38));
  const memlimit = Number(bytes.readBigUInt64LE(46));
  // A hostile key file must not make us allocate without bound; minisign's own keys need 1 GiB.
  if (!Number.isSafeInteger(opslimit) || !Number.isSafeInteger(memlimit) || scryptMemory(pickParams(opslimit, memlimit)) > 4 * 1024 ** 3) {
    throw new KeyError(file, 'the key derivation parameters in this secret key are out of range');
  }
  return { keyBlock, encrypted: true, kdf: { password, salt: bytes.subarray(6, 38), opslimit, memlimit, length: keyBlock.length } };
}

function unlockSecretKey(stored: StoredSecretKey, file: string, keystream: Buffer | undefined): MinisignSecretKey {
  const keyBlock = keystream ? xor(stored.keyBlock, keystream) : stored.keyBlock;
  const keyNum = Buffer.from(keyBlock.subarray(0, 8));
  const seed = keyBlock.subarray(8, 40);
  const publicKey = Buffer.from(keyBlock.subarray(40, 72));
  const checksum = keyBlock.subarray(72, 104);
  // minisign 0.11 -W writes an all-zero checksum for unencrypted keys and never checks it there;
  // the seed ↔ public key check below still catches a corrupt key.
  const unchecked = !stored.encrypted && checksum.every((b) => b === 0);
  if (!unchecked && !checksum.equals(keyChecksum(keyNum, seed, publicKey))) {
    throw new KeyError(file, stored.encrypted ? 'wrong password or corrupt key (checksum mismatch)' : 'corrupt key (checksum mismatch)');
  }
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  if (!Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url').equals(publicKey)) {
    throw new KeyError(file, 'corrupt key (the stored public key does not belong to the secret key)');
  }
  return { keyId: keyIdOf(keyNum), keyNum, privateKey, publicKey };
}

function deriveOrThrow(derive: () => Buffer, file: string): Buffer {
  try {
    return derive();
  } catch (err) {
    throw kdfFailure(file, err);
  }
}

function kdfFailure(file: string, err: unknown): KeyError {
  return new KeyError(file, `cannot derive the key from the password: ${(err as Error).message}`, { cause: err });
}

/** The .minisig text for `message`: prehashed ("ED") unless `legacy`, as minisign -S writes it. */
export function signMessage(
  message: Uint8Array,
  secretKey: MinisignSecretKey,
  options: { trustedComment?: string; untrustedComment?: string; legacy?: boolean; fileName?: string } = {},
): string {
  const prehashed = !options.legacy;
  const trustedComment = options.trustedComment ?? defaultTrustedComment(options.fileName, prehashed);
  if (/[\r\n]/.test(trustedComment)) throw new UsageError('the trusted comment must be a single line');
  if (Buffer.byteLength(trustedComment) > TRUSTED_COMMENT_MAX_BYTES) throw new UsageError(`the trusted comment is longer than ${TRUSTED_COMMENT_MAX_BYTES} bytes`);
  const signature = sign(null, signedBytes(message, prehashed), secretKey.privateKey);
  const globalSignature = sign(null, Buffer.concat([signature, Buffer.from(trustedComment)]), secretKey.privateKey);
  const sigLine = Buffer.concat([prehashed ? SIG_ALG_PREHASHED : SIG_ALG, secretKey.keyNum, signature]).toString('base64');
  const untrusted = oneLine(options.untrustedComment ?? 'signature from payguard secret key');
  return `${UNTRUSTED}${untrusted}\n${sigLine}\n${TRUSTED}${trustedComment}\n${globalSignature.toString('base64')}\n`;
}

/** Checks a .minisig against `message`; the key id in the signature picks the public key. */
export function verifyMessage(
  message: Uint8Array,
  signatureText: string,
  publicKeys: readonly MinisignPublicKey[],
  sigFile: string,
): VerifiedSignature {
  const malformed = (why: string): PolicySignatureError => new PolicySignatureError(`malformed signature: ${why}`, { file: sigFile });
  const lines = signatureText.split('\n').map((l) => l.replace(/\r$/, ''));
  if (!lines[0]?.startsWith(UNTRUSTED)) throw malformed(`the first line must start with "${UNTRUSTED.trim()}"`);
  const sigBlock = strictBase64(lines[1]?.trim() ?? '', 74);
  if (!sigBlock) throw malformed('the second line is not a base64 minisign signature');
  if (!lines[2]?.startsWith(TRUSTED)) throw malformed(`the third line must start with "${TRUSTED.trim()}"`);
  // minisign's trim() drops only CR/LF: trailing blanks are part of what was signed.
  const trustedComment = lines[2].slice(TRUSTED.length);
  const globalSignature = strictBase64(lines[3]?.trim() ?? '', 64);
  if (!globalSignature) throw malformed('the fourth line is not a base64 global signature');
  const algorithm = sigBlock.subarray(0, 2);
  const prehashed = algorithm.equals(SIG_ALG_PREHASHED);
  if (!prehashed && !algorithm.equals(SIG_ALG)) throw malformed('unsupported signature algorithm (expected "ED" or "Ed")');
  const keyId = keyIdOf(sigBlock.subarray(2, 10));
  const publicKey = publicKeys.find((k) => k.keyId === keyId);
  if (!publicKey) {
    const known = publicKeys.map((k) => k.keyId).join(', ') || 'none';
    throw new PolicySignatureError(`signed by key ${keyId}, which is not a trusted public key (trusted: ${known})`, { file: sigFile });
  }
  const keyObject = publicKeyObject(publicKey.key);
  const signature = sigBlock.subarray(10, 74);
  if (!verify(null, signedBytes(message, prehashed), keyObject, signature)) {
    throw new PolicySignatureError(`signature does not verify with key ${keyId}: the signed file was changed after signing (or the signature is for another file)`, { file: sigFile });
  }
  if (!verify(null, Buffer.concat([signature, Buffer.from(trustedComment)]), keyObject, globalSignature)) {
    throw new PolicySignatureError('the trusted comment\'s signature does not verify: the trusted comment was altered', { file: sigFile });
  }
  return { keyId, trustedComment, prehashed };
}

/** Key id bytes (little-endian u64) as minisign prints them: 16 upper-case hex digits. */
function keyIdOf(keyNum: Uint8Array): string {
  return Buffer.from(keyNum).reverse().toString('hex').toUpperCase();
}

function keyChecksum(keyNum: Uint8Array, seed: Uint8Array, publicKey: Uint8Array): Buffer {
  // Node's OpenSSL offers only BLAKE2b-512; minisign's checksum is BLAKE2b-256 (a different function, not a truncation).
  return Buffer.from(blake2b(Buffer.concat([SIG_ALG, keyNum, seed, publicKey]), { dkLen: 32 }));
}

function signedBytes(message: Uint8Array, prehashed: boolean): Buffer {
  return prehashed ? createHash('blake2b512').update(message).digest() : Buffer.from(message);
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The base64 line of a key file: the line after `untrusted comment:`, or a lone base64 line. */
function keyLine(text: string, file: string, what: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const line = lines[0]?.startsWith(UNTRUSTED.trim()) ? lines[1] : lines[0];
  if (line === undefined) throw new KeyError(file, `empty ${what} file`);
  return line;
}

/** Base64 of exactly `length` bytes, or undefined (Node's decoder skips junk; minisign's does not). */
function strictBase64(text: string, length: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === length ? bytes : undefined;
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function u64le(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function defaultTrustedComment(fileName: string | undefined, prehashed: boolean): string {
  // minisign's default: "timestamp:<unix>\tfile:<basename>", plus "\thashed" for prehashed signatures.
  const parts = [`timestamp:${Math.floor(Date.now() / 1000)}`];
  if (fileName !== undefined) parts.push(`file:${oneLine(fileName)}`);
  if (prehashed) parts.push('hashed');
  return parts.join('\t');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
