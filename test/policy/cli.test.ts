/**
 * `payguard keygen`, `sign` and `verify` as a release engineer runs them: the real compiled CLI
 * in a child process, real files in a temp dir, the real minisign to check the result.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliAsync, runPayguard, runProcess } from '../helpers/cli.js';
import { writePolicyYaml } from '../helpers/policies.js';

let dir: string;
const path = (name: string): string => join(dir, name);
const ISSUE_EXAMPLE = fileURLToPath(new URL('./fixtures/issue-example.yaml', import.meta.url));

beforeAll(async () => {
  await buildCliAsync();
  dir = await mkdtemp(join(tmpdir(), 'payguard-cli-'));
  const made = await runPayguard(['keygen', '--secret-key', path('release.key'), '--public-key', path('release.pub')]);
  expect(made.code, made.stderr).toBe(0);
}, 600_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const writePolicy = (name: string, overrides: Record<string, unknown>): Promise<string> => writePolicyYaml(path(name), overrides);

describe('payguard keygen', () => {
  it('writes a minisign key pair, the secret key with mode 0600, and prints the key id', async () => {
    expect((await stat(path('release.key'))).mode & 0o777).toBe(0o600);
    const pub = await readFile(path('release.pub'), 'utf8');
    expect(pub).toMatch(/^untrusted comment: minisign public key [0-9A-F]{16}\nRW[A-Za-z0-9+/]{54}\n$/);
  });

  it('refuses to overwrite existing keys without --force (exit 1), overwrites with it', async () => {
    const before = await readFile(path('release.key'), 'utf8');
    const refused = await runPayguard(['keygen', '--secret-key', path('release.key'), '--public-key', path('other.pub')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/release\.key exists; refusing to overwrite a key \(use --force\)/);
    expect(await readFile(path('release.key'), 'utf8')).toBe(before);
    await expect(stat(path('other.pub'))).rejects.toThrow(); // nothing half-done
    await writeFile(path('old.key'), 'old', { mode: 0o644 });
    const forced = await runPayguard(['keygen', '--secret-key', path('old.key'), '--public-key', path('old.pub'), '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await stat(path('old.key'))).mode & 0o777).toBe(0o600);
  });

  it('encrypts with a password from the environment; sign needs it; minisign verifies the result', async () => {
    const env = { ...process.env, PAYGUARD_TEST_PASSWORD: 'release pass' };
    const made = await runPayguard(['keygen', '--secret-key', path('enc.key'), '--public-key', path('enc.pub'), '--password-env', 'PAYGUARD_TEST_PASSWORD'], { env });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('(encrypted)');
    const policy = await writePolicy('enc-policy.yaml', { serial: 2 });
    const noPassword = await runPayguard(['sign', policy, '--secret-key', path('enc.key')]);
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toMatch(/encrypted: give its password/);
    await writeFile(path('password.txt'), 'wrong\n');
    const wrong = await runPayguard(['sign', policy, '--secret-key', path('enc.key'), '--password-file', path('password.txt')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong password or corrupt key/);
    const signed = await runPayguard(['sign', policy, '--secret-key', path('enc.key'), '--password-env', 'PAYGUARD_TEST_PASSWORD'], { env });
    expect(signed.code, signed.stderr).toBe(0);
    const check = await runProcess('/usr/bin/minisign', ['-V', '-p', path('enc.pub'), '-m', policy]);
    expect(check.code, check.stderr).toBe(0);
  }, 300_000);
});

describe('payguard sign', () => {
  it('writes POLICY.minisig in the prehashed form that `minisign -V` and `payguard verify` accept', async () => {
    const policy = await writePolicy('policy.yaml', { serial: 7 });
    const signed = await runPayguard(['sign', policy, '--secret-key', path('release.key'), '--trusted-comment', 'release 7']);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/signed .*policy\.yaml \(serial 7\) with key [0-9A-F]{16}/);
    const signature = await readFile(`${policy}.minisig`, 'utf8');
    expect(Buffer.from(signature.split('\n')[1]!, 'base64').subarray(0, 2).toString()).toBe('ED');
    const check = await runProcess('/usr/bin/minisign', ['-V', '-p', path('release.pub'), '-m', policy]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('Trusted comment: release 7');
  });

  it('refuses a policy that does not validate, naming line, column and field (exit 1)', async () => {
    await writeFile(path('bad.yaml'), 'schema: 1\nserial: 1\nsite: https://shop.example\nroutes:\n  - { path: /x, mode: blok }\nallow: {}\n');
    const result = await runPayguard(['sign', path('bad.yaml'), '--secret-key', path('release.key')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad.yaml:5:23 (routes[0].mode): must be one of block, rewrite, report');
    await expect(stat(path('bad.yaml.minisig'))).rejects.toThrow();
  });

  it("refuses why: TODO and placeholder hashes, listing each field (the issue's example is a draft)", async () => {
    const policy = await writePolicy('todo.yaml', { allow: { form: [{ origin: 'https://pay.example', why: 'TODO' }] } });
    const todo = await runPayguard(['sign', policy, '--secret-key', path('release.key')]);
    expect(todo.code).toBe(1);
    expect(todo.stderr).toContain('allow.form[0].why: the justification is still TODO');
    const draft = await runPayguard(['sign', ISSUE_EXAMPLE, '--secret-key', path('release.key')]);
    expect(draft.code).toBe(1);
    expect(draft.stderr).toContain('allow.script[1].integrity: the hash is still a placeholder');
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['sign'], ['sign', 'a.yaml'], ['sign', 'a.yaml', 'b.yaml', '--secret-key', 'k'], ['sign', 'a.yaml', '--secret-key', 'k', '--bogus']]) {
      const result = await runPayguard(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/payguard sign: .*\nRun "payguard sign --help" for usage\./);
    }
  });
});

describe('payguard verify', () => {
  it('exits 0 and prints serial, key id and sha256', async () => {
    const policy = await writePolicy('v.yaml', { serial: 11 });
    expect((await runPayguard(['sign', policy, '--secret-key', path('release.key')])).code).toBe(0);
    const result = await runPayguard(['verify', policy, '--public-key', path('release.pub')]);
    expect(result.code, result.stderr).toBe(0);
    const keyId = /minisign public key ([0-9A-F]{16})/.exec(await readFile(path('release.pub'), 'utf8'))![1];
    const sha256 = createHash('sha256').update(await readFile(policy)).digest('hex');
    expect(result.stdout).toContain('serial 11\n');
    expect(result.stdout).toContain(`key id ${keyId}\n`);
    expect(result.stdout).toContain(`sha256 ${sha256}\n`);
  });

  it('exits 1 with the reason for a one-byte change, a wrong key, and an unsigned policy', async () => {
    const policy = await writePolicy('t.yaml', { serial: 3 });
    expect((await runPayguard(['sign', policy, '--secret-key', path('release.key')])).code).toBe(0);
    const wrongKey = await runPayguard(['verify', policy, '--public-key', path('old.pub')]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/refused: .*t\.yaml\.minisig: signed by key [0-9A-F]{16}, which is not a trusted public key \(trusted: [0-9A-F]{16}\)/);
    const bytes = await readFile(policy);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x20;
    await writeFile(policy, bytes);
    const tampered = await runPayguard(['verify', policy, '--public-key', path('release.pub')]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/signature does not verify/);
    await rm(`${policy}.minisig`);
    const unsigned = await runPayguard(['verify', policy, '--public-key', path('release.pub')]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/unsigned/);
  });

  it('accepts either key during a rotation (--public-key twice)', async () => {
    const policy = await writePolicy('r.yaml', { serial: 4 });
    expect((await runPayguard(['sign', policy, '--secret-key', path('old.key')])).code).toBe(0);
    const result = await runPayguard(['verify', policy, '--public-key', path('release.pub'), '--public-key', path('old.pub')]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('with --state-dir refuses a serial below the recorded floor, and does not raise the floor itself', async () => {
    const stateDir = path('state');
    await mkdir(stateDir, { recursive: true });
    await writeFile(join(stateDir, 'policy-floor.json'), JSON.stringify({ serial: 20 }));
    const policy = await writePolicy('s.yaml', { serial: 19 });
    expect((await runPayguard(['sign', policy, '--secret-key', path('release.key')])).code).toBe(0);
    const result = await runPayguard(['verify', policy, '--public-key', path('release.pub'), '--state-dir', stateDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/serial 19 is lower than serial 20 already accepted/);
    const higher = await writePolicy('s2.yaml', { serial: 25 });
    expect((await runPayguard(['sign', higher, '--secret-key', path('release.key')])).code).toBe(0);
    expect((await runPayguard(['verify', higher, '--public-key', path('release.pub'), '--state-dir', stateDir])).code).toBe(0);
    expect(JSON.parse(await readFile(join(stateDir, 'policy-floor.json'), 'utf8'))).toEqual({ serial: 20 });
  });

  it('verifies a policy signed by `minisign -S` with a `minisign -G -W` key', async () => {
    const keygen = await runProcess('/usr/bin/minisign', ['-G', '-W', '-p', path('m.pub'), '-s', path('m.key')]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const policy = await writePolicy('m.yaml', { serial: 5 });
    expect((await runProcess('/usr/bin/minisign', ['-S', '-s', path('m.key'), '-m', policy])).code).toBe(0);
    const result = await runPayguard(['verify', policy, '--public-key', path('m.pub')]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['verify'], ['verify', 'a.yaml'], ['verify', 'a.yaml', '--public-key'], ['verify', 'a.yaml', '--nope']]) {
      expect((await runPayguard(args)).code, args.join(' ')).toBe(2);
    }
  });
});

describe('--help', () => {
  it.each(['keygen', 'sign', 'verify'])('payguard %s --help explains the command and exits 0', async (name) => {
    const result = await runPayguard([name, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: payguard ${name} `));
    expect(result.stdout).toMatch(/Exit status:/);
  });

  it('payguard --help lists the three commands with a summary', async () => {
    const result = await runPayguard(['--help']);
    expect(result.stdout).toMatch(/keygen\s+make an Ed25519 signing key pair/);
    expect(result.stdout).toMatch(/sign\s+validate a policy and sign it/);
    expect(result.stdout).toMatch(/verify\s+check a policy's signature/);
  });
});
