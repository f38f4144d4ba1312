/**
 * minisign interoperability, both ways, against Debian's real /usr/bin/minisign (0.11): keys and
 * signatures made by either tool are read and checked by the other. Encrypted keys use minisign's
 * real scrypt parameters (1 GiB), so those tests take seconds each.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyError, PolicySignatureError } from '../../src/errors.js';
import { generateKeyPair, generateKeyPairAsync, parsePublicKey, parseSecretKey, parseSecretKeyAsync, signMessage, verifyMessage } from '../../src/policy/minisign.js';
import { pickParams } from '../../src/policy/scrypt.js';
import { pathToFileURL } from 'node:url';
import { buildCliAsync, REPO_ROOT, runProcess } from '../helpers/cli.js';
import { BASE_POLICY } from '../helpers/policies.js';
import { stringify } from 'yaml';

const MINISIGN = '/usr/bin/minisign';
const SLOW = 600_000;

let dir: string;
let policyFile: string;
let policyBytes: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'payguard-minisign-'));
  policyFile = join(dir, 'policy.yaml');
  policyBytes = Buffer.from(stringify(BASE_POLICY));
  await writeFile(policyFile, policyBytes);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function minisign(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProcess(MINISIGN, args, { cwd: dir, input, timeoutMs: 120_000 });
}

/** A key pair made by `minisign -G` (-W: unencrypted; otherwise the password is read from stdin). */
async function minisignKeyPair(name: string, password?: string): Promise<{ pub: string; sec: string }> {
  const pub = join(dir, `${name}.pub`);
  const sec = join(dir, `${name}.key`);
  const result = password === undefined
    ? await minisign(['-G', '-W', '-p', pub, '-s', sec])
    : await minisign(['-G', '-p', pub, '-s', sec], `${password}\n${password}\n`);
  expect(result.code, result.stderr).toBe(0);
  return { pub, sec };
}

async function payguardKeyPair(name: string, password?: string): Promise<{ pub: string; sec: string; keyId: string }> {
  // Async: minisign's 1 GiB scrypt must not block the test worker's event loop for seconds.
  const pair = await generateKeyPairAsync(password === undefined ? {} : { password });
  const pub = join(dir, `${name}.pub`);
  const sec = join(dir, `${name}.key`);
  await writeFile(pub, pair.publicKeyText);
  await writeFile(sec, pair.secretKeyText, { mode: 0o600 });
  return { pub, sec, keyId: pair.keyId };
}

describe('minisign → payguard', () => {
  it('verifies a prehashed signature made by `minisign -S`', async () => {
    const keys = await minisignKeyPair('m-prehashed');
    const sig = join(dir, 'm-prehashed.minisig');
    expect((await minisign(['-S', '-s', keys.sec, '-m', policyFile, '-x', sig, '-t', 'release 2026.11'])).code).toBe(0);
    const publicKey = parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub);
    const result = verifyMessage(policyBytes, await readFile(sig, 'utf8'), [publicKey], sig);
    expect(result).toEqual({ keyId: publicKey.keyId, trustedComment: 'release 2026.11', prehashed: true });
  });

  it('verifies a legacy signature made by `minisign -S -l`', async () => {
    const keys = await minisignKeyPair('m-legacy');
    const sig = join(dir, 'm-legacy.minisig');
    expect((await minisign(['-S', '-l', '-s', keys.sec, '-m', policyFile, '-x', sig])).code).toBe(0);
    const publicKey = parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub);
    const result = verifyMessage(policyBytes, await readFile(sig, 'utf8'), [publicKey], sig);
    expect(result.prehashed).toBe(false);
    expect(result.trustedComment).toMatch(/^timestamp:\d+\tfile:policy\.yaml$/);
  });

  it('reads the key id minisign prints in the public key comment', async () => {
    const keys = await minisignKeyPair('m-id');
    const text = await readFile(keys.pub, 'utf8');
    const printed = /minisign public key ([0-9A-F]+)/.exec(text)![1]!;
    expect(parsePublicKey(text, keys.pub).keyId).toBe(printed.padStart(16, '0'));
  });

  it('reads an unencrypted secret key made by `minisign -G -W`, and minisign verifies what it signs', async () => {
    const keys = await minisignKeyPair('m-unencrypted');
    const secretKey = parseSecretKey(await readFile(keys.sec, 'utf8'), keys.sec);
    expect(secretKey.keyId).toBe(parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub).keyId);
    const sig = join(dir, 'pg-with-m-key.minisig');
    await writeFile(sig, signMessage(policyBytes, secretKey, { fileName: 'policy.yaml' }));
    const check = await minisign(['-V', '-p', keys.pub, '-m', policyFile, '-x', sig]);
    expect(check.code, check.stderr).toBe(0);
  });

  it('reads an encrypted secret key made by `minisign -G`, and says "wrong password" for a wrong one', async () => {
    const keys = await minisignKeyPair('m-encrypted', 'correct horse battery staple');
    const text = await readFile(keys.sec, 'utf8');
    expect(() => parseSecretKey(text, keys.sec)).toThrow(/encrypted: give its password/);
    const secretKey = await parseSecretKeyAsync(text, keys.sec, 'correct horse battery staple');
    expect(secretKey.keyId).toBe(parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub).keyId);
    const wrong = parseSecretKeyAsync(text, keys.sec, 'Tr0ub4dor&3');
    await expect(wrong).rejects.toBeInstanceOf(KeyError);
    await expect(wrong).rejects.toThrow(/wrong password or corrupt key/);
    // The synchronous parseSecretKey, in a child process so its seconds of scrypt block nobody here.
    await buildCliAsync();
    const minisignModule = pathToFileURL(join(REPO_ROOT, 'dist/src/policy/minisign.js')).href;
    const script = `const m = await import(${JSON.stringify(minisignModule)}); const fs = await import('node:fs');` +
      `console.log(m.parseSecretKey(fs.readFileSync(${JSON.stringify(keys.sec)}, 'utf8'), 'k', 'correct horse battery staple').keyId);`;
    const child = await runProcess(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 300_000 });
    expect(child.stdout.trim(), child.stderr).toBe(secretKey.keyId);
  }, SLOW);
});

describe('payguard → minisign', () => {
  it('`minisign -V` accepts payguard signatures, prehashed and legacy, and shows the trusted comment', async () => {
    const keys = await payguardKeyPair('pg');
    const secretKey = parseSecretKey(await readFile(keys.sec, 'utf8'), keys.sec);
    for (const legacy of [false, true]) {
      const sig = join(dir, `pg-${legacy ? 'legacy' : 'prehashed'}.minisig`);
      await writeFile(sig, signMessage(policyBytes, secretKey, { legacy, trustedComment: `serial 1 legacy=${legacy}` }));
      const check = await minisign(['-V', '-p', keys.pub, '-m', policyFile, '-x', sig]);
      expect(check.code, check.stderr).toBe(0);
      expect(check.stdout).toContain(`Trusted comment: serial 1 legacy=${legacy}`);
    }
  });

  it('`minisign -S` signs with an unencrypted payguard secret key', async () => {
    const keys = await payguardKeyPair('pg-plain');
    const sig = join(dir, 'm-with-pg-key.minisig');
    const signed = await minisign(['-S', '-s', keys.sec, '-m', policyFile, '-x', sig]);
    expect(signed.code, signed.stderr).toBe(0);
    const publicKey = parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub);
    expect(verifyMessage(policyBytes, await readFile(sig, 'utf8'), [publicKey], sig).keyId).toBe(keys.keyId);
  });

  it('`minisign -S` opens an encrypted payguard secret key with its password', async () => {
    const keys = await payguardKeyPair('pg-encrypted', 's3cret pass');
    const sig = join(dir, 'm-with-pg-encrypted.minisig');
    const signed = await minisign(['-S', '-s', keys.sec, '-m', policyFile, '-x', sig], 's3cret pass\n');
    expect(signed.code, signed.stderr).toBe(0);
    const wrong = await minisign(['-S', '-s', keys.sec, '-m', policyFile, '-x', join(dir, 'never.minisig')], 'not it\n');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).toMatch(/Wrong password/);
    const publicKey = parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub);
    expect(verifyMessage(policyBytes, await readFile(sig, 'utf8'), [publicKey], sig).prehashed).toBe(true);
  }, SLOW);

  it('`minisign -R` recreates exactly payguard\'s public key from payguard\'s secret key', async () => {
    const keys = await payguardKeyPair('pg-recreate');
    const recreated = join(dir, 'pg-recreated.pub');
    const result = await minisign(['-R', '-s', keys.sec, '-p', recreated]);
    expect(result.code, result.stderr).toBe(0);
    const keyLine = (text: string): string => text.trim().split('\n')[1]!;
    expect(keyLine(await readFile(recreated, 'utf8'))).toBe(keyLine(await readFile(keys.pub, 'utf8')));
  });
});

describe('verifyMessage refuses', () => {
  it('a one-byte change to the signed file', async () => {
    const keys = await payguardKeyPair('tamper');
    const secretKey = parseSecretKey(await readFile(keys.sec, 'utf8'), keys.sec);
    const publicKey = parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub);
    const sig = signMessage(policyBytes, secretKey);
    for (const index of [0, Math.floor(policyBytes.length / 2), policyBytes.length - 1]) {
      const changed = Buffer.from(policyBytes);
      changed[index] = changed[index]! ^ 0x01;
      expect(() => verifyMessage(changed, sig, [publicKey], 'p.minisig')).toThrow(PolicySignatureError);
      expect(() => verifyMessage(changed, sig, [publicKey], 'p.minisig')).toThrow(/does not verify with key/);
    }
    expect(() => verifyMessage(Buffer.concat([policyBytes, Buffer.from('\n')]), sig, [publicKey], 'p.minisig')).toThrow(/does not verify/);
  });

  it('an altered trusted comment', async () => {
    const keys = await payguardKeyPair('comment');
    const secretKey = parseSecretKey(await readFile(keys.sec, 'utf8'), keys.sec);
    const publicKey = parsePublicKey(await readFile(keys.pub, 'utf8'), keys.pub);
    const sig = signMessage(policyBytes, secretKey, { trustedComment: 'serial 1' }).replace('trusted comment: serial 1', 'trusted comment: serial 9');
    expect(() => verifyMessage(policyBytes, sig, [publicKey], 'p.minisig')).toThrow(/trusted comment's signature does not verify/);
  });

  it('a signature by a key that is not trusted, naming the trusted key ids', async () => {
    const signer = await payguardKeyPair('stranger');
    const trusted = [await payguardKeyPair('trusted-a'), await payguardKeyPair('trusted-b')];
    const secretKey = parseSecretKey(await readFile(signer.sec, 'utf8'), signer.sec);
    const publicKeys = await Promise.all(trusted.map(async (k) => parsePublicKey(await readFile(k.pub, 'utf8'), k.pub)));
    const sig = signMessage(policyBytes, secretKey);
    expect(() => verifyMessage(policyBytes, sig, publicKeys, 'p.minisig')).toThrow(
      `signed by key ${signer.keyId}, which is not a trusted public key (trusted: ${trusted[0]!.keyId}, ${trusted[1]!.keyId})`,
    );
  });

  it('a key with the right id but the wrong key material', async () => {
    const keys = await payguardKeyPair('impostor');
    const secretKey = parseSecretKey(await readFile(keys.sec, 'utf8'), keys.sec);
    const other = parsePublicKey(generateKeyPair().publicKeyText, 'other.pub');
    const sig = signMessage(policyBytes, secretKey);
    expect(() => verifyMessage(policyBytes, sig, [{ keyId: keys.keyId, key: other.key }], 'p.minisig')).toThrow(/does not verify/);
  });

  it.each([
    ['empty', ''],
    ['no untrusted comment', 'RUQ=\n'],
    ['truncated base64', 'untrusted comment: x\nRUQqEMaiCBOc8y5iz5M0\ntrusted comment: t\nAAAA\n'],
    ['missing trusted comment', `untrusted comment: x\n${Buffer.alloc(74).toString('base64')}\n`],
  ])('a malformed signature (%s)', (_, text) => {
    expect(() => verifyMessage(policyBytes, text, [], 'p.minisig')).toThrow(/p\.minisig: malformed signature/);
  });
});

describe('keys', () => {
  it('refuses files that are not minisign keys, with a KeyError naming the file', () => {
    expect(() => parsePublicKey('untrusted comment: x\nnot base64!\n', 'k.pub')).toThrow(KeyError);
    expect(() => parsePublicKey('untrusted comment: x\nnot base64!\n', 'k.pub')).toThrow(/^k\.pub: not a minisign public key/);
    expect(() => parseSecretKey('', 'k.key')).toThrow(/k\.key: empty secret key file/);
    const pair = generateKeyPair();
    const bytes = Buffer.from(pair.secretKeyText.split('\n')[1]!, 'base64');
    bytes[100] = bytes[100]! ^ 0xff; // inside the secret key: the checksum no longer matches
    expect(() => parseSecretKey(`untrusted comment: x\n${bytes.toString('base64')}\n`, 'k.key')).toThrow(/corrupt key/);
  });

  it('derives libsodium\'s scrypt parameters for minisign\'s limits (N=2^20, r=8, p=1)', () => {
    expect(pickParams(33_554_432, 1_073_741_824)).toEqual({ N: 2 ** 20, r: 8, p: 1 });
    // libsodium's interactive limits (crypto_pwhash_scryptsalsa208sha256_*_INTERACTIVE): N=2^14.
    expect(pickParams(524_288, 16_777_216)).toEqual({ N: 2 ** 14, r: 8, p: 1 });
  });
});
