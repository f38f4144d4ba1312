/**
 * payguard as the fuzz runs it: the real CLI (`node bin/payguard.js serve`) in a child process, so a
 * crash is an exit the test sees, with every stdout log line and all of stderr kept for the checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';
import { signedPolicy, type SignedPolicy } from '../../helpers/policies.js';

export const FUZZ_POLICY_YAML = readFileSync(new URL('./pages/policy.yaml', import.meta.url), 'utf8');

export interface PayguardChild {
  readonly publicUrl: string;
  readonly adminUrl: string;
  readonly process: ChildProcess;
  readonly policy: SignedPolicy;
  alive(): boolean;
  /** Every JSON log line so far. */
  logLines(): Record<string, unknown>[];
  stderr(): string;
  stop(): Promise<number | null>;
}

export interface ChildOptions {
  readonly upstream: string;
  readonly extraArgs?: readonly string[];
}

export async function startPayguardChild(options: ChildOptions): Promise<PayguardChild> {
  const policy = signedPolicy(FUZZ_POLICY_YAML);
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'payguard.js'),
      'serve',
      '--upstream', options.upstream,
      '--policy', policy.policyFile,
      '--public-key', policy.publicKeyFile,
      '--listen', '127.0.0.1:0',
      '--admin', '127.0.0.1:0',
      '--state-dir', policy.stateDir,
      ...(options.extraArgs ?? []),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const parsed = (): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const listening = await waitFor(child, () => parsed().find((l) => l.event === 'listening'), () => stderr);
  return {
    publicUrl: String(listening.public),
    adminUrl: String(listening.admin),
    process: child,
    policy,
    alive: () => child.exitCode === null && child.signalCode === null,
    logLines: parsed,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(kill);
      }
      policy.remove();
      return child.exitCode;
    },
  };
}

/** Polls the log until `found` returns a line (bounded: 60 s, or the child exits). */
async function waitFor<T>(child: ChildProcess, found: () => T | undefined, stderr: () => string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = found();
    if (value !== undefined) return value;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`payguard serve did not start:\n${stderr()}`);
}
