/**
 * Issue 16, item 6: the shadow policy cannot slow the enforced path. Shadow verifications have
 * their own lane in the verifier pool: started only on a worker that is idle while no enforced page
 * waits, at most LIMITS.shadowVerificationsInFlight at once, skipped (counted) rather than queued.
 * Real worker threads and real HTTP on 127.0.0.1; every wait is a bounded loop, nothing is timed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/policy/model.js';
import { SINK_PATH } from '../../src/reserved-paths.js';
import { VerifyPool, type InspectTask, type ShadowAttempt } from '../../src/proxy/workers/pool.js';
import { buildCli } from '../helpers/cli.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, POLICY_YAML, startHarness, type Harness } from './support.js';

const HTML = [['content-type', 'text/html; charset=utf-8']] as [string, string][];

/** Polls a condition every 25 ms, at most 2,400 times (a minute): a bound, not a timing assertion. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the shadow lane of the verifier pool', () => {
  const policy = (serial: number): Policy => ({
    schema: 1,
    serial,
    site: 'https://shop.example',
    routes: [{ path: '/**', mode: 'block' }],
    allow: { form: [], script: [], frame: [], navigate: [], connect: [], image: [], style: [], font: [], media: [], manifest: [], inline: [] },
    defaultCharset: 'utf-8',
  });
  const enforcedPolicy = compilePolicy(policy(1));
  const candidatePolicy = compilePolicy(policy(2));
  let pageNumber = 0;
  const task = (lane: 'enforced' | 'shadow'): InspectTask => ({
    policy: lane === 'enforced' ? enforcedPolicy : candidatePolicy,
    bytes: Buffer.from(`<!DOCTYPE html><title>page ${++pageNumber}</title><form action="/pay"><input name=card></form>`),
    url: 'https://shop.example/checkout/',
    headers: HTML,
    mode: 'block',
    rewrite: false,
    sinkPath: SINK_PATH,
  });
  const pools: VerifyPool[] = [];
  /** A pool whose workers have all loaded (a worker is handed tasks only once loaded). */
  const loadedPool = async (size: number, shadowInFlight: number): Promise<VerifyPool> => {
    const pool = new VerifyPool(size, 60_000, shadowInFlight);
    pools.push(pool);
    await eventually(() => pool.load.idleWorkers === size);
    expect(pool.load.idleWorkers).toBe(size);
    return pool;
  };
  const started = (attempt: ShadowAttempt): Promise<unknown> => {
    if (!attempt.started) throw new Error(`shadow verification skipped (${attempt.reason})`);
    return attempt.reply;
  };

  beforeAll(() => {
    // The workers run compiled JS (a worker thread cannot load .ts on Node 20).
    if (!existsSync(fileURLToPath(new URL('../../dist/src/proxy/workers/worker.js', import.meta.url)))) buildCli();
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });

  it('skips a shadow page, never queues it, while an enforced page runs or waits (one worker)', async () => {
    const pool = await loadedPool(1, 1);
    const running = pool.inspect(task('enforced'));
    expect(pool.load).toEqual({ enforcedWaiting: 0, enforcedVerifying: 1, shadowVerifying: 0, idleWorkers: 0 });
    expect(pool.inspectInShadow(task('shadow'))).toEqual({ started: false, reason: 'no-idle-worker' });
    const waiting = pool.inspect(task('enforced'));
    expect(pool.load.enforcedWaiting).toBe(1);
    expect(pool.inspectInShadow(task('shadow'))).toEqual({ started: false, reason: 'enforced-waiting' });
    // Nothing of the shadow was queued: the two enforced pages are all the pool holds.
    expect(pool.load).toEqual({ enforcedWaiting: 1, enforcedVerifying: 1, shadowVerifying: 0, idleWorkers: 0 });
    await Promise.all([running, waiting]);
    expect(pool.load).toEqual({ enforcedWaiting: 0, enforcedVerifying: 0, shadowVerifying: 0, idleWorkers: 1 });
  });

  it('serves an enforced page submitted while a shadow page runs next, ahead of any later shadow page (one worker)', async () => {
    const pool = await loadedPool(1, 1);
    const served: string[] = [];
    const shadow = started(pool.inspectInShadow(task('shadow'))).then(() => served.push('shadow'));
    expect(pool.load).toEqual({ enforcedWaiting: 0, enforcedVerifying: 0, shadowVerifying: 1, idleWorkers: 0 });
    const first = pool.inspect(task('enforced')).then(() => served.push('enforced 1'));
    // A shadow page arriving behind a waiting enforced page does not get in between.
    expect(pool.inspectInShadow(task('shadow'))).toEqual({ started: false, reason: 'enforced-waiting' });
    const second = pool.inspect(task('enforced')).then(() => served.push('enforced 2'));
    expect(pool.load).toEqual({ enforcedWaiting: 2, enforcedVerifying: 0, shadowVerifying: 1, idleWorkers: 0 });
    await Promise.all([shadow, first, second]);
    expect(served).toEqual(['shadow', 'enforced 1', 'enforced 2']);
    // Idle again: the shadow lane is open.
    await started(pool.inspectInShadow(task('shadow')));
  });

  it('runs at most the in-flight cap of shadow pages, even with idle workers (two workers, cap 1)', async () => {
    const pool = await loadedPool(2, 1);
    const shadow = started(pool.inspectInShadow(task('shadow')));
    expect(pool.inspectInShadow(task('shadow'))).toEqual({ started: false, reason: 'shadow-in-flight' });
    expect(pool.load).toEqual({ enforcedWaiting: 0, enforcedVerifying: 0, shadowVerifying: 1, idleWorkers: 1 });
    // The idle worker is still there for an enforced page, at once.
    const enforced = pool.inspect(task('enforced'));
    expect(pool.load).toEqual({ enforcedWaiting: 0, enforcedVerifying: 1, shadowVerifying: 1, idleWorkers: 0 });
    await Promise.all([shadow, enforced]);
  });

  it('under any interleaving, shadow pages stay within the cap, never start while an enforced page waits, and every enforced page is verified', async () => {
    const shadowRuns: number[] = [];
    const configurations = [
      { size: 2, cap: 1 },
      { size: 3, cap: 2 },
    ];
    for (const { size, cap } of configurations) {
      const pool = await loadedPool(size, cap);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom('enforced', 'shadow', 'settle'), { maxLength: 24 }), async (steps) => {
          const outstanding: Promise<unknown>[] = [];
          let shadowsStarted = 0;
          for (const step of steps) {
            const before = pool.load;
            if (step === 'enforced') outstanding.push(pool.inspect(task('enforced')));
            if (step === 'settle') await outstanding.shift();
            if (step === 'shadow') {
              const attempt = pool.inspectInShadow(task('shadow'));
              if (attempt.started) {
                shadowsStarted++;
                expect(before.enforcedWaiting).toBe(0);
                expect(before.shadowVerifying).toBeLessThan(cap);
                expect(before.idleWorkers).toBeGreaterThan(0);
                outstanding.push(attempt.reply);
              } else if (before.enforcedWaiting > 0) {
                expect(attempt.reason).toBe('enforced-waiting');
              } else if (before.shadowVerifying >= cap) {
                expect(attempt.reason).toBe('shadow-in-flight');
              } else {
                expect([attempt.reason, before.idleWorkers]).toEqual(['no-idle-worker', 0]);
              }
            }
            const now = pool.load;
            expect(now.shadowVerifying).toBeLessThanOrEqual(cap);
            // Work-conserving: nothing waits while a worker is idle.
            if (now.enforcedWaiting > 0) expect(now.idleWorkers).toBe(0);
          }
          // Every enforced page and every started shadow page is verified (none refused, none lost).
          const settled = await Promise.allSettled(outstanding);
          expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
          expect(pool.load).toEqual({ enforcedWaiting: 0, enforcedVerifying: 0, shadowVerifying: 0, idleWorkers: size });
          shadowRuns.push(shadowsStarted);
        }),
        { numRuns: 25 },
      );
    }
    // The property was not vacuous: shadow pages did start.
    expect(shadowRuns.some((n) => n > 0)).toBe(true);
  });
});

/**
 * The candidate swaps the script allow-list: current allows cdn.shop.example, the candidate allows
 * tags.example instead. Even pages load a cdn script (current: clean, candidate: blocked, so
 * `stricter`), odd pages a tags.example one (current: blocked, candidate: clean, so `looser`):
 * every page judged in shadow is a disagreement, so judged + skipped accounts for every page.
 */
const CANDIDATE_YAML = POLICY_YAML.replace('serial: 1', 'serial: 2').replace(
  'script:   [{ origin: https://cdn.shop.example, why: storefront assets }]',
  'script:   [{ origin: https://tags.example, why: tag manager under evaluation }]',
);
const BURST = 40;
const MAX_BURSTS = 10;

function pagePath(n: number): string {
  return `/checkout/p${n}`;
}

function pageBody(n: number): string {
  const script = n % 2 === 0 ? 'https://cdn.shop.example/app.js' : 'https://tags.example/t.js';
  // Unique bytes per page: no verdict comes from the verification cache.
  return `<!doctype html><title>page ${n}</title><script src="${script}"></script><form action="https://pay.gateway.example/charge"><input name=card></form>${'<p>filler</p>'.repeat(200)}`;
}

interface Outcome {
  readonly status: number;
  readonly body: string | undefined;
}

/** A burst of concurrent page loads (BURST in flight), each outcome by path; a block page's body differs per request, so only its status is kept. */
async function burst(baseUrl: string, first: number): Promise<Map<string, Outcome>> {
  const paths = Array.from({ length: BURST }, (_, i) => pagePath(first + i));
  const outcomes = await Promise.all(
    paths.map(async (path) => {
      const res = await request(baseUrl + path, { headers: NAVIGATION });
      const body = await res.body.text();
      return [path, { status: res.statusCode, body: res.statusCode === 200 ? body : undefined }] as const;
    }),
  );
  return new Map(outcomes);
}

async function counter(harness: Harness, name: string): Promise<Record<string, number>> {
  const metric = harness.metrics.registry.getSingleMetric(name);
  const values: Record<string, number> = {};
  for (const { labels, value } of (await metric!.get()).values) {
    const key = Object.values(labels).join(',');
    values[key] = (values[key] ?? 0) + value;
  }
  return values;
}

const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);

describe('payguard serve --shadow-policy under a burst (one worker)', () => {
  let shop: Storefront;
  let harness: Harness | undefined;
  beforeAll(async () => {
    const pages = Object.fromEntries(Array.from({ length: BURST * MAX_BURSTS }, (_, n) => [pagePath(n), { headers: HTML, body: pageBody(n) }]));
    shop = await startStorefront(pages);
  });
  afterAll(async () => {
    await harness?.stop();
    await shop?.close();
  });

  it('a saturated shadow never changes an enforced verdict', async () => {
    // With a shadow policy: bursts until the shadow has been saturated (skipped) at least once.
    harness = await startHarness(shop, { verifyWorkers: 1, shadowPolicyYaml: CANDIDATE_YAML });
    const withShadow = new Map<string, Outcome>();
    let bursts = 0;
    while (bursts < MAX_BURSTS) {
      for (const [path, outcome] of await burst(harness.payguard.publicUrl, bursts * BURST)) withShadow.set(path, outcome);
      bursts++;
      // Every page is either judged in shadow (a disagreement, by construction) or skipped: wait for the last ones to finish.
      const shadow = harness;
      const accounted = async (): Promise<number> => sum(await counter(shadow, 'payguard_shadow_disagreements_total')) + sum(await counter(shadow, 'payguard_shadow_skipped_total'));
      await eventually(async () => (await accounted()) === bursts * BURST);
      expect(await accounted()).toBe(bursts * BURST);
      if (sum(await counter(harness, 'payguard_shadow_skipped_total')) > 0) break;
    }
    const skipped = await counter(harness, 'payguard_shadow_skipped_total');
    const disagreements = await counter(harness, 'payguard_shadow_disagreements_total');
    const blockedWithShadow = await counter(harness, 'payguard_blocked_responses_total');
    const logWithShadow = harness.logLines();
    await harness.stop();
    harness = undefined;

    // The shadow was saturated, yet still judged pages (the last of each burst at least), and said so in metrics only.
    expect(sum(skipped)).toBeGreaterThan(0);
    expect(Object.keys(skipped).sort()).toEqual(['enforced-waiting', 'no-idle-worker', 'shadow-in-flight']);
    expect(sum(disagreements)).toBeGreaterThan(0);
    expect(sum(skipped) + sum(disagreements)).toBe(bursts * BURST);
    expect(logWithShadow.filter((l) => l.event === 'shadow-failed')).toEqual([]);
    expect(logWithShadow.filter((l) => l.event === 'shadow-disagreement')).toHaveLength(sum(disagreements));
    // A skip is counted, not logged: no other per-request shadow line.
    expect(logWithShadow.filter((l) => /^shadow-/.test(String(l.event)) && l.event !== 'shadow-policy' && l.event !== 'shadow-disagreement')).toEqual([]);

    // The same pages without a shadow policy: the verdicts every client got must be the same.
    harness = await startHarness(shop, { verifyWorkers: 1 });
    const withoutShadow = new Map<string, Outcome>();
    for (let b = 0; b < bursts; b++) for (const [path, outcome] of await burst(harness.payguard.publicUrl, b * BURST)) withoutShadow.set(path, outcome);
    const blockedWithoutShadow = await counter(harness, 'payguard_blocked_responses_total');
    expect(withShadow.size).toBe(bursts * BURST);
    expect(withShadow).toEqual(withoutShadow);
    expect(blockedWithShadow).toEqual(blockedWithoutShadow);
    // And they are the verdicts the pages call for: no inspection-timeout, no other refusal.
    for (const [path, outcome] of withShadow) {
      const n = Number(path.slice('/checkout/p'.length));
      expect(outcome, path).toEqual(n % 2 === 0 ? { status: 200, body: pageBody(n) } : { status: 502, body: undefined });
    }
    expect(Object.keys(blockedWithShadow)).toEqual(['/checkout/**,foreign-script']);
  });

  it('docs/observability.md documents the shadow metrics with their labels', async () => {
    const text = await readFile(new URL('../../docs/observability.md', import.meta.url), 'utf8');
    const rows = { payguard_shadow_disagreements_total: ['route', 'direction'], payguard_shadow_skipped_total: ['reason', 'enforced-waiting', 'shadow-in-flight', 'no-idle-worker'] };
    for (const [name, words] of Object.entries(rows)) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      for (const word of words) expect(row, `${name}: ${word}`).toContain(`\`${word}\``);
    }
  });
});
