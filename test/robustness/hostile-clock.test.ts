/**
 * A wall-clock jump under a running `payguard serve` (NTP stepping the clock, a VM resumed from a
 * snapshot, `date -s`). The child process is the real CLI with Date faked by a preloaded module
 * (hostile/clock-jump.mjs): each SIGUSR2 moves the wall clock, a year forward, then two back.
 * Invariants: durations come from the monotonic clock, so the report rate limit neither refills on
 * a forward jump nor locks up on a backward one; verdicts and the verdict cache do not depend on
 * the time; reloads still work; the wall clock only labels things (log `time`, evidence `at`), and
 * the evidence chain, ordered by seq and hashes, still verifies across the jumps.
 * payguard's policy has no validity window (a serial and a rollback floor instead), so there is no
 * expiry to jump over.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvidence } from '../../src/evidence/chain.js';
import { buildCliAsync } from '../helpers/cli.js';
import { signedPolicy, type SignedPolicy } from '../helpers/policies.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, POLICY_YAML } from '../proxy/support.js';
import { startServeChild, type ServeChild } from './hostile/serve-child.js';

const YEAR_MS = 365 * 24 * 3600 * 1000;
const CLOCK_MODULE = fileURLToPath(new URL('./hostile/clock-jump.mjs', import.meta.url));
const REPORT_PATH = '/.well-known/payguard/csp-report';

let storefront: Storefront;
let policy: SignedPolicy;
let payguard: ServeChild;

/** Moves payguard's wall clock by the next jump and waits until it says so. */
async function jumpClock(): Promise<void> {
  const jumps = (): number => (payguard.stderr().match(/clock-jump:/g) ?? []).length;
  const before = jumps();
  payguard.child.kill('SIGUSR2');
  for (let waited = 0; waited < 10_000 && jumps() === before; waited += 20) await sleep(20);
  expect(jumps()).toBe(before + 1);
}

async function status(path: string): Promise<number> {
  const res = await request(`${payguard.publicUrl}${path}`, { headers: NAVIGATION });
  await res.body.dump();
  return res.statusCode;
}

async function reports(count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await request(`${payguard.publicUrl}${REPORT_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/csp-report' },
      body: JSON.stringify({ 'csp-report': { 'effective-directive': 'connect-src', 'blocked-uri': 'https://evil.example/x' } }),
    });
    await res.body.dump();
    statuses.push(res.statusCode);
  }
  return statuses;
}

beforeAll(async () => {
  await buildCliAsync();
  storefront = await startStorefront({
    '/checkout/ok': { headers: [['content-type', 'text/html']], body: page('clean-checkout.html') },
    '/checkout/tampered': { headers: [['content-type', 'text/html']], body: page('fake-payment-form.html') },
    // A page never seen before each time: verified by a worker, not answered from the verdict cache.
    '/checkout/unique': (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page('clean-checkout.html').toString('utf8').replace('</body>', `<p>${String(req.headers['x-request-id'])}</p></body>`));
    },
  });
  policy = signedPolicy(POLICY_YAML);
  payguard = await startServeChild({
    upstream: storefront.url,
    policyFile: policy.policyFile,
    publicKeyFile: policy.publicKeyFile,
    stateDir: policy.stateDir,
    extraArgs: ['--verify-timeout', '20s'],
    imports: [CLOCK_MODULE],
    env: { CLOCK_JUMPS_MS: `${YEAR_MS},${-2 * YEAR_MS}` },
  });
}, 600_000);

afterAll(async () => {
  await payguard?.stop(5_000);
  await storefront?.close();
  policy?.remove();
});

describe('wall clock jumps under a running payguard', () => {
  it('before any jump: verdicts as usual, and a report flood runs the bucket dry', async () => {
    expect(await status('/checkout/ok')).toBe(200);
    expect(await status('/checkout/tampered')).toBe(502);
    const statuses = await reports(130);
    expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
  });

  it('a year forward: the empty bucket is not refilled, verdicts are unchanged, a new page is verified', async () => {
    await jumpClock();
    const statuses = await reports(20);
    // With Date-based durations a year's refill would accept all 20.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(await status('/checkout/ok')).toBe(200);
    expect(await status('/checkout/tampered')).toBe(502);
    expect(await status('/checkout/unique')).toBe(200);
  });

  it('two years back: nothing locks up, verdicts are unchanged, a new policy is reloaded', async () => {
    await jumpClock();
    expect(await status('/checkout/unique')).toBe(200);
    expect(await status('/checkout/tampered')).toBe(502);
    // The bucket refills at its normal rate: a backward jump does not lock the collector for years.
    let accepted = false;
    for (let i = 0; i < 40 && !accepted; i++) {
      accepted = (await reports(1))[0] === 204;
      if (!accepted) await sleep(250);
    }
    expect(accepted).toBe(true);
    policy.resign(POLICY_YAML.replace('serial: 1', 'serial: 2'));
    payguard.child.kill('SIGHUP');
    let serial = '';
    for (let i = 0; i < 200 && serial !== '2'; i++) {
      const metrics = await (await request(`${payguard.adminUrl}/metrics`)).body.text();
      serial = /payguard_policy_info\{serial="(\d+)"/.exec(metrics)?.[1] ?? '';
      if (serial !== '2') await sleep(50);
    }
    expect(serial).toBe('2');
  });

  it('durations stay non-negative, and the wall clock only labels: log times jump, the evidence chain still verifies', async () => {
    const metrics = await (await request(`${payguard.adminUrl}/metrics`)).body.text();
    const sum = Number(/payguard_inspection_duration_seconds_sum (\S+)/.exec(metrics)?.[1]);
    const count = Number(/payguard_inspection_duration_seconds_count (\S+)/.exec(metrics)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum / count).toBeLessThan(20);

    expect(await payguard.stop()).toBe(0);
    const years = new Set(payguard.logLines().map((l) => String(l['time']).slice(0, 4)));
    expect(years.size).toBeGreaterThanOrEqual(2);

    const chain = await readEvidence(policy.stateDir);
    expect(chain.ok).toBe(true);
    const accepted = chain.records.map((r) => r.record).filter((r) => r.type === 'policy-accepted');
    expect(accepted.map((r) => (r as { serial: number }).serial)).toEqual([1, 2]);
    // Serial 2 came into force after serial 1 but, by the stepped-back wall clock, a year "earlier".
    expect(Date.parse(accepted[1]!.at)).toBeLessThan(Date.parse(accepted[0]!.at));
  });
});
