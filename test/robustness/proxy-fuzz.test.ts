/**
 * Issue 10, second bullet: payguard (the real CLI, a child process) in front of a hostile upstream
 * made of raw sockets, fed random client requests. Invariants, each asserted per exchange and over
 * the whole run:
 *   (a) payguard never crashes and logs no unhandled error;
 *   (b) no exchange outlives payguard's timeouts (a client-side deadline per request);
 *   (c) on a protected route a response payguard could not verify is never served: a tampered body
 *       never reaches a request that may render it, and no foreign Location/Refresh/Link either.
 *
 * The seed is printed; replay with PAYGUARD_FUZZ_SEED=… (and PAYGUARD_FUZZ_PATH=… from a failure
 * report); PAYGUARD_FUZZ_RUNS=N runs more cases than the default.
 */
import { Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { buildCliAsync } from '../helpers/cli.js';
import { clientRequestArbitrary, sendClientRequest, type ClientRequest } from './proxy/client-request.js';
import { startHostileUpstream, type HostileUpstream } from './proxy/hostile-upstream.js';
import { brokenInvariants } from './proxy/invariants.js';
import { FUZZ_POLICY_YAML, startPayguardChild, type PayguardChild } from './proxy/payguard-child.js';
import { dripDelayMs, FUZZ_MAX_INSPECT_BYTES, responsePlanArbitrary, type ResponsePlan } from './proxy/response-plan.js';

const UPSTREAM_TIMEOUT_MS = 1_000;
const VERIFY_TIMEOUT_MS = 2_000;
/** Room for a shared 2-core machine: the deadline is about hangs, not speed. */
const DEADLINE_MARGIN_MS = 6_000;

const RUNS = Number(process.env.PAYGUARD_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.PAYGUARD_FUZZ_SEED ?? Date.now() % 2 ** 31);
const PATH = process.env.PAYGUARD_FUZZ_PATH;

const POLICY = parsePolicyText(FUZZ_POLICY_YAML, 'policy.yaml');

/** The checks that need payguard's own view: its log, and whether it is still running. */
function payguardFaults(payguard: PayguardChild, logFrom: number): string[] {
  const faults: string[] = [];
  if (!payguard.alive()) faults.push(`(a) payguard exited (code ${payguard.process.exitCode}, signal ${payguard.process.signalCode}):\n${payguard.stderr().slice(-2000)}`);
  for (const line of payguard.logLines().slice(logFrom)) {
    if (line.level === 'error') faults.push(`(a) payguard logged an error: ${JSON.stringify(line).slice(0, 600)}`);
    if (line.event === 'refusal' && line.reason === 'internal-error') faults.push(`(a) payguard refused with internal-error: ${JSON.stringify(line).slice(0, 300)}`);
  }
  return faults;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('proxy fuzz: hostile upstream responses and random client requests', () => {
  let upstream: HostileUpstream;
  let payguard: PayguardChild;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const outcomes = new Map<string, number>();

  const start = (): Promise<PayguardChild> =>
    startPayguardChild({
      upstream: upstream.origin,
      extraArgs: ['--upstream-timeout', `${UPSTREAM_TIMEOUT_MS}ms`, '--verify-timeout', `${VERIFY_TIMEOUT_MS}ms`, '--max-inspect-bytes', `${FUZZ_MAX_INSPECT_BYTES / 1024}KiB`, '--drain-timeout', '2s'],
    });

  beforeAll(async () => {
    await buildCliAsync();
    upstream = await startHostileUpstream();
    payguard = await start();
  }, 600_000);

  afterAll(async () => {
    agent.destroy();
    await payguard?.stop();
    await upstream?.close();
  });

  it('never crashes, never hangs past its timeouts, never serves an unverified document on a protected route', async () => {
    console.log(`proxy fuzz: seed=${SEED} runs=${RUNS}${PATH ? ` path=${PATH}` : ''} (replay: PAYGUARD_FUZZ_SEED=${SEED} PAYGUARD_FUZZ_RUNS=${RUNS})`);
    let caseNumber = 0;
    const property = fc.asyncProperty(clientRequestArbitrary, responsePlanArbitrary, async (req: ClientRequest, plan: ResponsePlan) => {
      // A crash in an earlier case must not make every later (and every shrunk) case fail too.
      if (!payguard.alive()) payguard = await start();
      const id = `case-${++caseNumber}`;
      upstream.plan(id, plan);
      const logFrom = payguard.logLines().length;
      const deadlineMs = dripDelayMs(plan) + UPSTREAM_TIMEOUT_MS + VERIFY_TIMEOUT_MS + DEADLINE_MARGIN_MS;
      const exchange = await sendClientRequest(payguard.publicUrl, agent, id, req, deadlineMs);
      // payguard may still be finishing with the upstream (a stall after a cut): let it, so what it
      // logs is charged to this case and not the next one.
      await Promise.race([upstream.settled(id), pause(UPSTREAM_TIMEOUT_MS * 3)]);
      await pause(100);
      const outcome = exchange.status === undefined ? `no response (${exchange.error?.split(':')[0]?.trim()})` : String(exchange.status);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      const broken = [...brokenInvariants(POLICY, req, exchange), ...payguardFaults(payguard, logFrom)];
      if (broken.length > 0) throw new Error(broken.join('\n'));
    });
    await fc.assert(property, { seed: SEED, numRuns: RUNS, ...(PATH ? { path: PATH } : {}), endOnFailure: false });
    console.log(`proxy fuzz: outcomes ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);

    // (a) over the whole run: still alive, liveness answers, nothing unhandled on stderr.
    expect(payguard.alive()).toBe(true);
    const health = await fetch(`${payguard.adminUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(payguardFaults(payguard, 0)).toEqual([]);
    const unexpectedStderr = payguard
      .stderr()
      .split('\n')
      .filter((line) => line && !line.startsWith('payguard: '));
    expect(unexpectedStderr).toEqual([]);
  }, 900_000);
});
