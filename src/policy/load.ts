/**
 * Loading a signed policy: read the two files once, verify the signature over the exact bytes
 * BEFORE reading any field (nothing unsigned is ever interpreted), parse, then enforce and raise
 * the rollback floor.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { KeyError, PolicyError, PolicySignatureError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { checkFloor, raiseFloor, readFloor } from './floor.js';
import { parsePublicKey, verifyMessage, type MinisignPublicKey } from './minisign.js';
import type { PolicyInForce } from './in-force.js';
import { parsePolicyText } from './parse.js';
import { compilePolicy } from './compiled.js';

export interface SignedPolicyFiles {
  readonly policyFile: string;
  /** Defaults to `policyFile + '.minisig'`, where minisign and `payguard sign` put it. */
  readonly signatureFile?: string;
}

export interface LoadOptions extends SignedPolicyFiles {
  readonly publicKeyFiles: readonly string[];
  readonly stateDir: string;
}

// Far above any real policy; bounds what a hostile file on the storefront host can make us read.
const MAX_POLICY_BYTES = LIMITS.maxPolicyBytes;

/** The policy in force after signature, schema and rollback checks; records the new floor. */
export async function loadSignedPolicy(options: LoadOptions): Promise<PolicyInForce> {
  const publicKeys = await loadPublicKeys(options.publicKeyFiles);
  const inForce = await readSignedPolicy(options, publicKeys);
  const floor = await readFloor(options.stateDir);
  checkFloor(inForce.policy.serial, floor, options.policyFile);
  await raiseFloor(options.stateDir, floor, {
    serial: inForce.policy.serial,
    site: inForce.policy.site,
    sha256: inForce.sha256,
    keyId: inForce.keyId,
    acceptedAt: inForce.acceptedAt.toISOString(),
  });
  return inForce;
}

/** Verify and parse, without the rollback floor (`payguard verify` without --state-dir, `sign`'s self-check). */
export async function readSignedPolicy(files: SignedPolicyFiles, publicKeys: readonly MinisignPublicKey[]): Promise<PolicyInForce> {
  const signatureFile = files.signatureFile ?? `${files.policyFile}.minisig`;
  const bytes = await readPolicyBytes(files.policyFile);
  const signatureText = await readSignature(signatureFile, files.policyFile);
  const signature = verifyMessage(bytes, signatureText, publicKeys, signatureFile);
  const policy = parsePolicyText(decodeUtf8(bytes, files.policyFile), files.policyFile);
  return {
    policy,
    compiled: compilePolicy(policy),
    file: files.policyFile,
    keyId: signature.keyId,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    trustedComment: signature.trustedComment,
    acceptedAt: new Date(),
  };
}

/** The trusted public keys (several during a key rotation; the signature's key id picks one). */
export async function loadPublicKeys(files: readonly string[]): Promise<MinisignPublicKey[]> {
  if (files.length === 0) throw new KeyError('--public-key', 'at least one trusted public key is required');
  const keys: MinisignPublicKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new KeyError(file, `cannot read the public key: ${(err as Error).message}`, { cause: err });
    }
    keys.push(parsePublicKey(text, file));
  }
  return keys;
}

export async function readPolicyBytes(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file, MAX_POLICY_BYTES);
  } catch (err) {
    throw new PolicyError(`cannot read the policy: ${(err as Error).message}`, { file }, { cause: err });
  }
  if (bytes.length > MAX_POLICY_BYTES) throw new PolicyError(`the policy is larger than ${MAX_POLICY_BYTES} bytes`, { file });
  return bytes;
}

/** A minisign signature is under 1 KiB; anything much larger is not one. */
const MAX_SIGNATURE_BYTES = LIMITS.maxSignatureBytes;

/**
 * At most `max + 1` bytes of a regular file. A path swapped for a FIFO would block the read (and a
 * thread of libuv's pool) until a writer came; one swapped for /dev/zero would be read until memory
 * ran out. O_NONBLOCK makes opening a FIFO return at once, and fstat then refuses anything but a file.
 */
async function readRegularFile(file: string, max: number): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('not a regular file');
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

async function readSignature(signatureFile: string, policyFile: string): Promise<string> {
  try {
    const bytes = await readRegularFile(signatureFile, MAX_SIGNATURE_BYTES);
    if (bytes.length > MAX_SIGNATURE_BYTES) throw new Error(`larger than ${MAX_SIGNATURE_BYTES} bytes`);
    return bytes.toString('utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const problem = missing
      ? `no signature: ${policyFile} is unsigned (sign it with "payguard sign ${policyFile} --secret-key KEY")`
      : `cannot read the signature: ${(err as Error).message}`;
    throw new PolicySignatureError(problem, { file: signatureFile }, { cause: err });
  }
}

export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    // fatal: a policy that is not UTF-8 would be read differently by editors, reviewers and us.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new PolicyError('the policy is not valid UTF-8', { file }, { cause: err });
  }
}
