/**
 * The policy and its signature changed under a watching payguard in every awkward way a deploy
 * tool, an editor or an intruder can: truncated and rewritten slowly, one file without the other,
 * renamed over, in either order, and behind Kubernetes ConfigMap symlinks. Invariant: the policy in
 * force is at every moment one whose exact bytes were signed (never a half-written or unsigned one),
 * the last good one stays until the pair is consistent again, and the consistent pair is picked up
 * without a SIGHUP.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, symlink, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyHolder } from '../../src/policy/reload.js';
import { signMessage } from '../../src/policy/minisign.js';
import { makeKeyPair, makeSignedPolicy, policyWith, type SignedPolicyFixture, type TestKeyPair } from '../helpers/policies.js';

const DEBOUNCE_MS = 40;
/** Longer than the debounce: each step of a slow write is seen by a reload of its own. */
const STEP_MS = 150;

interface Release {
  readonly bytes: Buffer;
  readonly signature: string;
  readonly sha256: string;
}

function release(serial: number, key: TestKeyPair): Release {
  const bytes = Buffer.from(stringify(policyWith({ serial })));
  return { bytes, signature: signMessage(bytes, key.secretKey, { fileName: 'policy' }), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Samples the policy in force every few ms until stopped: every value seen must be a signed release. */
function sampleInForce(holder: PolicyHolder): { seen: Set<string>; stop(): void } {
  const seen = new Set<string>();
  const timer = setInterval(() => seen.add(holder.current().sha256), 5);
  return { seen, stop: () => clearInterval(timer) };
}

/** Resolves once the holder has `serial` in force; bounded. */
async function inForce(holder: PolicyHolder, serial: number, limitMs = 10_000): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 25) {
    if (holder.current().policy.serial === serial) return true;
    await sleep(25);
  }
  return false;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function watchedHolder(): Promise<{ fixture: SignedPolicyFixture; holder: PolicyHolder; first: Release }> {
  const fixture = await makeSignedPolicy();
  const first = release(1, fixture.key);
  await writeFile(fixture.policyFile, first.bytes);
  await writeFile(fixture.signatureFile, first.signature);
  const holder = await PolicyHolder.open({ ...fixture.loadOptions, debounceMs: DEBOUNCE_MS });
  holder.watch();
  cleanups.push(async () => {
    await holder.close();
    await fixture.cleanup();
  });
  return { fixture, holder, first };
}

describe('policy file replaced mid-read', () => {
  it('truncated and rewritten slowly, signature last: only signed bytes are ever in force', async () => {
    const { fixture, holder, first } = await watchedHolder();
    const next = release(2, fixture.key);
    const sampler = sampleInForce(holder);
    await truncate(fixture.policyFile, 0);
    await sleep(STEP_MS);
    const half = Math.floor(next.bytes.length / 2);
    await appendFile(fixture.policyFile, next.bytes.subarray(0, half));
    await sleep(STEP_MS);
    await appendFile(fixture.policyFile, next.bytes.subarray(half));
    await sleep(STEP_MS);
    expect(holder.current().sha256).toBe(first.sha256);
    await truncate(fixture.signatureFile, 0);
    await sleep(STEP_MS);
    await appendFile(fixture.signatureFile, next.signature.slice(0, 40));
    await sleep(STEP_MS);
    expect(holder.current().sha256).toBe(first.sha256);
    await appendFile(fixture.signatureFile, next.signature.slice(40));
    expect(await inForce(holder, 2)).toBe(true);
    sampler.stop();
    // Every policy seen in force was one of the two signed releases (the sampler may miss the last switch).
    expect([...sampler.seen].filter((sha) => sha !== first.sha256 && sha !== next.sha256)).toEqual([]);
    expect(sampler.seen.has(first.sha256)).toBe(true);
    expect(holder.current().sha256).toBe(next.sha256);
    expect(holder.rejected).toBeGreaterThan(0);
  });

  it('the policy written but not yet its signature: the last good one stays until the signature lands', async () => {
    const { fixture, holder, first } = await watchedHolder();
    const next = release(2, fixture.key);
    await writeFile(fixture.policyFile, next.bytes);
    for (let waited = 0; waited < 10_000 && holder.rejected === 0; waited += 25) await sleep(25);
    expect(holder.rejected).toBeGreaterThan(0);
    expect(holder.current().sha256).toBe(first.sha256);
    await writeFile(fixture.signatureFile, next.signature);
    expect(await inForce(holder, 2)).toBe(true);
  });

  it('the signature first, then the policy (the other order)', async () => {
    const { fixture, holder, first } = await watchedHolder();
    const next = release(2, fixture.key);
    await writeFile(fixture.signatureFile, next.signature);
    await sleep(STEP_MS * 2);
    expect(holder.current().sha256).toBe(first.sha256);
    await writeFile(fixture.policyFile, next.bytes);
    expect(await inForce(holder, 2)).toBe(true);
  });

  it('renamed over (atomic per file, not per pair), and an unsigned edit after it is refused', async () => {
    const { fixture, holder } = await watchedHolder();
    const next = release(2, fixture.key);
    await writeFile(`${fixture.policyFile}.tmp`, next.bytes);
    await writeFile(`${fixture.signatureFile}.tmp`, next.signature);
    await rename(`${fixture.policyFile}.tmp`, fixture.policyFile);
    await sleep(STEP_MS);
    await rename(`${fixture.signatureFile}.tmp`, fixture.signatureFile);
    expect(await inForce(holder, 2)).toBe(true);
    const rejectedBefore = holder.rejected;
    // An intruder widens the allowlist in place without the key.
    await writeFile(fixture.policyFile, Buffer.from(stringify(policyWith({ serial: 3, allow: { form: [{ origin: 'https://evil.example', why: 'x' }] } }))));
    for (let waited = 0; waited < 5_000 && holder.rejected === rejectedBefore; waited += 25) await sleep(25);
    expect(holder.rejected).toBeGreaterThan(rejectedBefore);
    expect(holder.current().sha256).toBe(next.sha256);
  });

  it('a policy file replaced by a FIFO or a device is refused without hanging, and the last good one stays', async () => {
    const { fixture, holder, first } = await watchedHolder();
    await rm(fixture.policyFile);
    await symlink('/dev/zero', fixture.policyFile);
    const result = await holder.reload('manual');
    expect(result.ok).toBe(false);
    expect(holder.current().sha256).toBe(first.sha256);
    await rm(fixture.policyFile);
    execFileSync('mkfifo', [fixture.policyFile]);
    const fifo = await holder.reload('manual');
    expect(fifo.ok).toBe(false);
    expect(holder.current().sha256).toBe(first.sha256);
  });
});

describe('symlinked policy', () => {
  /** The layout kubelet writes for a ConfigMap volume: files link through `..data` to a timestamped dir. */
  async function configMap(dir: string, version: string, files: Record<string, string | Buffer>, previous?: string): Promise<void> {
    const data = join(dir, `..${version}`);
    await mkdir(data);
    for (const [name, content] of Object.entries(files)) await writeFile(join(data, name), content);
    await symlink(`..${version}`, join(dir, '..data_tmp'));
    // The swap kubelet does: one rename of the ..data link, atomic for every file at once; then the old version is deleted.
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    if (previous) await rm(join(dir, `..${previous}`), { recursive: true });
  }

  it('a ConfigMap ..data swap is picked up without a SIGHUP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-configmap-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const key = await makeKeyPair(dir);
    const mount = join(dir, 'policy');
    await mkdir(mount);
    const one = release(1, key);
    await configMap(mount, '2026_11_24_20_00_00.1', { 'policy.yaml': one.bytes, 'policy.yaml.minisig': one.signature });
    await symlink('..data/policy.yaml', join(mount, 'policy.yaml'));
    await symlink('..data/policy.yaml.minisig', join(mount, 'policy.yaml.minisig'));
    const holder = await PolicyHolder.open({ policyFile: join(mount, 'policy.yaml'), publicKeyFiles: [key.publicKeyFile], stateDir: join(dir, 'state'), debounceMs: DEBOUNCE_MS });
    cleanups.unshift(() => holder.close());
    holder.watch();
    expect(holder.current().sha256).toBe(one.sha256);
    const two = release(2, key);
    await configMap(mount, '2026_11_24_21_00_00.2', { 'policy.yaml': two.bytes, 'policy.yaml.minisig': two.signature }, '2026_11_24_20_00_00.1');
    expect(await inForce(holder, 2)).toBe(true);
    const three = release(3, key);
    await configMap(mount, '2026_11_24_22_00_00.3', { 'policy.yaml': three.bytes, 'policy.yaml.minisig': three.signature }, '2026_11_24_21_00_00.2');
    expect(await inForce(holder, 3)).toBe(true);
  });

  it('a symlink pointing outside its directory is allowed, and an in-place edit of its target is picked up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-symlink-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const key = await makeKeyPair(dir);
    const real = join(dir, 'releases');
    const config = join(dir, 'etc');
    await mkdir(real);
    await mkdir(config);
    const one = release(1, key);
    await writeFile(join(real, 'policy.yaml'), one.bytes);
    await writeFile(join(real, 'policy.yaml.minisig'), one.signature);
    await symlink(join(real, 'policy.yaml'), join(config, 'policy.yaml'));
    await symlink(join(real, 'policy.yaml.minisig'), join(config, 'policy.yaml.minisig'));
    const holder = await PolicyHolder.open({ policyFile: join(config, 'policy.yaml'), publicKeyFiles: [key.publicKeyFile], stateDir: join(dir, 'state'), debounceMs: DEBOUNCE_MS });
    cleanups.unshift(() => holder.close());
    holder.watch();
    const two = release(2, key);
    // Edited where the link points, nothing touched in the link's own directory.
    await writeFile(join(real, 'policy.yaml'), two.bytes);
    await writeFile(join(real, 'policy.yaml.minisig'), two.signature);
    expect(await inForce(holder, 2)).toBe(true);
  });
});
