/**
 * One row of the table: one target, one page, one connection count. Warm up, then read the
 * processes' CPU and reset the proxy's peak RSS, load for the measured window, and read again.
 */
import { runLoad } from './load.js';
import type { TargetId } from './options.js';
import { browserRequestHeaders, type BenchPage } from './pages/index.js';
import { responsesByVerdict, verdictDelta, type RunningPayguard } from './payguard.js';
import { machineBusyCpuMs, peakRssMb, processCpuMs, resetPeakRss } from './procfs.js';
import { rowKey, type RowResult } from './results.js';

/** Where a target is reached, and which process is the proxy (none for `direct`). */
export interface TargetEndpoint {
  readonly id: TargetId;
  readonly url: string;
  readonly proxyPid?: number;
  readonly payguard?: RunningPayguard;
}

export interface RowPlan {
  readonly endpoint: TargetEndpoint;
  readonly page: BenchPage;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly overallRate?: number;
  readonly upstreamPid: number;
  /** Every process of the run (upstream and all proxies): the row starts once they are all idle. */
  readonly benchPids: readonly number[];
}

interface CpuReading {
  readonly proxy: number;
  readonly upstream: number;
  readonly generator: number;
  readonly machine: number;
}

function readCpu(plan: RowPlan): CpuReading {
  return {
    proxy: plan.endpoint.proxyPid === undefined ? 0 : processCpuMs(plan.endpoint.proxyPid),
    upstream: processCpuMs(plan.upstreamPid),
    generator: processCpuMs(process.pid),
    machine: machineBusyCpuMs(),
  };
}

export async function measureRow(plan: RowPlan, cores: number): Promise<RowResult> {
  const spec = {
    url: plan.endpoint.url + plan.page.path,
    connections: plan.connections,
    headers: browserRequestHeaders(plan.page),
    ...(plan.overallRate === undefined ? {} : { overallRate: plan.overallRate }),
  };
  const proxyPid = plan.endpoint.proxyPid;
  // The previous row and the warm-up leave requests in flight when the load generator stops, and
  // a proxy may keep working on them after their client left (payguard verifies what it has
  // queued). Let every process finish, so this row is neither charged for that work nor
  // starved by it.
  await settle(plan.benchPids);
  if (plan.warmupSeconds > 0) {
    await runLoad({ ...spec, durationSeconds: plan.warmupSeconds });
    await settle(plan.benchPids);
  }
  if (proxyPid !== undefined) resetPeakRss(proxyPid);
  const verdictsBefore = plan.endpoint.payguard ? await responsesByVerdict(plan.endpoint.payguard) : undefined;
  const before = readCpu(plan);
  const startedAt = performance.now();
  const load = await runLoad({ ...spec, durationSeconds: plan.durationSeconds });
  const after = readCpu(plan);
  // The machine's CPU is compared over the same interval it was read over (autocannon's own
  // duration leaves out its connection set-up and tear-down).
  const windowMs = (performance.now() - startedAt) * cores;
  const verdicts =
    plan.endpoint.payguard && verdictsBefore ? verdictDelta(verdictsBefore, await responsesByVerdict(plan.endpoint.payguard)) : undefined;

  const perResponse = (ms: number): number => (load.responses > 0 ? ms / load.responses : 0);
  const ours = after.proxy - before.proxy + (after.upstream - before.upstream) + (after.generator - before.generator);
  const foreign = Math.max(0, after.machine - before.machine - ours);
  const row: RowResult = {
    key: rowKey(plan.endpoint.id, plan.page.id, plan.connections, plan.overallRate),
    target: plan.endpoint.id,
    page: plan.page.id,
    connections: plan.connections,
    ...(plan.overallRate === undefined ? {} : { overallRate: plan.overallRate }),
    requestsPerSecond: load.requestsPerSecond,
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    maxMs: load.latencyMs.max,
    responses: load.responses,
    non2xx: load.non2xx,
    errors: load.errors,
    bytesPerResponse: load.bytesPerResponse,
    ...(proxyPid === undefined || load.responses === 0 ? {} : { proxyCpuMsPerRequest: perResponse(after.proxy - before.proxy) }),
    ...(proxyPid === undefined ? {} : { proxyPeakRssMb: peakRssMb(proxyPid) ?? 0 }),
    upstreamCpuMsPerRequest: perResponse(after.upstream - before.upstream),
    foreignCpuShare: windowMs > 0 ? foreign / windowMs : 0,
    ...(verdicts === undefined ? {} : { verdicts }),
    problems: rowProblems(plan, load.responses, load.non2xx, load.errors, load.statusCodes, verdicts),
  };
  return row;
}

/**
 * Waits (bounded) until the processes together use at most 5% of a core over a 200 ms window
 * (one 10 ms clock tick: the resolution of /proc's CPU times).
 */
async function settle(pids: readonly number[], maxWaitMs = 60_000, windowMs = 200): Promise<void> {
  const total = (): number => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  for (let waited = 0; waited < maxWaitMs; waited += windowMs) {
    const before = total();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (total() - before <= windowMs * 0.05) return;
  }
}

/**
 * What would make a row measure something else than it claims: a proxy answering with errors
 * (a 502 page is cheap and would flatter payguard), or payguard not reaching the verdict the
 * row is about (a clean page must be inspected and pass; a tampered page must be rewritten).
 */
function rowProblems(
  plan: RowPlan,
  responses: number,
  non2xx: number,
  errors: number,
  statusCodes: Readonly<Record<string, number>>,
  verdicts: Readonly<Record<string, number>> | undefined,
): string[] {
  const problems: string[] = [];
  if (responses === 0) problems.push('no responses');
  // Each connection must complete a few requests, or the window's edges (requests cut off by
  // the end of the run) dominate CPU per request and latency.
  else if (plan.overallRate === undefined && responses < 3 * plan.connections) {
    problems.push(`only ${responses} responses over ${plan.connections} connections: raise --duration for a meaningful figure`);
  }
  if (non2xx > 0) problems.push(`${non2xx} non-2xx responses (${JSON.stringify(statusCodes)})`);
  if (errors > 0) problems.push(`${errors} connection errors or timeouts`);
  // A paced run that falls behind its rate is a closed loop in disguise: its latency is queueing.
  if (plan.overallRate !== undefined && responses < plan.overallRate * plan.durationSeconds * 0.9) {
    problems.push(`could not sustain ${plan.overallRate} req/s (latency includes queueing)`);
  }
  if (verdicts) {
    const expected = expectedVerdict(plan.page);
    const unexpected = Object.entries(verdicts).filter(([verdict]) => verdict !== expected);
    // Non-documents may or may not be counted (as "passed"); documents must be.
    if (plan.page.destination === 'document' && !verdicts[expected]) problems.push(`payguard counted no "${expected}" verdict`);
    if (unexpected.length > 0) problems.push(`unexpected verdicts ${JSON.stringify(Object.fromEntries(unexpected))}`);
  }
  return problems;
}

/** The verdict names (payguard_responses_total{verdict}). */
function expectedVerdict(page: BenchPage): string {
  if (page.mustBeRewritten) return 'rewritten';
  return page.destination === 'document' ? 'clean' : 'passed';
}
