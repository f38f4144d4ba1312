/**
 * A live payguard as docker-compose runs it, on 127.0.0.1: `payguard demo policy` writes a signed
 * policy (key made and discarded), `payguard demo storefront` is the shop, and `payguard serve` is
 * configured through the same PAYGUARD_* environment variables the compose file and the Kubernetes
 * Deployment set. Every part is the real CLI (bin/payguard.js → dist/), as a separate process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../helpers/upstreams.js';
import { asRecord, readRepoYaml, repoPath } from './repo.js';

const run = promisify(execFile);
const CLI = repoPath('bin/payguard.js');
const OUTPUT_CAP = 64 * 1024;

export interface RunningProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far (capped), for failure messages. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

export interface LivePayguard {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly adminAddress: string;
  readonly payguard: RunningProcess;
  readonly storefront: RunningProcess;
  /** Stops whatever still runs and removes the temporary directory. */
  cleanup(): Promise<void>;
}

function startCli(args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    if (output.length < OUTPUT_CAP) output += chunk.toString('utf8');
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
export async function stopProcess(running: RunningProcess, graceMs = 20_000): Promise<number | null> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return running.child.exitCode;
  running.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const result = await Promise.race([running.exited, killed]);
  clearTimeout(timer);
  if (result === 'timeout') {
    running.child.kill('SIGKILL');
    await running.exited;
    throw new Error(`process did not exit within ${graceMs} ms of SIGTERM:\n${running.output()}`);
  }
  return result;
}

/**
 * Polls `url` until it answers 200, at most `attempts` times 100 ms apart, or the process exits.
 * Generous: on 2 shared cores a cold start (verifier workers, key checks) can take many seconds.
 */
async function waitFor200(url: string, process: RunningProcess, attempts = 600): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (process.child.exitCode !== null) throw new Error(`exited with ${process.child.exitCode} before ${url} answered:\n${process.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 after ${attempts} tries:\n${process.output()}`);
}

/**
 * The `payguard` service's environment from docker-compose.yml, with the addresses and paths that
 * only make sense inside the compose network replaced by local ones; every other value (drain
 * timeout, ...) is passed as written, so serve must accept it.
 */
function composeEnvironment(local: Record<string, string>): Record<string, string> {
  const services = asRecord(asRecord(readRepoYaml('docker-compose.yml'), 'docker-compose.yml')['services'], 'services');
  const environment = asRecord(asRecord(services['payguard'], 'payguard')['environment'], 'payguard environment');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) env[name] = local[name] ?? String(value);
  for (const name of Object.keys(local)) {
    if (!(name in environment)) throw new Error(`docker-compose.yml payguard sets no ${name}`);
  }
  return env;
}

export async function startLivePayguard(): Promise<LivePayguard> {
  if (!existsSync(repoPath('dist/src/cli/main.js'))) {
    throw new Error('dist/ is not built: run `npx tsc -p tsconfig.json` (npm test does) before test/deploy');
  }
  const dir = mkdtempSync(join(tmpdir(), 'payguard-deploy-'));
  const [proxyPort, adminPort, storefrontPort, gatewayPort, attackerPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const gatewayOrigin = `http://127.0.0.1:${gatewayPort}`;
  const processes: RunningProcess[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(processes.map((p) => stopProcess(p)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The compose file's one-shot `policy` service.
    await run(process.execPath, [CLI, 'demo', 'policy', '--out', join(dir, 'policy'), '--site', proxyUrl, '--gateway-origin', gatewayOrigin], {
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? '' },
    });
    const storefront = startCli([
      'demo', 'storefront',
      '--listen', `127.0.0.1:${storefrontPort}`,
      '--public-origin', proxyUrl,
      '--gateway-origin', gatewayOrigin,
      '--attacker-origin', `http://127.0.0.1:${attackerPort}`,
    ]);
    processes.push(storefront);
    await waitFor200(`http://127.0.0.1:${storefrontPort}/`, storefront);
    // The compose file's `payguard` service: configured by its environment only.
    const adminAddress = `127.0.0.1:${adminPort}`;
    const payguard = startCli(['serve'], composeEnvironment({
      PAYGUARD_UPSTREAM: `http://127.0.0.1:${storefrontPort}`,
      PAYGUARD_POLICY: join(dir, 'policy', 'policy.yaml'),
      PAYGUARD_PUBLIC_KEY: join(dir, 'policy', 'payguard.pub'),
      PAYGUARD_LISTEN: `127.0.0.1:${proxyPort}`,
      PAYGUARD_ADMIN: adminAddress,
      PAYGUARD_STATE_DIR: join(dir, 'state'),
    }));
    processes.push(payguard);
    const adminUrl = `http://${adminAddress}`;
    await waitFor200(`${adminUrl}/readyz`, payguard);
    return { proxyUrl, adminUrl, adminAddress, payguard, storefront, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
