/**
 * `npm run bench`: payguard's cost against a plain proxy, measured side by side in one run.
 * Starts the upstream, the pass-through and payguard as separate processes, loads each with
 * autocannon, and prints and saves the figures (docs/bench.md explains them).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { announcedPort, benchScript, repoRoot, runChildForJson, startChild, type RunningChild } from './child.js';
import { formatComparison, readResults } from './compare.js';
import { describeMachine } from './machine.js';
import { measureRow, type TargetEndpoint } from './measure.js';
import { BenchUsageError, parseBenchOptions, USAGE, type BenchOptions, type TargetId } from './options.js';
import { BENCH_PAGES, pageById, type BenchPage, type PageId } from './pages/index.js';
import { payguardServeMissing, startPayguard, stateDirIn, type RunningPayguard } from './payguard.js';
import { writeSignedPolicy, type BenchMode } from './policy.js';
import { probePage, type ProbeFinding } from './probe.js';
import { resetPeakRss } from './procfs.js';
import { formatProfile, summariseProfileFile, threadOf, type ProfileSummary } from './profile.js';
import { formatReport } from './report.js';
import { RESULTS_VERSION, type BenchResults, type RowResult } from './results.js';
import { evaluateTargets } from './targets.js';
import type { VerifierFigures } from './verifier.js';

export const RESULTS_DIR = join(repoRoot(), 'bench', 'results');

/** The connection count the issue's latency and CPU targets are stated at. */
const TARGET_CONNECTIONS = 32;

/** Processes this run started; stopped (by pid, through their ChildProcess) whatever happens. */
class Children {
  private readonly running: RunningChild[] = [];
  add(child: RunningChild): RunningChild {
    this.running.push(child);
    return child;
  }
  async stopAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((c) => c.stop()));
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The targets a page is measured through: tampered pages through the rewrite-mode payguard. */
function targetsFor(page: BenchPage, wanted: readonly TargetId[]): TargetId[] {
  const guard: TargetId = page.mustBeRewritten ? 'payguard-rewrite' : 'payguard';
  return (['direct', 'passthrough', guard] as const).filter((t) => wanted.includes(t));
}

interface Setup {
  readonly upstreamUrl: string;
  readonly upstreamPid: number;
  /** The upstream and every proxy started so far. */
  readonly benchPids: number[];
  readonly endpoints: Map<TargetId, TargetEndpoint>;
  readonly notes: string[];
  readonly launchPayguard: (mode: BenchMode, name: string, cpuProfileDir?: string) => Promise<RunningPayguard>;
}

async function setUp(options: BenchOptions, children: Children, workDir: string): Promise<Setup> {
  const notes: string[] = [];
  const upstream = children.add(startChild('upstream', [benchScript('upstream')]));
  const upstreamUrl = `http://127.0.0.1:${await announcedPort(upstream)}`;
  const endpoints = new Map<TargetId, TargetEndpoint>();
  if (options.targets.includes('direct')) endpoints.set('direct', { id: 'direct', url: upstreamUrl });
  if (options.targets.includes('passthrough')) {
    const passthrough = children.add(startChild('passthrough', [benchScript('passthrough'), upstreamUrl]));
    endpoints.set('passthrough', { id: 'passthrough', url: `http://127.0.0.1:${await announcedPort(passthrough)}`, proxyPid: passthrough.pid });
  }
  if (!resetPeakRss(upstream.pid)) notes.push('the kernel refused to reset VmHWM (/proc/<pid>/clear_refs): peak RSS is the peak since the proxy started');

  const launchPayguard = async (mode: BenchMode, name: string, cpuProfileDir?: string): Promise<RunningPayguard> => {
    const policy = await writeSignedPolicy(workDir, mode);
    const payguard = await startPayguard({ upstreamUrl, policy, stateDir: stateDirIn(workDir, name), ...(cpuProfileDir ? { cpuProfileDir } : {}) }, name);
    children.add(payguard.child);
    return payguard;
  };
  const wantsPayguard = options.targets.some((t) => t === 'payguard' || t === 'payguard-rewrite');
  const missing = wantsPayguard ? await payguardServeMissing() : undefined;
  if (missing) notes.push(`payguard rows not measured: ${missing}`);
  else {
    for (const [id, mode] of [['payguard', 'block'], ['payguard-rewrite', 'rewrite']] as const) {
      if (!options.targets.includes(id)) continue;
      const payguard = await launchPayguard(mode, id);
      endpoints.set(id, { id, url: payguard.url, proxyPid: payguard.child.pid, payguard });
    }
  }
  const benchPids = [upstream.pid, ...[...endpoints.values()].flatMap((e) => (e.proxyPid === undefined ? [] : [e.proxyPid]))];
  return { upstreamUrl, upstreamPid: upstream.pid, benchPids, endpoints, notes, launchPayguard };
}

/** One request per page and proxy before the load (see probe.ts); what is wrong goes in the notes. */
async function probeTargets(options: BenchOptions, setup: Setup): Promise<void> {
  const direct = setup.upstreamUrl;
  for (const page of options.pages.map((id) => pageById(id)!)) {
    for (const target of targetsFor(page, options.targets)) {
      const endpoint = setup.endpoints.get(target);
      if (!endpoint || target === 'direct') continue;
      const findings = await probePage(direct, endpoint.url, page, target === 'payguard-rewrite').catch((err: unknown): ProbeFinding[] => [{ severity: 'problem', text: `${page.id}: ${String(err)}` }]);
      for (const finding of findings) setup.notes.push(`${target} probe ${finding.severity}: ${finding.text}`);
    }
  }
}

async function measureMatrix(options: BenchOptions, setup: Setup, cores: number): Promise<RowResult[]> {
  const rows: RowResult[] = [];
  const pages = options.pages.map((id) => pageById(id)!);
  const measure = async (endpoint: TargetEndpoint, page: BenchPage, connections: number, overallRate?: number): Promise<void> => {
    const row = await measureRow(
      { endpoint, page, connections, durationSeconds: options.durationSeconds, warmupSeconds: options.warmupSeconds, upstreamPid: setup.upstreamPid, benchPids: setup.benchPids, ...(overallRate === undefined ? {} : { overallRate }) },
      cores,
    );
    rows.push(row);
    const cpu = row.proxyCpuMsPerRequest === undefined ? '' : `, ${row.proxyCpuMsPerRequest.toFixed(3)} ms CPU/req`;
    log(`  ${row.key}: ${row.requestsPerSecond.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(2)} ms${cpu}${row.problems.length ? ` ! ${row.problems.join('; ')}` : ''}`);
  };
  // Targets of one page and connection count run back to back, so the rows a ratio compares
  // are measured minutes apart at most, under the same foreign load.
  for (const page of pages) {
    for (const connections of options.connections) {
      for (const target of targetsFor(page, options.targets)) {
        const endpoint = setup.endpoints.get(target);
        if (endpoint) await measure(endpoint, page, connections);
      }
    }
  }
  if (options.pacedRate > 0 && options.pages.includes('checkout-unique')) {
    const page = pageById('checkout-unique')!;
    for (const target of ['passthrough', 'payguard'] as const) {
      const endpoint = setup.endpoints.get(target);
      if (endpoint) await measure(endpoint, page, TARGET_CONNECTIONS, options.pacedRate);
    }
  }
  return rows;
}

/**
 * A fresh payguard under `node --cpu-prof`, loaded with the clean checkout pages at 32
 * connections, then stopped (the profile is written when it exits after draining). payguard
 * verifies in worker threads; V8 writes one profile per thread, summarised one by one.
 */
async function profilePayguard(options: BenchOptions, setup: Setup, children: Children, stamp: string): Promise<ProfileSummary[]> {
  const dir = join(RESULTS_DIR, 'profiles', stamp);
  await mkdir(dir, { recursive: true });
  const payguard = await setup.launchPayguard('block', 'payguard-profiled', dir);
  const endpoint: TargetEndpoint = { id: 'payguard', url: payguard.url, proxyPid: payguard.child.pid, payguard };
  // The checkout pages the CPU targets are about, unless the run was narrowed to other pages:
  // then those (`--pages asset-js --profile always` profiles the pass-through path).
  const pages: readonly PageId[] = options.pages.length < BENCH_PAGES.length ? options.pages : ['checkout-unique', 'checkout'];
  for (const id of pages) {
    await measureRow(
      { endpoint, page: pageById(id)!, connections: TARGET_CONNECTIONS, durationSeconds: options.durationSeconds, warmupSeconds: 0, upstreamPid: setup.upstreamPid, benchPids: [...setup.benchPids, payguard.child.pid] },
      1,
    );
  }
  await payguard.child.stop();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const workload = `${pages.join(' then ')}, ${TARGET_CONNECTIONS} connections, ${options.durationSeconds} s each`;
  // The main thread's profile begins with payguard's start-up (module loading, policy checks):
  // left out. Worker threads may start late (on the first page), so theirs is kept whole.
  return Promise.all(files.map((f) => summariseProfileFile(join(dir, f), workload, 15, threadOf(f) === 'main' ? payguard.readyAfterMs : 0)));
}

/** The verifier alone under `node --cpu-prof`, over the same pages as its figure. */
async function profileVerifier(budgetMs: number, stamp: string): Promise<ProfileSummary[]> {
  const dir = join(RESULTS_DIR, 'profiles', stamp, 'verifier');
  await mkdir(dir, { recursive: true });
  await runChildForJson('verifier-profiled', ['--cpu-prof', `--cpu-prof-dir=${dir}`, benchScript('verifier'), String(budgetMs)]);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  return Promise.all(files.map((f) => summariseProfileFile(join(dir, f), `verifyDocument alone over the bench and corpus pages, ${budgetMs} ms CPU per page`)));
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

async function saveResults(results: BenchResults, options: BenchOptions, stamp: string): Promise<string[]> {
  const text = JSON.stringify(results, null, 2) + '\n';
  const written: string[] = [];
  if (options.save) {
    await mkdir(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${stamp}.json`);
    await writeFile(file, text);
    written.push(file);
  }
  if (options.out) {
    await writeFile(options.out, text);
    written.push(options.out);
  }
  return written;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const stamp = timestamp(started);
  const machine = describeMachine();
  const children = new Children();
  const workDir = await mkdtemp(join(tmpdir(), 'payguard-bench-'));
  const stopOnSignal = (): void => {
    void children.stopAll().finally(() => rm(workDir, { recursive: true, force: true }).finally(() => process.exit(130)));
  };
  process.once('SIGINT', stopOnSignal);
  try {
    // First, while nothing else of ours runs: the verifier alone, without HTTP.
    const verifierBudgetMs = options.quick ? 100 : 1000;
    const verifier = options.verifier ? await runChildForJson<VerifierFigures>('verifier', [benchScript('verifier'), String(verifierBudgetMs)]) : undefined;
    if (verifier) log(verifier.missing ? `verifier: ${verifier.missing}` : `verifier: ${verifier.generatedMbPerSecond.toFixed(1)} MB/s`);
    const setup = await setUp(options, children, workDir);
    await probeTargets(options, setup);
    setup.notes.forEach((n) => log(`note: ${n}`));
    log(`measuring ${options.pages.length} pages × ${options.connections.length} connection counts, ${options.durationSeconds} s each after ${options.warmupSeconds} s warm-up`);
    const rows = await measureMatrix(options, setup, machine.cores);
    const targets = evaluateTargets(rows, verifier);
    const cpuMissed = targets.some((t) => t.id.startsWith('cpu-') && t.status === 'miss');
    const wantProfile = options.profile === 'always' || (options.profile === 'auto' && cpuMissed && !options.quick);
    // A profile that cannot be taken (payguard failing to start again…) is a note: it must
    // never cost the figures already measured.
    const profiles: ProfileSummary[] = [];
    const profileOrNote = async (what: string, take: () => Promise<ProfileSummary[]>): Promise<void> => {
      try {
        profiles.push(...(await take()));
      } catch (err) {
        setup.notes.push(`${what} profile not taken: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    };
    if (wantProfile && setup.endpoints.has('payguard')) await profileOrNote('payguard', () => profilePayguard(options, setup, children, stamp));
    const verifierMissed = targets.some((t) => t.id === 'verifier-speed' && t.status === 'miss');
    if (options.verifier && (options.profile === 'always' || (options.profile === 'auto' && verifierMissed && !options.quick))) {
      await profileOrNote('verifier', () => profileVerifier(verifierBudgetMs, stamp));
    }
    const { out: _out, compare: _compare, compareOnly: _compareOnly, save: _save, ...settings } = options;
    return {
      version: RESULTS_VERSION,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      settings,
      notes: setup.notes,
      rows,
      ...(verifier ? { verifier } : {}),
      targets,
      profiles,
    };
  } finally {
    process.off('SIGINT', stopOnSignal);
    await children.stopAll();
    // The work dir holds this run's secret keys: never leave them behind.
    await rm(workDir, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.compareOnly) {
    process.stdout.write(formatComparison(await readResults(options.compare!), await readResults(options.out!)) + '\n');
    return 0;
  }
  const previous = options.compare ? await readResults(options.compare) : undefined;
  const results = await runBench(options);
  process.stdout.write(formatReport(results) + '\n');
  for (const profile of results.profiles) process.stdout.write('\n' + formatProfile(profile) + '\n');
  if (previous) process.stdout.write('\n' + formatComparison(previous, results) + '\n');
  for (const file of await saveResults(results, options, timestamp(new Date(results.startedAt)))) process.stdout.write(`\nwrote ${file}\n`);
  return 0;
}


main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
