/**
 * deploy/grafana: the dashboard JSON and its provisioning. Every query parses with Prometheus'
 * PromQL grammar after Grafana's variables are substituted, and the panels the issue asks for are
 * there. Whether the metrics they name exist is checked against a live payguard in
 * live-metrics.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parsePromQL } from './helpers/promql.js';
import { dashboard, dashboardPanels, dashboardQueries } from './helpers/queries.js';
import { asArray, asRecord, readRepoYaml } from './helpers/repo.js';
import { typeErrors } from './helpers/strict-fields.js';

describe('deploy/grafana/dashboards/payguard.json', () => {
  const board = dashboard();
  const panels = dashboardPanels();

  it('is a dashboard with a stable uid (docker-compose.yml and docs link /d/payguard)', () => {
    expect(board['uid']).toBe('payguard');
    expect(typeof board['title']).toBe('string');
    const ids = panels.length;
    expect(ids).toBeGreaterThan(5);
  });

  it('every query parses as PromQL, reads a named metric, and leaves no Grafana variable behind', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    for (const query of queries) {
      expect(query.expr, query.where).not.toContain('$');
      const parsed = parsePromQL(query.expr);
      expect(parsed.errorOffsets, `${query.where}: ${query.expr}`).toEqual([]);
      expect(parsed.metricNames.length, query.where).toBeGreaterThan(0);
      expect(parsed.unnamedSelectors, query.where).toEqual([]);
    }
  });

  it('every {{label}} in a legend is a label the query\'s result carries', () => {
    const board = asArray(dashboard()['panels'], 'panels').map((p) => asRecord(p, 'panel'));
    let checked = 0;
    for (const panel of board) {
      for (const target of asArray(panel['targets'] ?? [], 'targets').map((t) => asRecord(t, 'target'))) {
        const legend = String(target['legendFormat'] ?? '');
        const parsed = parsePromQL(String(target['expr']).replace(/\$__rate_interval/g, '1m').replace(/\$instance/g, '.*'));
        // An aggregation keeps only its grouping labels; a bare selector keeps its series' labels.
        if (parsed.groupingLabels.size === 0) continue;
        for (const [, label] of legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
          checked++;
          expect(parsed.groupingLabels, `panel "${String(panel['title'])}" legend ${legend}`).toContain(label);
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('has the panels operators asked for', () => {
    const reads = (predicate: (expr: string, metrics: readonly string[], grouping: ReadonlySet<string>) => boolean): boolean =>
      panels.some((p) => p.targets.some((t) => {
        const parsed = parsePromQL(t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$instance/g, '.*'));
        return predicate(t.expr, parsed.metricNames, parsed.groupingLabels);
      }));
    const groupedBy = (metric: string, ...labels: string[]) =>
      reads((_e, metrics, grouping) => metrics.includes(metric) && labels.every((l) => grouping.has(l)));
    expect(groupedBy('payguard_blocked_responses_total', 'reason', 'route'), 'blocked responses by reason and route').toBe(true);
    expect(groupedBy('payguard_violations_total', 'kind', 'origin'), 'violations by kind and origin').toBe(true);
    expect(groupedBy('payguard_csp_reports_total', 'directive'), 'CSP reports').toBe(true);
    expect(reads((e, m) => m.includes('payguard_inspection_duration_seconds_bucket') && e.startsWith('histogram_quantile(')), 'inspection latency quantiles').toBe(true);
    expect(groupedBy('payguard_policy_info', 'serial'), 'policy serial').toBe(true);
    expect(groupedBy('payguard_upstream_errors_total', 'kind'), 'upstream errors').toBe(true);
    expect(reads((_e, m) => m.includes('process_resident_memory_bytes')), 'RSS').toBe(true);
  });

  it('queries go to the datasource variable, whose default is the provisioned Prometheus', () => {
    const datasource = asRecord(readRepoYaml('deploy/grafana/provisioning/datasources/prometheus.yml'), 'datasources');
    const provisioned = asArray(datasource['datasources'], 'datasources').map((d) => asRecord(d, 'datasource'));
    expect(provisioned).toHaveLength(1);
    expect(provisioned[0]!['type']).toBe('prometheus');
    expect(provisioned[0]!['url']).toBe('http://prometheus:9090');
    const variables = asArray(asRecord(board['templating'], 'templating')['list'], 'list').map((v) => asRecord(v, 'variable'));
    const datasourceVariable = variables.find((v) => v['type'] === 'datasource')!;
    expect(asRecord(datasourceVariable['current'], 'current')['value']).toBe(provisioned[0]!['uid']);
    for (const panel of asArray(board['panels'], 'panels').map((p) => asRecord(p, 'panel'))) {
      if (panel['type'] === 'row') continue;
      expect(panel['datasource'], String(panel['title'])).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('the dashboards provider loads the folder docker-compose.yml mounts the dashboard into', () => {
    const provider = asRecord(asArray(asRecord(readRepoYaml('deploy/grafana/provisioning/dashboards/payguard.yml'), 'providers')['providers'], 'providers')[0], 'provider');
    expect(provider['type']).toBe('file');
    const compose = asRecord(readRepoYaml('docker-compose.yml'), 'compose');
    const grafana = asRecord(asRecord(compose['services'], 'services')['grafana'], 'grafana');
    expect(asArray(grafana['volumes'], 'volumes')).toContain(`./deploy/grafana/dashboards:${String(asRecord(provider['options'], 'options')['path'])}:ro`);
  });
});

/**
 * @grafana/schema types an annotation's `target` as the base DataQuery, without the Prometheus
 * query's `expr` (PromQuery); that one field is left to the PromQL checks above.
 */
function withoutAnnotationExprs(board: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(board);
  for (const annotation of asArray(asRecord(copy['annotations'], 'annotations')['list'], 'list')) {
    const target = asRecord(annotation, 'annotation')['target'];
    if (target !== undefined) delete asRecord(target, 'target')['expr'];
  }
  return copy;
}

/** The dashboard plus one with a misspelt panel field, type-checked in one TypeScript program (seconds each). */
const MISSPELT = 'misspelt copy of payguard.json';
let typeCheckResult: string[] | undefined;
function typeCheck(): string[] {
  if (typeCheckResult) return typeCheckResult;
  const board = withoutAnnotationExprs(dashboard());
  const broken = structuredClone(board);
  const panel = asRecord(asArray(broken['panels'], 'panels')[1], 'panel');
  panel['gridPoss'] = panel['gridPos'];
  delete panel['gridPos'];
  const asDashboard = (where: string, value: unknown) => ({ where, module: '@grafana/schema', type: 'Dashboard', value, stringEnumsAsLiterals: true });
  typeCheckResult = typeErrors([asDashboard('payguard.json', board), asDashboard(MISSPELT, broken)]);
  return typeCheckResult;
}

describe('deploy/grafana/dashboards/payguard.json against Grafana\'s dashboard model', () => {
  it('has no field Grafana\'s Dashboard type does not define, and no mistyped value (@grafana/schema)', () => {
    expect(typeCheck().filter((e) => !e.startsWith(`${MISSPELT}:`))).toEqual([]);
  });

  it('the check names a misspelt panel field (it is not vacuous)', () => {
    expect(typeCheck().filter((e) => e.startsWith(`${MISSPELT}:`)).join('\n')).toMatch(/gridPoss/);
  });
});
