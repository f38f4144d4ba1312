/**
 * The deploy files configure payguard through its CLI: the PAYGUARD_* variables they set and the
 * subcommands and flags they run must be ones the built CLI documents (bin/payguard.js --help),
 * so a renamed flag or a misspelt variable fails here instead of in a container.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { asArray, asRecord, isRecord, readRepoYaml, readRepoYamlDocuments, repoPath } from './helpers/repo.js';

const run = promisify(execFile);

async function help(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [repoPath('bin/payguard.js'), ...args, '--help'], { timeout: 30_000 });
  return stdout;
}

let serveHelp = '';
let demoHelp = '';
beforeAll(async () => {
  [serveHelp, demoHelp] = await Promise.all([help(['serve']), help(['demo'])]);
});

interface Configured {
  readonly where: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

function composeServices(): Configured[] {
  const services = asRecord(asRecord(readRepoYaml('docker-compose.yml'), 'compose')['services'], 'services');
  return Object.entries(services)
    .map(([name, value]) => ({ name, service: asRecord(value, name) }))
    .filter(({ service }) => service['image'] === 'payguard:0.1.0')
    .map(({ name, service }) => ({
      where: `docker-compose.yml ${name}`,
      command: asArray(service['command'], `${name} command`).map(String),
      env: isRecord(service['environment']) ? Object.fromEntries(Object.entries(service['environment']).map(([k, v]) => [k, String(v)])) : {},
    }));
}

function kubernetesContainers(): Configured[] {
  const [deployment] = readRepoYamlDocuments('deploy/kubernetes/deployment.yaml');
  const pod = asRecord(asRecord(asRecord(asRecord(deployment, 'deployment')['spec'], 'spec')['template'], 'template')['spec'], 'pod');
  return asArray(pod['containers'], 'containers').map((value) => {
    const container = asRecord(value, 'container');
    const env = asArray(container['env'] ?? [], 'env').map((e) => asRecord(e, 'env'));
    return {
      where: `deployment.yaml ${String(container['name'])}`,
      command: asArray(container['args'], 'args').map(String),
      env: Object.fromEntries(env.map((e) => [String(e['name']), String(e['value'])])),
    };
  });
}

describe('deploy files against the CLI they run', () => {
  const configured = [...composeServices(), ...kubernetesContainers()];

  it('every PAYGUARD_* variable they set is one `payguard serve --help` documents', () => {
    const documented = new Set(serveHelp.match(/PAYGUARD_[A-Z_]+/g) ?? []);
    expect(documented.size).toBeGreaterThan(5);
    for (const { where, env } of configured) {
      for (const name of Object.keys(env).filter((n) => n.startsWith('PAYGUARD_'))) expect(documented, `${where}: ${name}`).toContain(name);
    }
    expect(documented).not.toContain('PAYGUARD_PUBIC_KEY');
  });

  it('every subcommand and flag they run is one the CLI documents', () => {
    for (const { where, command } of configured) {
      const usage = command[0] === 'serve' ? serveHelp : command[0] === 'demo' ? demoHelp : undefined;
      expect(usage, `${where}: unknown command ${command[0]}`).toBeDefined();
      if (command[0] === 'demo') expect(demoHelp, where).toContain(`payguard demo ${command[1]} `);
      for (const flag of command.filter((arg) => arg.startsWith('--'))) expect(usage, `${where}: ${flag}`).toContain(`${flag} `);
    }
  });
});
