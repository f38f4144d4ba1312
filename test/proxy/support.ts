/**
 * Shared set-up for the proxy tests: the policy in ./pages signed in a temp dir (test/helpers/policies.ts),
 * a real PolicyHolder, real metrics and logger, and payguard started in-process on 127.0.0.1:0.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { PayguardMetrics } from '../../src/observe/metrics.js';
import type { PolicyHolder } from '../../src/policy/reload.js';
import type { ListenerFaults } from '../../src/proxy/http/listener-guard.js';
import { createPayguard, type RunningPayguard } from '../../src/proxy/index.js';
import { buildCli } from '../helpers/cli.js';
import { signedPolicy, type SignedPolicy } from '../helpers/policies.js';
import type { Storefront } from '../helpers/upstreams.js';

export const PAGES = fileURLToPath(new URL('./pages/', import.meta.url));

export function page(name: string): Buffer {
  return readFileSync(join(PAGES, name));
}

/** The proxy pages' policy (./pages/policy.yaml): what startHarness signs unless told otherwise. */
export const POLICY_YAML = readFileSync(join(PAGES, 'policy.yaml'), 'utf8');

export interface Harness {
  readonly payguard: RunningPayguard;
  readonly holder: PolicyHolder;
  readonly metrics: PayguardMetrics;
  readonly policy: SignedPolicy;
  /** Every log line so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** The log as written (to check nothing sensitive is in it). */
  logText(): string;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly maxInspectBytes?: number;
  readonly upstreamTimeoutMs?: number;
  readonly verifyTimeoutMs?: number;
  readonly drainTimeoutMs?: number;
  readonly upstream?: URL;
  readonly policyYaml?: string;
  readonly trustedProxies?: readonly string[];
  readonly headerTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly listenerFaults?: ListenerFaults;
  /** Verifier worker threads (payguard's default is min(2, CPUs)). */
  readonly verifyWorkers?: number;
  /** A candidate policy for `--shadow-policy`, signed with the same key as the policy. */
  readonly shadowPolicyYaml?: string;
  /** `--learn FILE`: learn from report routes into this record. */
  readonly learnFile?: string;
}

/**
 * The verifier workers run compiled JS (a worker thread cannot load .ts on Node 20): build once if
 * dist/ has none. `npm test` builds before running, so dist/ is current there.
 */
function ensureCompiledWorker(): void {
  if (!existsSync(fileURLToPath(new URL('../../dist/src/proxy/workers/worker.js', import.meta.url)))) buildCli();
}

export async function startHarness(storefront: Storefront | undefined, options: HarnessOptions = {}): Promise<Harness> {
  ensureCompiledWorker();
  const policy = signedPolicy(options.policyYaml ?? POLICY_YAML);
  const out = new PassThrough();
  let log = '';
  out.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const payguard = await createPayguard({
    upstream: options.upstream ?? storefront!.origin,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    policyFile: policy.policyFile,
    publicKeyFiles: [policy.publicKeyFile],
    stateDir: policy.stateDir,
    log: out,
    maxInspectBytes: options.maxInspectBytes ?? 8 * 1024 * 1024,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 10_000,
    verifyTimeoutMs: options.verifyTimeoutMs ?? 10_000,
    drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
    trustedProxies: options.trustedProxies ?? [],
    ...(options.headerTimeoutMs !== undefined ? { headerTimeoutMs: options.headerTimeoutMs } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.keepAliveTimeoutMs !== undefined ? { keepAliveTimeoutMs: options.keepAliveTimeoutMs } : {}),
    ...(options.listenerFaults ? { listenerFaults: options.listenerFaults } : {}),
    ...(options.verifyWorkers !== undefined ? { verifyWorkers: options.verifyWorkers } : {}),
    ...(options.shadowPolicyYaml !== undefined ? { shadowPolicyFile: signedCandidate(policy, options.shadowPolicyYaml) } : {}),
    ...(options.learnFile !== undefined ? { learnFile: options.learnFile } : {}),
  });
  const { holder, metrics } = payguard;
  return {
    payguard,
    holder,
    metrics,
    policy,
    logText: () => log,
    logLines: () =>
      log
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop() {
      await payguard.close();
      policy.remove();
    },
  };
}

/** A `--shadow-policy` candidate beside the policy, signed with its key; returns its path. */
function signedCandidate(policy: SignedPolicy, yaml: string): string {
  return policy.signBeside('candidate.yaml', yaml);
}

/** Request headers a Chromium navigation carries (the document path). */
export const NAVIGATION = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html' } as const;
/** Request headers of a subresource (the pass-through path). */
export const SUBRESOURCE = { 'sec-fetch-dest': 'script', 'sec-fetch-mode': 'no-cors' } as const;

/** Sends a request written byte for byte (headers a client library would refuse or rewrite) and returns the raw response; the request must say "Connection: close". */
export async function rawRequest(baseUrl: string, text: string): Promise<string> {
  const { connect } = await import('node:net');
  const url = new URL(baseUrl);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

/**
 * `tsc -p tsconfig.json` under the shared build lock, without blocking this test worker's event loop
 * (a synchronous build of a minute starves vitest's own heartbeat on a busy machine).
 */
export async function buildCliInBackground(): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('flock', ['/tmp/payguard-build.lock', 'npx', 'tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  // tsc emits even when another area's work in progress has type errors: success is the entry point existing.
  if (!existsSync(join(root, 'dist/src/cli/main.js'))) throw new Error(`build failed (tsc exit ${code})`);
}
