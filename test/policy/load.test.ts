/**
 * loadSignedPolicy over real files: the signature is checked before any field is read, a wrong or
 * unknown key is refused, key rotation works, and the rollback floor survives a restart.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyError, PolicyError, PolicyRollbackError, PolicySignatureError, PolicyStateError } from '../../src/errors.js';
import { FLOOR_FILE } from '../../src/policy/floor.js';
import { loadPublicKeys, loadSignedPolicy } from '../../src/policy/load.js';
import { buildCliAsync, REPO_ROOT, runProcess } from '../helpers/cli.js';
import { makeKeyPair, makeSignedPolicy, policyWith, type SignedPolicyFixture } from '../helpers/policies.js';

const fixtures: SignedPolicyFixture[] = [];
async function signedPolicy(options: Parameters<typeof makeSignedPolicy>[0] = {}): Promise<SignedPolicyFixture> {
  const fixture = await makeSignedPolicy(options);
  fixtures.push(fixture);
  return fixture;
}
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the load to be refused');
}

describe('loadSignedPolicy accepts', () => {
  it('a signed policy, with what identifies it for metrics (serial, key id, sha256, trusted comment)', async () => {
    const fixture = await signedPolicy({ policy: { serial: 5 } });
    const inForce = await loadSignedPolicy(fixture.loadOptions);
    const bytes = await readFile(fixture.policyFile);
    const { createHash } = await import('node:crypto');
    expect(inForce.policy.serial).toBe(5);
    expect(inForce.keyId).toBe(fixture.key.keyId);
    expect(inForce.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(inForce.trustedComment).toMatch(/^timestamp:\d+\tfile:policy\thashed$/);
    expect(inForce.file).toBe(fixture.policyFile);
  });

  it('a JSON policy', async () => {
    const fixture = await signedPolicy({ fileName: 'policy.json' });
    expect((await loadSignedPolicy(fixture.loadOptions)).policy.site).toBe('https://shop.example');
  });

  it('during a key rotation: two trusted keys, the key id in the signature picks one', async () => {
    const fixture = await signedPolicy({ policy: { serial: 1 } });
    const next = await makeKeyPair(fixture.dir, 'next');
    const both = { ...fixture.loadOptions, publicKeyFiles: [fixture.key.publicKeyFile, next.publicKeyFile] };
    expect((await loadSignedPolicy(both)).keyId).toBe(fixture.key.keyId);
    await fixture.write(policyWith({ serial: 2 }), { key: next });
    expect((await loadSignedPolicy(both)).keyId).toBe(next.keyId);
    // After the rotation the old key is dropped: its signatures are no longer accepted.
    await fixture.write(policyWith({ serial: 3 }));
    const error = await rejection(loadSignedPolicy({ ...fixture.loadOptions, publicKeyFiles: [next.publicKeyFile] }));
    expect(error).toBeInstanceOf(PolicySignatureError);
    expect(error.message).toContain(`signed by key ${fixture.key.keyId}, which is not a trusted public key (trusted: ${next.keyId})`);
  });
});

describe('loadSignedPolicy refuses', () => {
  it('a one-byte change to a signed policy', async () => {
    const fixture = await signedPolicy();
    const bytes = await readFile(fixture.policyFile);
    bytes[bytes.indexOf('pay.gateway')] = 'q'.charCodeAt(0); // pay.gateway → qay.gateway: still a valid policy
    await writeFile(fixture.policyFile, bytes);
    const error = await rejection(loadSignedPolicy(fixture.loadOptions));
    expect(error).toBeInstanceOf(PolicySignatureError);
    expect(error.message).toMatch(/policy\.yaml\.minisig: signature does not verify/);
  });

  it('a policy signed by a different key (wrong key)', async () => {
    const fixture = await signedPolicy();
    const stranger = await makeKeyPair(fixture.dir, 'stranger');
    await fixture.write(policyWith(), { key: stranger });
    const error = await rejection(loadSignedPolicy(fixture.loadOptions));
    expect(error).toBeInstanceOf(PolicySignatureError);
    expect(error.message).toContain(`signed by key ${stranger.keyId}`);
  });

  it('an unsigned policy, saying how to sign it', async () => {
    const fixture = await signedPolicy();
    await writeFile(fixture.policyFile, 'schema: 1\n');
    const { rm } = await import('node:fs/promises');
    await rm(fixture.signatureFile);
    const error = await rejection(loadSignedPolicy(fixture.loadOptions));
    expect(error).toBeInstanceOf(PolicySignatureError);
    expect(error.message).toMatch(/no signature: .*policy\.yaml is unsigned \(sign it with "payguard sign/);
  });

  it('checks the signature before reading any field: an invalid unsigned change is a signature error', async () => {
    const fixture = await signedPolicy();
    await writeFile(fixture.policyFile, 'schema: 1\nserial: [\n');
    const error = await rejection(loadSignedPolicy(fixture.loadOptions));
    expect(error).toBeInstanceOf(PolicySignatureError);
  });

  it('a signed policy that fails the schema, with line, column and field', async () => {
    const fixture = await signedPolicy({ policy: 'schema: 1\nserial: 2\nsite: https://shop.example\nroutes:\n  - { path: /x, mode: block }\nallow:\n  form:\n    - origin: https://pay.example\n' });
    const error = await rejection(loadSignedPolicy(fixture.loadOptions));
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).not.toBeInstanceOf(PolicySignatureError);
    expect(error).toMatchObject({ file: fixture.policyFile, line: 8, column: 7, field: 'allow.form[0].why' });
  });

  it('a signed policy that is not UTF-8', async () => {
    const fixture = await signedPolicy();
    // Raw bytes signed as they are (fixture.write takes text, which would be UTF-8 encoded).
    const { signMessage } = await import('../../src/policy/minisign.js');
    const raw = Buffer.from([0x73, 0x3a, 0x20, 0xff, 0x0a]);
    await writeFile(fixture.policyFile, raw);
    await writeFile(fixture.signatureFile, signMessage(raw, fixture.key.secretKey));
    expect((await rejection(loadSignedPolicy(fixture.loadOptions))).message).toMatch(/not valid UTF-8/);
  });

  it('a public key file that is missing or not a key, as a KeyError naming the file', async () => {
    const fixture = await signedPolicy();
    const missing = join(fixture.dir, 'missing.pub');
    expect(await rejection(loadPublicKeys([missing]))).toBeInstanceOf(KeyError);
    const garbage = join(fixture.dir, 'garbage.pub');
    await writeFile(garbage, 'hello\n');
    const error = await rejection(loadPublicKeys([garbage]));
    expect(error.message).toMatch(/garbage\.pub: not a minisign public key/);
    expect(await rejection(loadPublicKeys([]))).toBeInstanceOf(KeyError);
  });
});

describe('rollback protection', () => {
  beforeAll(() => buildCliAsync(), 600_000);

  it('refuses a lower serial than one accepted, records the floor, accepts the same serial again', async () => {
    const fixture = await signedPolicy({ policy: { serial: 7 } });
    await loadSignedPolicy(fixture.loadOptions);
    const floor = JSON.parse(await readFile(join(fixture.stateDir, FLOOR_FILE), 'utf8')) as { serial: number; keyId: string };
    expect(floor).toMatchObject({ serial: 7, keyId: fixture.key.keyId });
    expect((await loadSignedPolicy(fixture.loadOptions)).policy.serial).toBe(7); // a restart with the same release
    await fixture.write(policyWith({ serial: 6 }));
    const error = await rejection(loadSignedPolicy(fixture.loadOptions));
    expect(error).toBeInstanceOf(PolicyRollbackError);
    expect(error).toMatchObject({ code: 'PG_POLICY_ROLLBACK', serial: 6, floor: 7, field: 'serial' });
  });

  it('keeps the floor across a restart: a new process on the same state dir refuses the old serial', async () => {
    const fixture = await signedPolicy({ policy: { serial: 10 } });
    await loadSignedPolicy(fixture.loadOptions);
    await fixture.write(policyWith({ serial: 9 }));
    const loadModule = pathToFileURL(join(REPO_ROOT, 'dist/src/policy/load.js')).href;
    const script = `import(${JSON.stringify(loadModule)}).then((m) => m.loadSignedPolicy(${JSON.stringify(fixture.loadOptions)}))` +
      `.then((p) => { console.log('accepted', p.policy.serial); }, (e) => { console.log(e.code, e.message); process.exitCode = 1; });`;
    const child = await runProcess(process.execPath, ['--input-type=module', '-e', script]);
    expect(child.code).toBe(1);
    expect(child.stdout).toMatch(/^PG_POLICY_ROLLBACK .*serial 9 is lower than serial 10 already accepted/);
  });

  it('refuses the policy when the floor cannot be recorded (state dir path is a file) or read (corrupt)', async () => {
    const fixture = await signedPolicy({ policy: { serial: 3 } });
    const notADir = join(fixture.dir, 'not-a-dir');
    await writeFile(notADir, 'x');
    const unwritable = await rejection(loadSignedPolicy({ ...fixture.loadOptions, stateDir: notADir }));
    expect(unwritable).toBeInstanceOf(PolicyStateError);
    expect(unwritable.message).toMatch(/cannot (read|record) the rollback floor/);
    const corrupt = join(fixture.dir, 'corrupt-state');
    await mkdir(corrupt);
    await writeFile(join(corrupt, FLOOR_FILE), '{"serial": ');
    const error = await rejection(loadSignedPolicy({ ...fixture.loadOptions, stateDir: corrupt }));
    expect(error).toBeInstanceOf(PolicyStateError);
    expect(error.message).toMatch(/corrupt/);
  });

  it('leaves no temp file behind and keeps the floor file private', async () => {
    const fixture = await signedPolicy({ policy: { serial: 4 } });
    await loadSignedPolicy(fixture.loadOptions);
    const { readdir, stat } = await import('node:fs/promises');
    expect(await readdir(fixture.stateDir)).toEqual([FLOOR_FILE]);
    expect((await stat(join(fixture.stateDir, FLOOR_FILE))).mode & 0o077).toBe(0);
  });
});
