/**
 * Issue 4 "Life cycle": SIGHUP reloads the policy (a response is checked against exactly one
 * policy, and traffic sees no errors across the swap); SIGTERM drains through the real CLI (an
 * in-flight request completes, exit code 0); a bad policy at start is a clear error, exit 2.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedPolicy } from '../helpers/policies.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { Scrape } from '../observe/prom.js';
import { buildCliInBackground, NAVIGATION, page, POLICY_YAML, startHarness, type Harness } from './support.js';

const CLEAN = page('clean-checkout.html');
/** The same policy with the gateway no longer allowed for forms: the clean page becomes a violation. */
const WITHOUT_GATEWAY = (serial: number): string =>
  POLICY_YAML.replace('serial: 1', `serial: ${serial}`).replace(
    'form:     [{ origin: https://pay.gateway.example, why: card payment gateway }]',
    'form:     [{ origin: https://other.gateway.example, why: the new gateway }]',
  );
const WITH_GATEWAY = (serial: number): string => POLICY_YAML.replace('serial: 1', `serial: ${serial}`);

describe('policy reload under traffic', () => {
  let storefront: Storefront;
  let harness: Harness;
  beforeAll(async () => {
    storefront = await startStorefront({ '/checkout/pay': { headers: [['content-type', 'text/html; charset=utf-8']], body: CLEAN, chunkSize: 512 } });
    harness = await startHarness(storefront);
    harness.holder.handleSighup();
  });
  afterAll(async () => {
    await harness.stop();
    await storefront.close();
  });

  it('swaps policies atomically on reload() and SIGHUP while requests flow, with no errors', async () => {
    type Phase = 'before' | 'during-b' | 'b' | 'during-c' | 'c';
    let phase: Phase = 'before';
    let stop = false;
    const outcomes: { phase: Phase; status: number }[] = [];
    const completedIn = (p: Phase): number => outcomes.filter((o) => o.phase === p).length;
    const MAX_REQUESTS = 3_000;
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (!stop && issued < MAX_REQUESTS) {
        issued++;
        const started = phase;
        const res = await request(`${harness.payguard.publicUrl}/checkout/pay`, { headers: NAVIGATION });
        await res.body.dump();
        outcomes.push({ phase: started, status: res.statusCode });
      }
    };
    const traffic = Promise.all(Array.from({ length: 6 }, worker));
    // Bounded waits (no timing assertion): each phase runs until 20 of its requests completed.
    const settle = async (p: Phase): Promise<void> => {
      for (let i = 0; i < 6_000 && completedIn(p) < 20 && issued < MAX_REQUESTS; i++) await new Promise((r) => setTimeout(r, 10));
    };

    await settle('before');
    phase = 'during-b';
    harness.policy.resign(WITHOUT_GATEWAY(2));
    const result = await harness.holder.reload('manual');
    expect(result.ok).toBe(true);
    phase = 'b';
    await settle('b');
    phase = 'during-c';
    harness.policy.resign(WITH_GATEWAY(3));
    process.kill(process.pid, 'SIGHUP');
    for (let i = 0; i < 3_000 && harness.holder.current().policy.serial !== 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(harness.holder.current().policy.serial).toBe(3);
    phase = 'c';
    await settle('c');
    stop = true;
    await traffic;

    // Never anything but a verdict: served (policy 1 or 3) or blocked (policy 2).
    for (const o of outcomes) expect([200, 502]).toContain(o.status);
    for (const p of ['before', 'b', 'c'] as const) expect(completedIn(p)).toBeGreaterThanOrEqual(20);
    expect(outcomes.filter((o) => o.phase === 'before').every((o) => o.status === 200)).toBe(true);
    expect(outcomes.filter((o) => o.phase === 'b').every((o) => o.status === 502)).toBe(true);
    expect(outcomes.filter((o) => o.phase === 'c').every((o) => o.status === 200)).toBe(true);

    const scrape = new Scrape(await (await request(`${harness.payguard.adminUrl}/metrics`)).body.text());
    expect(scrape.value('payguard_policy_reloads_total', { result: 'accepted' })).toBe(2);
    expect(scrape.value('payguard_policy_info', { serial: '3' })).toBe(1);
  }, 180_000);

  it('keeps the last good policy when the new one does not verify', async () => {
    writeFileSync(harness.policy.policyFile, WITHOUT_GATEWAY(9)); // not signed again: the signature no longer matches
    const result = await harness.holder.reload('manual');
    expect(result.ok).toBe(false);
    expect(harness.holder.current().policy.serial).toBe(3);
    const res = await request(`${harness.payguard.publicUrl}/checkout/pay`, { headers: NAVIGATION });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
  });
});

describe('the real CLI', () => {
  let storefront: Storefront;
  beforeAll(async () => {
    // Under a lock shared with every other area's build: may wait a while on a busy machine.
    await buildCliInBackground();
    storefront = await startStorefront({
      '/checkout/slow': { delayMs: 1_500, headers: [['content-type', 'text/html; charset=utf-8']], body: CLEAN },
    });
  }, 600_000);
  afterAll(async () => {
    await storefront.close();
  });

  const BIN = fileURLToPath(new URL('../../bin/payguard.js', import.meta.url));

  it('drains on SIGTERM: the in-flight request completes and the exit code is 0', async () => {
    const policy = signedPolicy(POLICY_YAML);
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--state-dir', policy.stateDir],
      {
        env: { ...process.env, PAYGUARD_UPSTREAM: storefront.url, PAYGUARD_POLICY: policy.policyFile, PAYGUARD_PUBLIC_KEY: policy.publicKeyFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let stderr = '';
      child.stderr.setEncoding('utf8');
      const publicUrl = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: string) => {
          stderr += d;
          const m = /listening on (http:\/\/\S+)/.exec(stderr);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`payguard exited early (${code}): ${stderr}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const inFlight = request(`${publicUrl}/checkout/slow`, { headers: NAVIGATION });
      for (let i = 0; i < 200 && storefront.requestsFor('/checkout/slow').length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGTERM');
      const res = await inFlight;
      const body = Buffer.from(await res.body.arrayBuffer());
      expect(res.statusCode).toBe(200);
      expect(body.equals(CLEAN)).toBe(true);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      policy.remove();
    }
  }, 180_000);

  it('refuses to start on a policy that does not verify, naming the file, exit 2', async () => {
    const policy = signedPolicy(POLICY_YAML);
    try {
      const tampered = readFileSync(policy.policyFile, 'utf8').replace('serial: 1', 'serial: 2');
      writeFileSync(policy.policyFile, tampered);
      const child = spawn(process.execPath, [BIN, 'serve', '--upstream', storefront.url, '--policy', policy.policyFile, '--public-key', policy.publicKeyFile, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--state-dir', policy.stateDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(stderr).toContain('policy.yaml');
    } finally {
      policy.remove();
    }
  }, 180_000);

  it('rejects a bad flag value with a usage error, exit 2', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--upstream', 'ftp://x', '--policy', 'p', '--public-key', 'k'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--upstream');
  }, 180_000);
});
