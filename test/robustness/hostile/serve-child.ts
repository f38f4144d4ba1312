/**
 * The real `payguard serve` (bin/payguard.js → dist/) as a child process on 127.0.0.1 with ports
 * picked by the OS, its output kept for assertions. Callers build the CLI first (buildCliAsync).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../helpers/cli.js';

export interface ServeChild {
  readonly child: ChildProcess;
  readonly publicUrl: string;
  readonly adminUrl: string;
  stderr(): string;
  stdout(): string;
  /** The JSON log lines so far. */
  logLines(): Record<string, unknown>[];
  /** SIGTERM and the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface ServeArgs {
  readonly upstream: string;
  readonly policyFile: string;
  readonly publicKeyFile: string;
  readonly stateDir: string;
  readonly extraArgs?: readonly string[];
  /** `node --import` modules (a faked clock). */
  readonly imports?: readonly string[];
  readonly env?: Record<string, string>;
}

const OUTPUT_CAP = 4 * 1024 * 1024;

/** Spawns payguard serve; resolves once it says where it listens, rejects if it exits first. */
export async function startServeChild(args: ServeArgs, limitMs = 120_000): Promise<ServeChild> {
  const started = spawnServe(args);
  for (let waited = 0; waited < limitMs; waited += 50) {
    const publicUrl = /listening on (http:\/\/\S+) in front/.exec(started.stderr())?.[1];
    const adminUrl = /admin \(metrics, health\) on (http:\/\/\S+)\/metrics/.exec(started.stderr())?.[1];
    if (publicUrl && adminUrl) return { ...started, publicUrl, adminUrl };
    if (started.child.exitCode !== null) throw new Error(`payguard serve exited ${started.child.exitCode}:\n${started.stderr()}`);
    await sleep(50);
  }
  started.child.kill('SIGKILL');
  throw new Error(`payguard serve did not start within ${limitMs} ms:\n${started.stderr()}`);
}

/** Spawns payguard serve without waiting (for a start that is expected to fail). */
export function spawnServe(args: ServeArgs): Omit<ServeChild, 'publicUrl' | 'adminUrl'> {
  const imports = (args.imports ?? []).flatMap((m) => ['--import', m]);
  const child = spawn(
    process.execPath,
    [...imports, 'bin/payguard.js', 'serve', '--upstream', args.upstream, '--policy', args.policyFile, '--public-key', args.publicKeyFile,
      '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--state-dir', args.stateDir, ...(args.extraArgs ?? [])],
    { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', ...args.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < OUTPUT_CAP) stderr += d;
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    if (stdout.length < OUTPUT_CAP) stdout += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    logLines: () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resolves with the exit code of a child that is expected to stop on its own; bounded. */
export async function exitCodeOf(child: ChildProcess, limitMs = 60_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return code;
}
