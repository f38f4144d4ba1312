/**
 * deploy/kubernetes/: every manifest validates against its JSON Schema (the Kubernetes OpenAPI
 * schemas and the Prometheus Operator CRDs, as compiled by the kubernetes-models packages; no
 * cluster, no network) and has no field its API does not define (checked through the TypeScript
 * types generated from the same schemas), kustomization.yaml against the subset in deploy/schemas/, and the sidecar
 * keeps its promises: the shop is reachable only through payguard, probes on the admin port,
 * policy and key read-only, non-root, read-only root, no capabilities.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { describe, expect, it } from 'vitest';
import { asArray, asRecord, isRecord, readRepoYaml, readRepoYamlDocuments, repoFileExists, repoPath } from './helpers/repo.js';
import { fieldErrors } from './helpers/strict-fields.js';

const DIR = 'deploy/kubernetes';

type Model = { validate(): void };
/** apiVersion/kind → the model whose validate() runs the resource's JSON Schema. */
const MODELS: Record<string, (data: Record<string, unknown>) => Model> = {
  'apps/v1/Deployment': (d) => new Deployment(d as never),
  'v1/Service': (d) => new Service(d as never),
  'networking.k8s.io/v1/NetworkPolicy': (d) => new NetworkPolicy(d as never),
  'monitoring.coreos.com/v1/ServiceMonitor': (d) => new ServiceMonitor(d as never),
  'monitoring.coreos.com/v1/PrometheusRule': (d) => new PrometheusRule(d as never),
};

function schemaErrors(resource: Record<string, unknown>): string | undefined {
  const model = MODELS[`${String(resource['apiVersion'])}/${String(resource['kind'])}`];
  if (!model) return `no schema for ${String(resource['apiVersion'])} ${String(resource['kind'])}`;
  try {
    model(resource).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const kustomization = asRecord(readRepoYaml(`${DIR}/kustomization.yaml`), 'kustomization');
const resourceFiles = asArray(kustomization['resources'], 'resources').map(String);
const resources = resourceFiles.flatMap((file) =>
  readRepoYamlDocuments(`${DIR}/${file}`).map((doc) => ({ file, resource: asRecord(doc, file) })),
);

function find(kind: string, name: string): Record<string, unknown> {
  const hit = resources.find(({ resource }) => resource['kind'] === kind && asRecord(resource['metadata'], 'metadata')['name'] === name);
  if (!hit) throw new Error(`no ${kind} ${name} in ${DIR}`);
  return hit.resource;
}

const deployment = find('Deployment', 'storefront');
const podSpec = asRecord(asRecord(asRecord(deployment['spec'], 'spec')['template'], 'template')['spec'], 'pod spec');
const containers = asArray(podSpec['containers'], 'containers').map((c) => asRecord(c, 'container'));
const payguard = containers.find((c) => c['name'] === 'payguard')!;
const volumes = asArray(podSpec['volumes'], 'volumes').map((v) => asRecord(v, 'volume'));

function env(container: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(asArray(container['env'] ?? [], 'env').map((e) => [String(asRecord(e, 'env')['name']), String(asRecord(e, 'env')['value'])]));
}
function mount(container: Record<string, unknown>, volume: string): Record<string, unknown> | undefined {
  return asArray(container['volumeMounts'] ?? [], 'volumeMounts').map((m) => asRecord(m, 'mount')).find((m) => m['name'] === volume);
}
function volume(name: string): Record<string, unknown> {
  const found = volumes.find((v) => v['name'] === name);
  if (!found) throw new Error(`no volume ${name}`);
  return found;
}
/** The payguard container of a (copied) Deployment's pod template. */
function payguardIn(copy: Record<string, unknown>): Record<string, unknown> {
  const pod = asRecord(asRecord(asRecord(copy['spec'], 'spec')['template'], 'template')['spec'], 'pod');
  return asArray(pod['containers'], 'containers').map((c) => asRecord(c, 'container')).find((c) => c['name'] === 'payguard')!;
}

function preStopSleepSeconds(container: Record<string, unknown>): number {
  const command = asArray(asRecord(asRecord(asRecord(container['lifecycle'], 'lifecycle')['preStop'], 'preStop')['exec'], 'exec')['command'], 'command');
  expect(command[0]).toBe('/bin/sleep');
  return Number(command[1]);
}

/** The repository's manifests plus one with a misspelt probe, type-checked in one TypeScript program (seconds each). */
const MISSPELT = 'misspelt copy of deployment.yaml';
let fieldCheckResult: string[] | undefined;
function fieldCheck(): string[] {
  if (fieldCheckResult) return fieldCheckResult;
  const broken = structuredClone(deployment);
  const container = payguardIn(broken);
  container['readinesProbe'] = container['readinessProbe'];
  delete container['readinessProbe'];
  fieldCheckResult = fieldErrors([
    ...resources.map(({ file, resource }) => ({ where: `${file} ${String(resource['kind'])}`, resource })),
    { where: MISSPELT, resource: broken },
  ]);
  return fieldCheckResult;
}

describe('deploy/kubernetes manifests', () => {
  it('every resource validates against its Kubernetes / Prometheus Operator JSON Schema', () => {
    expect(resources.length).toBeGreaterThanOrEqual(6);
    for (const { file, resource } of resources) {
      expect(schemaErrors(resource), `${file}: ${String(resource['kind'])}`).toBeUndefined();
    }
  });

  it('the schema check rejects a wrongly typed field and an unknown kind (it is not vacuous)', () => {
    const broken = structuredClone(deployment);
    payguardIn(broken)['ports'] = [{ name: 'http', containerPort: '8080' }];
    expect(schemaErrors(broken)).toMatch(/containerPort/);
    const probe = structuredClone(deployment);
    payguardIn(probe)['readinessProbe'] = { httpGet: { path: '/readyz' } };
    expect(schemaErrors(probe)).toMatch(/port/);
    expect(schemaErrors({ apiVersion: 'v1', kind: 'Servise', metadata: { name: 'x' } })).toMatch(/no schema/);
  });

  it('no manifest has a field its API does not define (a misspelt key is not silently dropped)', () => {
    expect(fieldCheck().filter((e) => !e.startsWith(`${MISSPELT}:`))).toEqual([]);
  });

  it('the unknown-field check names a misspelt field deep in a pod spec (it is not vacuous)', () => {
    const errors = fieldCheck().filter((e) => e.startsWith(`${MISSPELT}:`));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/readinesProbe/);
  });

  it('every manifest in the folder is listed in kustomization.yaml, and every listed file exists', () => {
    const manifests = readdirSync(repoPath(DIR)).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect(resourceFiles.slice().sort()).toEqual(manifests.sort());
  });

  it('kustomization.yaml validates against deploy/schemas/kustomization.schema.json (unknown keys rejected)', () => {
    const schema = JSON.parse(readFileSync(repoPath('deploy/schemas/kustomization.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    expect(validate(kustomization), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...kustomization, resource: resourceFiles })).toBe(false);
  });
});

describe('the storefront Deployment with payguard as its sidecar', () => {
  it('the storefront listens on loopback only and exposes no port; payguard owns the pod\'s ports', () => {
    const storefront = containers.find((c) => c['name'] === 'storefront')!;
    expect(storefront['ports']).toBeUndefined();
    expect(asArray(storefront['args'], 'args')).toContain('127.0.0.1:8081');
    expect(env(payguard)['PAYGUARD_UPSTREAM']).toBe('http://127.0.0.1:8081');
    const ports = asArray(payguard['ports'], 'ports').map((p) => asRecord(p, 'port'));
    expect(ports.map((p) => [p['name'], p['containerPort']])).toEqual([['http', 8080], ['admin', 9464]]);
    expect(env(payguard)['PAYGUARD_LISTEN']).toBe('0.0.0.0:8080');
    expect(env(payguard)['PAYGUARD_ADMIN']).toBe('0.0.0.0:9464');
  });

  it('readiness is /readyz and liveness /healthz, both on the admin port', () => {
    expect(asRecord(payguard['readinessProbe'], 'readiness')['httpGet']).toEqual({ path: '/readyz', port: 'admin' });
    expect(asRecord(payguard['livenessProbe'], 'liveness')['httpGet']).toEqual({ path: '/healthz', port: 'admin' });
  });

  it('the policy, its signature and the public key come from ConfigMaps mounted read-only as whole directories', () => {
    const environment = env(payguard);
    for (const [volumeName, file] of [['policy', environment['PAYGUARD_POLICY']], ['public-key', environment['PAYGUARD_PUBLIC_KEY']]] as const) {
      const m = mount(payguard, volumeName)!;
      expect(m['readOnly'], volumeName).toBe(true);
      // subPath mounts never see ConfigMap updates, so payguard would never reload.
      expect(m['subPath'], volumeName).toBeUndefined();
      expect(file!.startsWith(`${String(m['mountPath'])}/`), `${file} is under ${String(m['mountPath'])}`).toBe(true);
      expect(isRecord(volume(volumeName)['configMap']), volumeName).toBe(true);
    }
  });

  it('the ConfigMaps the volumes name are the ones kustomization.yaml generates, from files it names', () => {
    const generated = asArray(kustomization['configMapGenerator'], 'configMapGenerator').map((g) => asRecord(g, 'generator'));
    const byName = new Map(generated.map((g) => [String(g['name']), asArray(g['files'], 'files').map(String)]));
    expect(byName.get(String(asRecord(volume('policy')['configMap'], 'cm')['name']))?.map((f) => f.split('/').pop())).toEqual(['policy.yaml', 'policy.yaml.minisig']);
    expect(byName.get(String(asRecord(volume('public-key')['configMap'], 'cm')['name']))?.map((f) => f.split('/').pop())).toEqual(['payguard.pub']);
    const environment = env(payguard);
    expect(environment['PAYGUARD_POLICY']!.endsWith('/policy.yaml')).toBe(true);
    expect(environment['PAYGUARD_PUBLIC_KEY']!.endsWith('/payguard.pub')).toBe(true);
    expect(repoFileExists(`${DIR}/policy/README.md`)).toBe(true);
  });

  it('the state dir is an emptyDir: nothing shared between pods', () => {
    const stateMount = asArray(payguard['volumeMounts'], 'mounts').map((m) => asRecord(m, 'm')).find((m) => m['mountPath'] === env(payguard)['PAYGUARD_STATE_DIR'])!;
    expect(isRecord(volume(String(stateMount['name']))['emptyDir'])).toBe(true);
    for (const v of volumes) expect(v['persistentVolumeClaim'], String(v['name'])).toBeUndefined();
  });

  it('runs non-root with a read-only root filesystem, no capabilities, no privilege escalation, and resource bounds', () => {
    const podSecurity = asRecord(podSpec['securityContext'], 'pod securityContext');
    expect(podSecurity['runAsNonRoot']).toBe(true);
    expect(podSecurity['runAsUser']).toBe(10001);
    for (const container of containers) {
      const name = String(container['name']);
      const security = asRecord(container['securityContext'], `${name} securityContext`);
      expect(security['readOnlyRootFilesystem'], name).toBe(true);
      expect(security['allowPrivilegeEscalation'], name).toBe(false);
      expect(asRecord(security['capabilities'], 'capabilities')['drop'], name).toEqual(['ALL']);
      const resourcesOf = asRecord(container['resources'], `${name} resources`);
      expect(asRecord(resourcesOf['requests'], 'requests')['memory'], name).toBeDefined();
      expect(asRecord(resourcesOf['limits'], 'limits')['memory'], name).toBeDefined();
      // A read-only root still needs a writable /tmp for Node and most shops.
      expect(asArray(container['volumeMounts'], 'mounts').some((m) => asRecord(m, 'm')['mountPath'] === '/tmp'), name).toBe(true);
    }
  });

  it('the grace period outlasts payguard\'s preStop pause plus its drain, and the storefront outlives payguard', () => {
    const storefront = containers.find((c) => c['name'] === 'storefront')!;
    const drain = /^(\d+)s$/.exec(env(payguard)['PAYGUARD_DRAIN_TIMEOUT'] ?? '');
    expect(drain, 'PAYGUARD_DRAIN_TIMEOUT set in seconds').not.toBeNull();
    const payguardStop = preStopSleepSeconds(payguard) + Number(drain![1]);
    expect(Number(podSpec['terminationGracePeriodSeconds'])).toBeGreaterThan(payguardStop);
    expect(preStopSleepSeconds(storefront)).toBeGreaterThan(payguardStop);
    expect(Number(podSpec['terminationGracePeriodSeconds'])).toBeGreaterThan(preStopSleepSeconds(storefront));
  });
});

describe('Services, NetworkPolicy and ServiceMonitor', () => {
  const podLabels = asRecord(asRecord(asRecord(asRecord(deployment['spec'], 's')['template'], 't')['metadata'], 'm')['labels'], 'labels');
  const selects = (selector: unknown, labels: Record<string, unknown>): boolean =>
    Object.entries(asRecord(selector, 'selector')).every(([k, v]) => labels[k] === v);

  it('the storefront Service sends traffic to payguard\'s port, never to the shop or the admin port', () => {
    const service = asRecord(find('Service', 'storefront')['spec'], 'spec');
    expect(selects(service['selector'], podLabels)).toBe(true);
    const ports = asArray(service['ports'], 'ports').map((p) => asRecord(p, 'port'));
    expect(ports.map((p) => p['targetPort'])).toEqual(['http']);
  });

  it('the ServiceMonitor scrapes /metrics on the admin port through the payguard-metrics Service only', () => {
    const monitor = asRecord(find('ServiceMonitor', 'payguard')['spec'], 'spec');
    const selector = asRecord(monitor['selector'], 'selector')['matchLabels'];
    const metricsService = find('Service', 'payguard-metrics');
    expect(selects(selector, asRecord(asRecord(metricsService['metadata'], 'm')['labels'], 'labels'))).toBe(true);
    expect(selects(selector, asRecord(asRecord(find('Service', 'storefront')['metadata'], 'm')['labels'], 'labels'))).toBe(false);
    const endpoints = asArray(monitor['endpoints'], 'endpoints').map((e) => asRecord(e, 'endpoint'));
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]!['port']).toBe('admin');
    expect(endpoints[0]!['path']).toBe('/metrics');
    const metricsPorts = asArray(asRecord(metricsService['spec'], 'spec')['ports'], 'ports').map((p) => asRecord(p, 'p'));
    expect(metricsPorts.map((p) => [p['name'], p['targetPort']])).toEqual([['admin', 'admin']]);
    // The alerts select job="payguard" whatever the Service is called.
    expect(endpoints[0]!['relabelings']).toContainEqual({ action: 'replace', targetLabel: 'job', replacement: 'payguard' });
  });

  it('the NetworkPolicy opens the public port to all and the admin port only to the monitoring namespace', () => {
    const policy = asRecord(find('NetworkPolicy', 'storefront-payguard')['spec'], 'spec');
    expect(selects(asRecord(policy['podSelector'], 'podSelector')['matchLabels'], podLabels)).toBe(true);
    const rules = asArray(policy['ingress'], 'ingress').map((r) => asRecord(r, 'rule'));
    const open = rules.filter((r) => r['from'] === undefined);
    expect(open.flatMap((r) => asArray(r['ports'], 'ports').map((p) => asRecord(p, 'p')['port']))).toEqual(['http']);
    const admin = rules.find((r) => asArray(r['ports'], 'ports').some((p) => asRecord(p, 'p')['port'] === 'admin'))!;
    expect(asArray(admin['from'], 'from').length).toBeGreaterThan(0);
  });
});
