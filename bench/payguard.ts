/**
 * payguard as the bench runs it: the real CLI (`node bin/payguard.js serve`) in a child process
 * of its own, with a policy signed for this run, so /proc/<pid> measures payguard alone.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BenchChildError, repoRoot, startChild, type RunningChild } from './child.js';
import type { SignedPolicy } from './policy.js';

const execFileAsync = promisify(execFile);

export const PAYGUARD_BIN = join(repoRoot(), 'bin', 'payguard.js');

/**
 * Whether `payguard serve` is built yet: the scaffolding answers its --help with "being built".
 * Returns the reason when it is not, so the report can say why the payguard rows are missing.
 */
export async function payguardServeMissing(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [PAYGUARD_BIN, 'serve', '--help'], { timeout: 20_000 });
    return /being built/.test(stdout) ? '`payguard serve` is still scaffolding' : undefined;
  } catch (err) {
    return `\`payguard serve --help\` failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

export interface RunningPayguard {
  readonly child: RunningChild;
  /** From spawn to /readyz answering 200: start-up, which a profile of the process starts with. */
  readonly readyAfterMs: number;
  readonly url: string;
  readonly adminUrl: string;
}

export interface PayguardLaunch {
  readonly upstreamUrl: string;
  readonly policy: SignedPolicy;
  readonly stateDir: string;
  /** Write a V8 CPU profile (`node --cpu-prof`) into this directory when the process exits. */
  readonly cpuProfileDir?: string;
}

export async function startPayguard(launch: PayguardLaunch, name: string): Promise<RunningPayguard> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const nodeFlags = launch.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${launch.cpuProfileDir}`] : [];
  const child = startChild(name, [
    ...nodeFlags,
    PAYGUARD_BIN,
    'serve',
    '--upstream', launch.upstreamUrl,
    '--policy', launch.policy.policyFile,
    '--public-key', launch.policy.publicKeyFile,
    '--listen', `127.0.0.1:${port}`,
    '--admin', `127.0.0.1:${adminPort}`,
    '--state-dir', launch.stateDir,
  ]);
  // payguard logs a JSON line per violation (the rewrite rows make one per request): drain its
  // stdout so a full pipe never stalls it.
  child.process.stdout!.resume();
  const spawnedAt = performance.now();
  const endpoints = { child, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` };
  await waitUntilReady(endpoints);
  return { ...endpoints, readyAfterMs: performance.now() - spawnedAt };
}

/** A port the kernel just handed out; payguard's CLI takes explicit ports. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new BenchChildError('no free port');
  return address.port;
}

/** /readyz answers 200 once a verified policy is in force (the proxy issue's contract). */
async function waitUntilReady(payguard: Omit<RunningPayguard, 'readyAfterMs'>, timeoutMs = 30_000, pollMs = 100): Promise<void> {
  const attempts = Math.ceil(timeoutMs / pollMs);
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (payguard.child.process.exitCode !== null) break;
    try {
      const res = await fetch(`${payguard.adminUrl}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  await payguard.child.stop();
  throw new BenchChildError(`${payguard.child.name} was not ready within ${timeoutMs} ms:\n${payguard.child.stderrTail()}`);
}

interface MetricFamily {
  readonly name: string;
  readonly metrics: readonly { readonly value?: string; readonly labels?: Readonly<Record<string, string>> }[];
}

// The package ships no types; typed here at its one call site instead of an ambient module
// declaration (test/observe declares one, and two would clash under tsconfig.test.json).
const parsePrometheusText = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => MetricFamily[];

/** payguard_responses_total summed per verdict (clean, blocked, rewritten, reported, passed). */
export async function responsesByVerdict(payguard: RunningPayguard): Promise<Record<string, number>> {
  const res = await fetch(`${payguard.adminUrl}/metrics`);
  const families = parsePrometheusText(await res.text());
  const counts: Record<string, number> = {};
  for (const sample of families.find((f) => f.name === 'payguard_responses_total')?.metrics ?? []) {
    const verdict = sample.labels?.verdict ?? 'unknown';
    counts[verdict] = (counts[verdict] ?? 0) + Number(sample.value ?? 0);
  }
  return counts;
}

export function verdictDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const verdict of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[verdict] ?? 0) - (before[verdict] ?? 0);
    if (d !== 0) delta[verdict] = d;
  }
  return delta;
}

export function stateDirIn(dir: string, name: string): string {
  return join(dir, `state-${name}`);
}
