/**
 * The bench's child processes (upstream, pass-through, payguard): started, waited for and
 * stopped by their own pid, each a separate process so /proc reports its CPU and memory alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class BenchChildError extends Error {
  override readonly name = 'BenchChildError';
}

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}

/** A child's side of the start-up handshake: one JSON line with the port, then serve until SIGTERM. */
export function announceListening(server: Server): void {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

export interface RunningChild {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last few KB of the child's stderr, for error messages. */
  stderrTail(): string;
  stop(): Promise<void>;
}

const STDERR_TAIL_BYTES = 4096;

export function startChild(name: string, args: readonly string[]): RunningChild {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new BenchChildError(`${name}: could not start ${args.join(' ')}`);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
  });
  const pid = child.pid;
  return {
    name,
    pid,
    process: child,
    stderrTail: () => stderr,
    stop: () => stopChild(child),
  };
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. payguard drains on SIGTERM and exits 0, which is also
 * when `node --cpu-prof` writes its profile, so the grace period must cover a drain.
 */
async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the child's `{"port":N}` line (see announceListening), failing after `timeoutMs`. */
export async function announcedPort(child: RunningChild, timeoutMs = 20_000): Promise<number> {
  const stdout = child.process.stdout!;
  stdout.setEncoding('utf8');
  return new Promise<number>((resolve, reject) => {
    let buffered = '';
    const fail = (why: string): void => {
      cleanup();
      reject(new BenchChildError(`${child.name}: ${why}\n${child.stderrTail()}`));
    };
    const onData = (text: string): void => {
      buffered += text;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      try {
        const { port } = JSON.parse(buffered.slice(0, newline)) as { port: unknown };
        if (typeof port !== 'number') throw new TypeError('no port');
        resolve(port);
      } catch {
        reject(new BenchChildError(`${child.name}: expected {"port":N}, got ${buffered.slice(0, newline)}`));
      }
    };
    const onExit = (code: number | null): void => fail(`exited (${code}) before listening`);
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.process.off('exit', onExit);
    }
    stdout.on('data', onData);
    child.process.on('exit', onExit);
  });
}

/**
 * The checkout's root: the nearest directory above this module holding payguard's package.json.
 * The harness runs compiled (dist/bench/) and its tests import the sources (bench/), which sit at
 * different depths.
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'payguard') return dir;
    } catch {
      // no package.json here
    }
    dir = dirname(dir);
  }
  throw new BenchChildError(`no payguard package.json above ${fileURLToPath(import.meta.url)}`);
}

/** The path of a compiled bench module, for `node <path>`. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** Runs a bench script to completion and parses the JSON line it prints (bounded by `timeoutMs`). */
export async function runChildForJson<T>(name: string, args: readonly string[], timeoutMs = 600_000): Promise<T> {
  const child = startChild(name, args);
  let stdout = '';
  child.process.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  const timer = setTimeout(() => void child.stop(), timeoutMs);
  const [code] = (await once(child.process, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new BenchChildError(`${name} exited with ${code}:\n${child.stderrTail()}`);
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;
  } catch {
    throw new BenchChildError(`${name}: expected one JSON line, got ${stdout.slice(0, 200)}`);
  }
}
