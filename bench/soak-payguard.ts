/**
 * payguard as the soak runs it: the real CLI in a child process, its JSON log read line by line
 * (blocks by request id, anything logged at level "error"), its /metrics parsed, and its open TCP
 * connections counted from /proc (proc(5): /proc/<pid>/fd and /proc/net/tcp{,6}).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './child.js';
import type { SoakPolicyFiles } from './soak-policy.js';

interface MetricFamily {
  readonly name: string;
  readonly metrics: readonly { readonly value?: string; readonly labels?: Readonly<Record<string, string>> }[];
}

// The package ships no types; typed at its one call site (as bench/payguard.ts does).
const parsePrometheusText = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => MetricFamily[];

export interface SoakPayguard {
  readonly pid: number;
  readonly publicUrl: string;
  readonly adminUrl: string;
  readonly process: ChildProcess;
  /** Blocked responses by request id, with the reason payguard logged. */
  readonly blocked: ReadonlyMap<string, string>;
  /** Lines logged at level "error", and stderr lines that are not payguard's start-up banner. */
  unhandled(): string[];
  alive(): boolean;
  stop(): Promise<number | null>;
}

export async function startSoakPayguard(upstream: string, policy: SoakPolicyFiles, extraArgs: readonly string[] = []): Promise<SoakPayguard> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot(), 'bin', 'payguard.js'),
      'serve',
      '--upstream', upstream,
      '--policy', policy.policyFile,
      '--public-key', policy.publicKeyFile,
      '--state-dir', policy.stateDir,
      '--listen', '127.0.0.1:0',
      '--admin', '127.0.0.1:0',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const blocked = new Map<string, string>();
  const errors: string[] = [];
  let listening: { public: string; admin: string } | undefined;
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.level === 'error') errors.push(line.slice(0, 1000));
      if (entry.event === 'listening') listening = { public: String(entry.public), admin: String(entry.admin) };
      if (entry.verdict === 'blocked' && typeof entry.requestId === 'string') blocked.set(entry.requestId, blockReason(entry));
      // PAYGUARD_SOAK_LOG=1: payguard's whole log on stderr, to look a failure's request id up.
      if (process.env.PAYGUARD_SOAK_LOG) process.stderr.write(`${line}\n`);
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  for (let i = 0; i < 600 && !listening && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!listening) {
    child.kill('SIGKILL');
    throw new Error(`payguard serve did not start:\n${stderr}`);
  }
  return {
    pid: child.pid!,
    publicUrl: listening.public,
    adminUrl: listening.admin,
    process: child,
    blocked,
    unhandled: () => [...errors, ...stderr.split('\n').filter((line) => line && !line.startsWith('payguard: '))],
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const [code] = (await exited) as [number | null];
      clearTimeout(kill);
      return code;
    },
  };
}

/** A violation line's first finding reason, or a refusal line's reason. */
function blockReason(entry: Record<string, unknown>): string {
  if (typeof entry.reason === 'string') return entry.reason;
  const findings = entry.findings as { reason?: string }[] | undefined;
  return findings?.[0]?.reason ?? 'unknown';
}

/** GET on a fresh connection (Connection: close), so the probe itself leaves no socket behind. */
export function getText(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 30 s`)));
    req.on('error', reject);
  });
}

/** Samples of one metric family, with labels. */
export async function metricSamples(adminUrl: string, name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const { text } = await getText(`${adminUrl}/metrics`);
  const family = parsePrometheusText(text).find((f) => f.name === name);
  return (family?.metrics ?? []).map((m) => ({ labels: { ...(m.labels ?? {}) }, value: Number(m.value ?? 0) }));
}

export async function metricSum(adminUrl: string, name: string, filter: Record<string, string> = {}): Promise<number> {
  const samples = await metricSamples(adminUrl, name);
  return samples.filter((s) => Object.entries(filter).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** The serial of the policy in force (payguard_policy_info names exactly one). */
export async function policySerial(adminUrl: string): Promise<number | undefined> {
  const samples = await metricSamples(adminUrl, 'payguard_policy_info');
  return samples.length === 1 ? Number(samples[0]!.labels.serial) : undefined;
}

/** proc(5) /proc/net/tcp "st" values by name; 0A is LISTEN. */
const TCP_STATES: Record<string, string> = { '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING' };

/** payguard's TCP sockets that are not listening, by state (empty: nothing left open). */
export function openConnections(pid: number): Record<string, number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    } catch {
      // closed between readdir and readlink
    }
  }
  const states: Record<string, number> = {};
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      const state = TCP_STATES[fields[3]!] ?? fields[3]!;
      if (state !== 'LISTEN') states[state] = (states[state] ?? 0) + 1;
    }
  }
  return states;
}
