/**
 * The Prometheus Operator's PrometheusRule carries exactly the groups of
 * deploy/prometheus/alerts.yml, so Kubernetes and docker-compose alert on the same things.
 * deploy/kubernetes/generate-prometheusrule.mjs writes it; this fails when someone edits one
 * file and not the other.
 */
import { describe, expect, it } from 'vitest';
import { asRecord, readRepoText, readRepoYaml, readRepoYamlDocuments } from './helpers/repo.js';

const GENERATOR = '../../deploy/kubernetes/generate-prometheusrule.mjs';

describe('deploy/kubernetes/prometheusrule.yaml', () => {
  it('has the same rule groups as deploy/prometheus/alerts.yml', () => {
    const alerts = asRecord(readRepoYaml('deploy/prometheus/alerts.yml'), 'alerts.yml');
    const documents = readRepoYamlDocuments('deploy/kubernetes/prometheusrule.yaml');
    expect(documents).toHaveLength(1);
    const rule = asRecord(documents[0], 'PrometheusRule');
    expect(rule['kind']).toBe('PrometheusRule');
    expect(asRecord(rule['spec'], 'spec')['groups']).toEqual(alerts['groups']);
  });

  it('is exactly what the generator writes (run: node deploy/kubernetes/generate-prometheusrule.mjs)', async () => {
    const { renderPrometheusRule } = (await import(GENERATOR)) as { renderPrometheusRule(alerts: string): string };
    expect(readRepoText('deploy/kubernetes/prometheusrule.yaml')).toBe(renderPrometheusRule(readRepoText('deploy/prometheus/alerts.yml')));
  });

  it('a changed alert is a difference (the comparison is not vacuous)', async () => {
    const { renderPrometheusRule } = (await import(GENERATOR)) as { renderPrometheusRule(alerts: string): string };
    const edited = readRepoText('deploy/prometheus/alerts.yml').replace('for: 15m', 'for: 16m');
    expect(edited).not.toBe(readRepoText('deploy/prometheus/alerts.yml'));
    expect(renderPrometheusRule(edited)).not.toBe(readRepoText('deploy/kubernetes/prometheusrule.yaml'));
  });
});
