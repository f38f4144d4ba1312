/**
 * Running the real CLI (`node bin/payguard.js …`) from tests: build the compiled JS once (under a
 * lock, since test files run in parallel forks and other areas build too), then spawn it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/payguard.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

let built = false;

/**
 * `tsc -p tsconfig.json`, serialised by flock. Several test files (and areas) ask at once on a
 * 2-core machine, so a build that STARTED after our request already covers it: the stamp records
 * when the last build started, and we skip when that is later than our request.
 * tsc emits even when another area's work in progress has type errors, so success is "the CLI
 * entry point exists", not tsc's exit code.
 */
export function buildCli(): void {
  if (built) return;
  const result = spawnSync('flock', buildCommand(), { cwd: REPO_ROOT, encoding: 'utf8', timeout: 600_000 });
  if (result.error) throw result.error;
  if (!existsSync(MAIN)) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
  built = true;
}

/**
 * buildCli without blocking the test worker: a synchronous build of minutes on a loaded machine
 * starves vitest's worker RPC ("Timeout calling onTaskUpdate"). Prefer this in hooks.
 */
export async function buildCliAsync(): Promise<void> {
  if (built) return;
  const result = await runProcess('flock', buildCommand(), { timeoutMs: 600_000 });
  if (!existsSync(MAIN)) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
  built = true;
}

function buildCommand(): string[] {
  const requestedAt = Date.now();
  const script =
    `if [ -f "${BUILD_STAMP}" ] && [ "$(cat "${BUILD_STAMP}")" -ge ${requestedAt} ]; then exit 0; fi; ` +
    `start=$(date +%s%3N); npx tsc -p tsconfig.json; echo "$start" > "${BUILD_STAMP}"`;
  return ['/tmp/payguard-build.lock', 'sh', '-c', script];
}

const BUILD_STAMP = '/tmp/payguard-build.stamp';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runPayguard(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], options);
}

/** Any program (minisign included), with stdin fed from `input` and a hard time limit. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading its input
    child.stdin.end(options.input ?? '');
  });
}
