/**
 * deploy/prometheus/alerts.yml: the day-one alerts parse as a Prometheus rule file, every
 * expression parses with Prometheus' own PromQL grammar, and every alert carries what an
 * on-call engineer needs (a `for`, a severity, a summary, a description and a runbook that
 * exists in docs/deploy.md). Whether the metrics they name exist is checked against a live
 * payguard in live-metrics.test.ts; whether they fire when they should, by promtool.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parsePromQL } from './helpers/promql.js';
import { alertRules, ALERTS_FILE } from './helpers/queries.js';
import { asArray, asRecord, readRepoText, readRepoYaml } from './helpers/repo.js';

/** Prometheus' duration syntax (model.ParseDuration): units in descending order, each at most once. */
const PROMETHEUS_DURATION = /^(?:0|(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?)$/;
/** Keys a rule may have (Prometheus' rulefmt.RuleNode); anything else is a typo Prometheus rejects. */
const ALERT_KEYS = new Set(['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
const RECORD_KEYS = new Set(['record', 'expr', 'labels']);
const GROUP_KEYS = new Set(['name', 'interval', 'query_offset', 'limit', 'labels', 'rules']);
const SEVERITIES = new Set(['critical', 'warning', 'info']);

/** The alerts issue 8 asks for on day one, by what they watch. */
const DAY_ONE_ALERTS: Record<string, string> = {
  PayguardCheckoutBlocked: 'payguard_blocked_responses_total',
  PayguardCspReportSurge: 'payguard:csp_reports:rate5m',
  PayguardPolicyReloadRejected: 'payguard_policy_reloads_total',
  PayguardNotReady: 'payguard_policy_info',
  PayguardDown: 'up',
  PayguardPolicySerialMismatch: 'payguard_policy_info',
};

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    anchors.add(heading[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return anchors;
}

describe('deploy/prometheus/alerts.yml', () => {
  const rules = alertRules();
  const alerts = rules.filter((r) => r.alert !== undefined);

  it('is a rule file: groups with unique names, each rule an alert or a record with only known keys', () => {
    const groups = asArray(asRecord(readRepoYaml(ALERTS_FILE), ALERTS_FILE)['groups'], 'groups');
    const groupNames = groups.map((g) => String(asRecord(g, 'group')['name']));
    expect(new Set(groupNames).size).toBe(groupNames.length);
    for (const group of groups) {
      for (const key of Object.keys(asRecord(group, 'group'))) expect(GROUP_KEYS, `group key ${key}`).toContain(key);
    }
    for (const rule of rules) {
      const name = rule.alert ?? rule.record;
      expect(Boolean(rule.alert) !== Boolean(rule.record), `${name}: exactly one of alert/record`).toBe(true);
      const allowed = rule.alert ? ALERT_KEYS : RECORD_KEYS;
      for (const key of rule.keys) expect(allowed, `${name}: key ${key}`).toContain(key);
    }
    const alertNames = alerts.map((a) => a.alert);
    expect(new Set(alertNames).size).toBe(alertNames.length);
  });

  it('every expression parses as PromQL (Prometheus\' lezer grammar) and names at least one metric', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const parsed = parsePromQL(rule.expr);
      expect(parsed.errorOffsets, `${rule.alert ?? rule.record}: syntax error in ${rule.expr}`).toEqual([]);
      expect(parsed.metricNames.length, `${rule.alert ?? rule.record} reads no metric`).toBeGreaterThan(0);
      expect(parsed.unnamedSelectors, `${rule.alert ?? rule.record}`).toEqual([]);
    }
  });

  it('the PromQL check rejects what Prometheus rejects', () => {
    // So the check above cannot pass by accepting anything.
    expect(parsePromQL('rate(payguard_responses_total[5m]').errorOffsets).not.toEqual([]);
    expect(parsePromQL('sum by (route (payguard_responses_total)').errorOffsets).not.toEqual([]);
    expect(parsePromQL('payguard_responses_total{route=}').errorOffsets).not.toEqual([]);
    expect(parsePromQL('{__name__="payguard_policy_info"} == 1').metricNames).toEqual(['payguard_policy_info']);
  });

  it('has the day-one alerts, each reading the metric it is about', () => {
    for (const [alert, metric] of Object.entries(DAY_ONE_ALERTS)) {
      const rule = alerts.find((r) => r.alert === alert);
      expect(rule, `alert ${alert}`).toBeDefined();
      expect(parsePromQL(rule!.expr).metricNames, alert).toContain(metric);
    }
  });

  it('the serial-mismatch alert counts distinct serials across replicas', () => {
    const rule = alerts.find((r) => r.alert === 'PayguardPolicySerialMismatch')!;
    expect(rule.expr.replace(/\s+/g, ' ')).toMatch(/^count\(count by \(serial\) \(payguard_policy_info\{[^}]*\}( == 1)?\)\) > 1$/);
  });

  it('every alert has a for, a severity, a summary, a description and a runbook', () => {
    for (const rule of alerts) {
      expect(rule.for, `${rule.alert}: for`).toMatch(PROMETHEUS_DURATION);
      expect(SEVERITIES, `${rule.alert}: severity`).toContain(rule.labels['severity']);
      for (const annotation of ['summary', 'description', 'runbook']) {
        const text = rule.annotations[annotation];
        expect(typeof text === 'string' && text.trim().length > 10, `${rule.alert}: ${annotation}`).toBe(true);
      }
    }
  });

  it('every runbook points at a section of docs/deploy.md that exists', () => {
    const anchors = headingAnchors(readRepoText('docs/deploy.md'));
    for (const rule of alerts) {
      const link = /^docs\/deploy\.md#([a-z0-9_-]+):/.exec(String(rule.annotations['runbook']));
      expect(link, `${rule.alert}: runbook must start with docs/deploy.md#anchor:`).not.toBeNull();
      expect(anchors, `${rule.alert}: docs/deploy.md has no heading for #${link![1]}`).toContain(link![1]);
    }
  });

  it('recording rules follow level:metric:operations naming, and every recorded name a rule reads is defined', () => {
    const records = rules.filter((r) => r.record !== undefined).map((r) => r.record!);
    for (const record of records) expect(record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
    for (const rule of rules) {
      for (const name of parsePromQL(rule.expr).metricNames) {
        if (name.includes(':')) expect(records, `${rule.alert ?? rule.record} reads ${name}`).toContain(name);
      }
    }
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const config = asRecord(readRepoYaml('deploy/prometheus/prometheus.yml'), 'prometheus.yml');

  it('loads alerts.yml and scrapes payguard under job="payguard", the job every alert selects', () => {
    expect(config['rule_files']).toEqual(['alerts.yml']);
    const jobs = asArray(config['scrape_configs'], 'scrape_configs').map((c) => asRecord(c, 'scrape config'));
    const payguard = jobs.find((j) => j['job_name'] === 'payguard');
    expect(payguard).toBeDefined();
    expect(payguard!['metrics_path'] ?? '/metrics').toBe('/metrics');
    const targets = asArray(payguard!['static_configs'], 'static_configs').flatMap((s) => asArray(asRecord(s, 'static')['targets'], 'targets'));
    // The admin port, over the compose network (the service name in docker-compose.yml).
    expect(targets).toEqual(['payguard:9464']);
    for (const rule of alertRules()) {
      if (/\bup\b|payguard_/.test(rule.expr)) expect(rule.expr, rule.alert ?? rule.record).toContain('job="payguard"');
    }
  });
});
