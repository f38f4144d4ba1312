/**
 * PolicyHolder over real files: a verified policy replaces the old one in a single swap; an
 * invalid, half-written, unsigned or rolled-back one leaves the last good policy in force.
 * File watching and SIGHUP are exercised for real (fs.watch on a temp dir, a signal to a child).
 * Waits are bounded by AbortSignal timeouts and event counts, never by timing assertions.
 */
import { once } from 'node:events';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyRollbackError, PolicySignatureError } from '../../src/errors.js';
import type { PolicyInForce } from '../../src/policy/in-force.js';
import { signMessage } from '../../src/policy/minisign.js';
import { PolicyHolder } from '../../src/policy/reload.js';
import { buildCliAsync, REPO_ROOT } from '../helpers/cli.js';
import { makeSignedPolicy, policyWith, type SignedPolicyFixture } from '../helpers/policies.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openHolder(serial = 1, debounceMs = 50): Promise<{ fixture: SignedPolicyFixture; holder: PolicyHolder; log: object[] }> {
  const fixture = await makeSignedPolicy({ policy: { serial } });
  cleanups.push(() => fixture.cleanup());
  const log: object[] = [];
  const holder = await PolicyHolder.open({ ...fixture.loadOptions, debounceMs, logger: (e) => log.push(e) });
  cleanups.push(() => holder.close());
  return { fixture, holder, log };
}

/** Writes a file the way deploy tools do: a temp file in the same dir, renamed over the target. */
async function replaceByRename(file: string, content: string | Buffer): Promise<void> {
  const temp = `${file}.deploy-tmp`;
  await writeFile(temp, content);
  await rename(temp, file);
}

function signed(fixture: SignedPolicyFixture, serial: number): { text: string; signature: string } {
  const text = stringify(policyWith({ serial }));
  return { text, signature: signMessage(Buffer.from(text), fixture.key.secretKey) };
}

const within = (ms: number) => ({ signal: AbortSignal.timeout(ms) });

describe('PolicyHolder.reload', () => {
  it('replaces the policy with a valid newer one, in one swap, and counts it', async () => {
    const { fixture, holder, log } = await openHolder(1);
    const before = holder.current();
    const reloaded: PolicyInForce[] = [];
    holder.on('reloaded', (p: PolicyInForce) => reloaded.push(p));
    await fixture.write(policyWith({ serial: 2 }));
    const result = await holder.reload('manual');
    expect(result.ok).toBe(true);
    expect(holder.current().policy.serial).toBe(2);
    expect(reloaded).toEqual([holder.current()]);
    expect({ accepted: holder.accepted, rejected: holder.rejected }).toEqual({ accepted: 1, rejected: 0 });
    // A response that took the old policy keeps checking against exactly that one, unchanged.
    expect(before.policy.serial).toBe(1);
    expect(Object.isFrozen(before.policy)).toBe(true);
    expect(log).toContainEqual(expect.objectContaining({ event: 'policy-reloaded', trigger: 'manual', serial: 2, previousSerial: 1 }));
  });

  it.each([
    ['invalid (schema error)', async (f: SignedPolicyFixture) => f.write('schema: 1\nserial: 5\nsite: https://shop.example\nroutes: []\nallow: {}\n'), 'PG_POLICY_INVALID'],
    ['half-written (truncated after signing)', async (f: SignedPolicyFixture) => {
      const { text, signature } = signed(f, 5);
      await writeFile(f.signatureFile, signature);
      await writeFile(f.policyFile, text.slice(0, Math.floor(text.length / 2)));
    }, 'PG_POLICY_SIGNATURE'],
    ['unsigned (signature removed)', async (f: SignedPolicyFixture) => {
      await writeFile(f.policyFile, stringify(policyWith({ serial: 5 })));
      await rm(f.signatureFile);
    }, 'PG_POLICY_SIGNATURE'],
    ['edited without signing again', async (f: SignedPolicyFixture) => {
      await writeFile(f.policyFile, stringify(policyWith({ serial: 5, allow: { form: [{ origin: 'https://evil.example', why: 'skimmer' }] } })));
    }, 'PG_POLICY_SIGNATURE'],
    ['rolled back (lower serial, correctly signed)', async (f: SignedPolicyFixture) => f.write(policyWith({ serial: 1 })), 'PG_POLICY_ROLLBACK'],
  ])('keeps the last good policy when the new one is %s', async (_, breakIt, code) => {
    const { fixture, holder, log } = await openHolder(3);
    const good = holder.current();
    const rejected: Error[] = [];
    holder.on('rejected', (e: Error) => rejected.push(e));
    await breakIt(fixture);
    const result = await holder.reload('manual');
    expect(result.ok).toBe(false);
    expect(holder.current()).toBe(good);
    expect({ accepted: holder.accepted, rejected: holder.rejected }).toEqual({ accepted: 0, rejected: 1 });
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as { code?: string }).code).toBe(code);
    expect(log).toContainEqual(expect.objectContaining({ event: 'policy-reload-rejected', trigger: 'manual', code, serialInForce: 3 }));
  });

  it('never throws, even when a listener does', async () => {
    const { fixture, holder } = await openHolder(1);
    holder.on('reloaded', () => {
      throw new Error('a metrics bug');
    });
    await fixture.write(policyWith({ serial: 2 }));
    await expect(holder.reload('manual')).resolves.toMatchObject({ ok: true });
    expect(holder.current().policy.serial).toBe(2);
  });

  it('runs concurrent reloads one at a time, and treats an unchanged policy as no change', async () => {
    const { fixture, holder } = await openHolder(1);
    await fixture.write(policyWith({ serial: 2 }));
    const results = await Promise.all([holder.reload('manual'), holder.reload('sighup'), holder.reload('file-change')]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(holder.accepted).toBe(1);
    expect(holder.current().policy.serial).toBe(2);
  });

  it('open() throws when the first policy cannot be put in force', async () => {
    const fixture = await makeSignedPolicy();
    cleanups.push(() => fixture.cleanup());
    await rm(fixture.signatureFile);
    await expect(PolicyHolder.open(fixture.loadOptions)).rejects.toBeInstanceOf(PolicySignatureError);
    await fixture.write(policyWith({ serial: 1 }));
    await PolicyHolder.open(fixture.loadOptions).then((h) => h.close());
    await fixture.write(policyWith({ serial: 0.5 as number }));
    await expect(PolicyHolder.open(fixture.loadOptions)).rejects.toThrow(/serial/);
    await fixture.write(policyWith({ serial: 1 }));
    // A new holder on the same state dir (a restart) keeps the floor.
    await fixture.write(policyWith({ serial: 4 }));
    await PolicyHolder.open(fixture.loadOptions).then((h) => h.close());
    await fixture.write(policyWith({ serial: 3 }));
    await expect(PolicyHolder.open(fixture.loadOptions)).rejects.toBeInstanceOf(PolicyRollbackError);
  });
});

describe('PolicyHolder.watch', () => {
  it.each([
    ['policy first, then signature', ['policy', 'signature'] as const],
    ['signature first, then policy', ['signature', 'policy'] as const],
  ])('reloads when both files are replaced by rename, %s; the half-updated pair is refused and retried', async (_, order) => {
    const { fixture, holder } = await openHolder(1, 50);
    holder.watch();
    const next = signed(fixture, 2);
    const content = { policy: [fixture.policyFile, next.text], signature: [fixture.signatureFile, next.signature] } as const;
    const rejectedOnce = once(holder, 'rejected', within(20_000));
    await replaceByRename(...content[order[0]]);
    // The first file alone does not verify against the other's old version: refused, old policy stays.
    await rejectedOnce;
    expect(holder.current().policy.serial).toBe(1);
    const reloaded = once(holder, 'reloaded', within(20_000));
    await replaceByRename(...content[order[1]]);
    const [inForce] = (await reloaded) as [PolicyInForce];
    expect(inForce.policy.serial).toBe(2);
    expect(holder.current()).toBe(inForce);
    expect(holder.accepted).toBe(1);
    expect(holder.rejected).toBeGreaterThanOrEqual(1);
  });

  it('coalesces both files landing together into one reload (debounce)', async () => {
    const { fixture, holder } = await openHolder(1, 300);
    holder.watch();
    const next = signed(fixture, 2);
    const reloaded = once(holder, 'reloaded', within(20_000));
    await Promise.all([replaceByRename(fixture.policyFile, next.text), replaceByRename(fixture.signatureFile, next.signature)]);
    await reloaded;
    expect(holder.current().policy.serial).toBe(2);
  });

  it('stops reloading after close()', async () => {
    const { fixture, holder, log } = await openHolder(1, 20);
    holder.watch();
    await holder.close();
    await fixture.write(policyWith({ serial: 2 }));
    // Prove the directory events were delivered to a live watcher meanwhile, then check ours stayed quiet.
    const { watch } = await import('node:fs');
    const probe = watch(fixture.dir);
    const seen = once(probe, 'change', within(10_000));
    await writeFile(join(fixture.dir, 'probe'), 'x');
    await seen;
    probe.close();
    expect(holder.current().policy.serial).toBe(1);
    expect(log.filter((e) => (e as { trigger?: string }).trigger === 'file-change')).toEqual([]);
  });
});

describe('SIGHUP', () => {
  it('reloads the policy in a running process', async () => {
    await buildCliAsync();
    const fixture = await makeSignedPolicy({ policy: { serial: 1 } });
    cleanups.push(() => fixture.cleanup());
    const reloadModule = pathToFileURL(join(REPO_ROOT, 'dist/src/policy/reload.js')).href;
    // A tiny server stand-in: opens the holder, installs the SIGHUP handler, reports each reload.
    const script = `
      const { PolicyHolder } = await import(${JSON.stringify(reloadModule)});
      const holder = await PolicyHolder.open(${JSON.stringify(fixture.loadOptions)});
      holder.handleSighup();
      holder.on('reloaded', (p) => { console.log('reloaded', p.policy.serial); process.exit(0); });
      holder.on('rejected', (e) => console.log('rejected', e.code));
      // Bounded: the child never outlives a broken test.
      setTimeout(() => { console.log('timeout'); process.exit(3); }, 300_000);
      console.log('ready', holder.current().policy.serial);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const exit = once(child, 'exit') as Promise<[number | null]>;
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const ready = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: string) => {
        stdout += d;
        if (stdout.includes('ready 1')) resolve();
      });
    });
    const exitedEarly = exit.then(() => {
      throw new Error(`child exited before it was ready: ${stdout}`);
    });
    exitedEarly.catch(() => undefined); // only an error if it wins the race below
    await Promise.race([ready, exitedEarly]);
    await fixture.write(policyWith({ serial: 2 }));
    child.kill('SIGHUP');
    const [code] = await exit;
    expect(stdout).toContain('reloaded 2');
    expect(code).toBe(0);
  }, 600_000);
});
