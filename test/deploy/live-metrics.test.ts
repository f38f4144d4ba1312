/**
 * The deploy files against a live payguard: the metric names every alert, recording rule and
 * dashboard query reads are ones a running `payguard serve` really exports (read from its /metrics
 * with a Prometheus text-format parser), the label names they use exist on those series, the
 * container's health probe works against it, /metrics is not reachable through the public port,
 * and SIGTERM (docker stop, kubectl delete) ends it with exit 0.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportedMetrics, type ExportedMetrics } from './helpers/exposition.js';
import { startLivePayguard, stopProcess, type LivePayguard } from './helpers/live-payguard.js';
import { parsePromQL, PROMETHEUS_SYNTHETIC_SERIES, TARGET_LABELS } from './helpers/promql.js';
import { alertRules, dashboardQueries, ruleQueries, type Query } from './helpers/queries.js';
import { repoPath } from './helpers/repo.js';

const run = promisify(execFile);

let live: LivePayguard;
let exported: ExportedMetrics;

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: await response.text() };
}

beforeAll(async () => {
  live = await startLivePayguard();
  // A known sequence, so the labelled series exist: a clean page, the 2019 fake payment form on
  // the checkout (blocked), then the storefront gone (an upstream error).
  expect((await get(`${live.proxyUrl}/`)).status).toBe(200);
  expect((await get(`${live.proxyUrl}/checkout?variant=fake-form-2019`)).status).toBe(502);
  expect((await get(`${live.proxyUrl}/checkout`)).status).toBe(200);
  expect(await stopProcess(live.storefront)).toBe(0);
  expect((await get(`${live.proxyUrl}/`)).status).toBe(502);
  const metrics = await get(`${live.adminUrl}/metrics`);
  expect(metrics.status).toBe(200);
  exported = exportedMetrics(metrics.body);
}, 180_000);

afterAll(async () => {
  await live?.cleanup();
});

/** Names a query may read: exported series, the rule file's recording rules, Prometheus' own. */
function unknownMetrics(queries: readonly Query[], allowRecorded: boolean): string[] {
  const recorded = new Set(alertRules().flatMap((r) => (r.record ? [r.record] : [])));
  return queries.flatMap((query) =>
    parsePromQL(query.expr).metricNames
      .filter((name) => !exported.seriesNames.has(name) && !PROMETHEUS_SYNTHETIC_SERIES.has(name) && !(allowRecorded && recorded.has(name)))
      .map((name) => `${query.where}: ${name}`),
  );
}

/** Label names a query uses that no series it reads carries; returns how many queries it could check. */
function unknownLabels(queries: readonly Query[]): { problems: string[]; checked: number } {
  const problems: string[] = [];
  let checked = 0;
  for (const query of queries) {
    const parsed = parsePromQL(query.expr);
    const labelSets = parsed.metricNames.map((name) => exported.labelsBySeries.get(name));
    // A family with no series yet (no CSP report was sent) shows no labels: nothing to compare.
    if (labelSets.some((labels) => labels === undefined || labels.size === 0)) continue;
    checked++;
    const known = new Set([...TARGET_LABELS, ...labelSets.flatMap((labels) => [...labels!])]);
    for (const [name, labels] of parsed.matcherLabels) {
      for (const label of labels) {
        if (!TARGET_LABELS.has(label) && !exported.labelsBySeries.get(name)!.has(label)) problems.push(`${query.where}: ${name} has no label ${label}`);
      }
    }
    for (const label of parsed.groupingLabels) if (!known.has(label)) problems.push(`${query.where}: no series it reads has label ${label}`);
  }
  return { problems, checked };
}

describe('deploy files against a live payguard serve', () => {
  it('exports the documented payguard metrics and the process metrics the dashboard uses', () => {
    for (const family of [
      'payguard_responses_total',
      'payguard_blocked_responses_total',
      'payguard_violations_total',
      'payguard_inspection_duration_seconds',
      'payguard_upstream_errors_total',
      'payguard_policy_info',
      'payguard_policy_reloads_total',
      'process_resident_memory_bytes',
    ]) {
      expect(exported.families.has(family), family).toBe(true);
    }
  });

  it('every metric an alert or recording rule reads is one payguard exports (or Prometheus makes)', () => {
    const queries = ruleQueries();
    expect(queries.length).toBeGreaterThan(5);
    expect(unknownMetrics(queries, true)).toEqual([]);
  });

  it('every metric a dashboard query reads is one payguard exports', () => {
    expect(unknownMetrics(dashboardQueries(), false)).toEqual([]);
  });

  it('a misspelt metric is caught (the comparison is not vacuous)', () => {
    expect(unknownMetrics([{ where: 'test', expr: 'rate(payguard_blocked_response_total[5m])' }], true)).toEqual(['test: payguard_blocked_response_total']);
  });

  it('the label names queries match and group on exist on the series they read', () => {
    const rules = unknownLabels(ruleQueries());
    const dashboard = unknownLabels(dashboardQueries());
    expect([...rules.problems, ...dashboard.problems]).toEqual([]);
    // Most queries read series the known request sequence created.
    expect(rules.checked + dashboard.checked).toBeGreaterThan(10);
    expect(unknownLabels([{ where: 'test', expr: 'sum by (reasons) (payguard_blocked_responses_total)' }]).problems).toHaveLength(1);
  });

  it('the image\'s health probe reports it healthy on /healthz (PAYGUARD_ADMIN) and ready on /readyz', async () => {
    const probe = repoPath('deploy/docker/healthcheck.mjs');
    await expect(run(process.execPath, [probe], { env: { PAYGUARD_ADMIN: live.adminAddress }, timeout: 20_000 })).resolves.toBeDefined();
    await expect(run(process.execPath, [probe, `${live.adminUrl}/readyz`], { timeout: 20_000 })).resolves.toBeDefined();
  });

  it('/metrics is not reachable through the public port', async () => {
    const throughProxy = await get(`${live.proxyUrl}/metrics`);
    expect(throughProxy.body).not.toContain('payguard_policy_info');
  });

  it('SIGTERM drains and exits 0 (docker stop, kubectl delete; tini forwards it)', async () => {
    expect(await stopProcess(live.payguard), live.payguard.output()).toBe(0);
  });
});
