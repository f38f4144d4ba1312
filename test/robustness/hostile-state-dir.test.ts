/**
 * A full disk (or a broken state dir) under a running payguard. Decided behaviour
 * (docs/robustness.md "Hostile edges"): the proxy keeps serving with the last good policy; a new
 * policy is refused until its rollback floor can be recorded (fail closed: never a policy whose
 * rollback protection is not durable); a failed evidence write is logged and counted and never
 * touches a verdict. Both show in `payguard_state_errors_total{what}`.
 * The full disk is a real one where this machine lets us mount a tiny tmpfs (root in a container);
 * elsewhere the floor fails by its path being a directory, and the evidence file is /dev/full
 * (every write ENOSPC) in both cases.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StateDirError } from '../../src/errors.js';
import { openEvidence } from '../../src/evidence/open.js';
import { createLogger } from '../../src/observe/log.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { FLOOR_FILE } from '../../src/policy/floor.js';
import { signMessage } from '../../src/policy/minisign.js';
import { PolicyHolder } from '../../src/policy/reload.js';
import { request } from 'undici';
import { buildCliAsync } from '../helpers/cli.js';
import { makeSignedPolicy, policyWith, signedPolicy, type SignedPolicyFixture } from '../helpers/policies.js';
import { startStorefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, POLICY_YAML } from '../proxy/support.js';
import { exitCodeOf, spawnServe, startServeChild } from './hostile/serve-child.js';
import { Scrape } from '../observe/prom.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
});

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines(): Record<string, unknown>[] } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return {
    logger: createLogger(out),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function stateErrors(metrics: ReturnType<typeof createMetrics>, what: string): Promise<number> {
  return new Scrape(await metrics.registry.metrics()).value('payguard_state_errors_total', { what });
}

/** A tiny tmpfs at `dir`, or undefined where mounting is not allowed. */
function mountTinyTmpfs(dir: string): (() => Promise<void>) | undefined {
  // PAYGUARD_TEST_NO_MOUNT=1 runs the fallback where mounting works too.
  if (process.env['PAYGUARD_TEST_NO_MOUNT'] === '1') return undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return async () => void execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
}

async function signRelease(fixture: SignedPolicyFixture, serial: number): Promise<void> {
  const bytes = Buffer.from(stringify(policyWith({ serial })));
  await writeFile(fixture.policyFile, bytes);
  await writeFile(fixture.signatureFile, signMessage(bytes, fixture.key.secretKey, { fileName: 'policy' }));
}

describe('full disk for the state dir', () => {
  // The child-process cases run the compiled CLI; on 2 shared cores a build can take minutes.
  beforeAll(() => buildCliAsync(), 600_000);

  it('the rollback floor cannot be recorded: the new policy is refused, the last good one stays, and it is counted', async () => {
    const fixture = await makeSignedPolicy();
    cleanups.push(() => fixture.cleanup());
    const stateDir = join(fixture.dir, 'state-mount');
    await mkdir(stateDir);
    const unmount = mountTinyTmpfs(stateDir);
    if (unmount) cleanups.unshift(unmount);
    const holder = await PolicyHolder.open({ ...fixture.loadOptions, stateDir });
    cleanups.unshift(() => holder.close());
    const metrics = createMetrics();
    const untrack = metrics.trackPolicy(holder);
    cleanups.unshift(async () => untrack());
    expect(await stateErrors(metrics, 'floor')).toBe(0);

    const filler = join(stateDir, 'filler');
    if (unmount) {
      // Fill the disk: the write stops at ENOSPC.
      await writeFile(filler, Buffer.alloc(256 * 1024)).catch((err: NodeJS.ErrnoException) => expect(err.code).toBe('ENOSPC'));
    } else {
      await rm(join(stateDir, FLOOR_FILE));
      await mkdir(join(stateDir, FLOOR_FILE));
    }
    await signRelease(fixture, 2);
    const refused = await holder.reload('manual');
    expect(refused.ok).toBe(false);
    expect((refused as { error: { code?: string } }).error.code).toBe('PG_POLICY_STATE');
    if (unmount) expect((refused as { error: Error }).error.message).toContain('the disk is full');
    expect(holder.current().policy.serial).toBe(1);
    expect(await stateErrors(metrics, 'floor')).toBe(1);

    // Space comes back: the same release goes into force on the next reload.
    if (unmount) await rm(filler);
    else await rm(join(stateDir, FLOOR_FILE), { recursive: true });
    const accepted = await holder.reload('manual');
    expect(accepted.ok).toBe(true);
    expect(holder.current().policy.serial).toBe(2);
  });

  it('evidence writes fail with ENOSPC: each failure logged and counted, nothing thrown', async () => {
    const fixture = await makeSignedPolicy();
    cleanups.push(() => fixture.cleanup());
    await mkdir(join(fixture.stateDir, 'evidence'), { recursive: true });
    await symlink('/dev/full', join(fixture.stateDir, 'evidence', 'current.ndjson'));
    const holder = await PolicyHolder.open(fixture.loadOptions);
    cleanups.unshift(() => holder.close());
    const metrics = createMetrics();
    const { logger, lines } = capturedLogger();
    const evidence = await openEvidence(fixture.stateDir, logger, { onWriteFailure: () => metrics.recordStateError('evidence'), flushIntervalMs: 20 });
    evidence.follow(holder, 'enforced');
    for (let i = 0; i < 50; i++) evidence.recorder.detected({ route: '/checkout/**', reason: 'foreign-form-action', kind: 'form-action', origin: `https://skim${i % 5}.evil.example`, action: 'blocked' });
    // The periodic flush meets the full disk (bounded wait).
    for (let waited = 0; waited < 5_000 && (await stateErrors(metrics, 'evidence')) < 2; waited += 20) await sleep(20);
    await evidence.close();
    const failures = lines().filter((l) => l['event'] === 'evidence-write-failed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(failures)).toMatch(/ENOSPC/);
    expect(await stateErrors(metrics, 'evidence')).toBeGreaterThanOrEqual(2);
  });

  it('a state dir that cannot hold the evidence directory at all is a clear error at start, not a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-state-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // The evidence dir's name is taken by a file.
    await writeFile(join(dir, 'evidence'), 'not a directory');
    const { logger } = capturedLogger();
    const error = await openEvidence(dir, logger).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StateDirError);
    expect((error as StateDirError).code).toBe('PG_STATE_DIR');
    expect((error as Error).message).toContain(join(dir, 'evidence'));
  });

  it('payguard serve with its evidence file on /dev/full keeps serving verdicts and shows the failures in /metrics', { timeout: 180_000 }, async () => {
    const storefront = await startStorefront({
      '/checkout/ok': { headers: [['content-type', 'text/html']], body: page('clean-checkout.html') },
      '/checkout/tampered': { headers: [['content-type', 'text/html']], body: page('fake-payment-form.html') },
    });
    cleanups.push(() => storefront.close());
    const policy = signedPolicy(POLICY_YAML);
    cleanups.push(async () => policy.remove());
    await mkdir(join(policy.stateDir, 'evidence'), { recursive: true });
    await symlink('/dev/full', join(policy.stateDir, 'evidence', 'current.ndjson'));
    const payguard = await startServeChild({ upstream: storefront.url, policyFile: policy.policyFile, publicKeyFile: policy.publicKeyFile, stateDir: policy.stateDir });
    cleanups.unshift(async () => void (await payguard.stop(5_000)));
    for (const [path, expected] of [['/checkout/ok', 200], ['/checkout/tampered', 502]] as const) {
      const res = await request(`${payguard.publicUrl}${path}`, { headers: NAVIGATION });
      await res.body.dump();
      expect(res.statusCode).toBe(expected);
    }
    let failures = 0;
    for (let i = 0; i < 100 && failures === 0; i++) {
      failures = new Scrape(await (await request(`${payguard.adminUrl}/metrics`)).body.text()).value('payguard_state_errors_total', { what: 'evidence' });
      if (failures === 0) await sleep(50);
    }
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(await payguard.stop()).toBe(0);
    expect(payguard.logLines().some((l) => l['event'] === 'evidence-write-failed')).toBe(true);
  });

  it('payguard serve whose state dir cannot hold the evidence log exits 2 with the path, not a stack trace', { timeout: 180_000 }, async () => {
    const policy = signedPolicy(POLICY_YAML);
    cleanups.push(async () => policy.remove());
    await mkdir(policy.stateDir, { recursive: true });
    await writeFile(join(policy.stateDir, 'evidence'), 'a file where the evidence directory belongs');
    const started = spawnServe({ upstream: 'http://127.0.0.1:9', policyFile: policy.policyFile, publicKeyFile: policy.publicKeyFile, stateDir: policy.stateDir });
    expect(await exitCodeOf(started.child)).toBe(2);
    expect(started.stderr()).toContain(join(policy.stateDir, 'evidence'));
    expect(started.stderr()).not.toMatch(/\n\s+at /);
  });
});
