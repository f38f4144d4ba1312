/**
 * Where payguard's time goes: the top self-time functions and files of a V8 CPU profile
 * (`node --cpu-prof`, Chrome DevTools Protocol `Profiler.Profile`).
 *
 *   node dist/bench/profile.js FILE.cpuprofile [--top N]
 */
import { readFile } from 'node:fs/promises';
import { isMainModule } from './child.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** Microseconds since the previous sample; `timeDeltas[i]` is the time sample `i` stands for. */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** What the process was doing while profiled (which rows). */
  readonly workload: string;
  /** "main" or "worker N", from V8's file name `CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile`. */
  readonly thread: string;
  /** Samples of the first `skippedMs` (start-up: module loading, policy verification) left out. */
  readonly skippedMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly topFunctions: readonly SelfTime[];
  readonly topFiles: readonly SelfTime[];
  /** Self time grouped by package or payguard area (parse5, src/verify, node:internal, (garbage collector)…). */
  readonly byArea: readonly SelfTime[];
}

/** V8's pseudo-frames for time not spent in JS. */
const IDLE_FRAMES = new Set(['(idle)', '(program)']);

export function threadOf(file: string): string {
  const match = /\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file);
  if (!match) return 'unknown';
  return match[1] === '0' ? 'main' : `worker ${match[1]}`;
}

/**
 * Self time per function, file and area. `skipFirstMs` drops the samples of the process's
 * start-up (a profile starts with the process), so the summary is about serving requests.
 */
export function summariseProfile(profile: CpuProfile, file: string, workload: string, top = 15, skipFirstMs = 0): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  let sinceStartUs = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    sinceStartUs += us;
    if (!node || us <= 0 || sinceStartUs < skipFirstMs * 1000) return;
    const frame = node.callFrame;
    if (IDLE_FRAMES.has(frame.functionName)) {
      idleUs += us;
      return;
    }
    busyUs += us;
    const where = shortUrl(frame.url);
    add(byFunction, `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`.trim(), us);
    add(byFile, where || frame.functionName, us);
    add(byArea, areaOf(frame.url, frame.functionName), us);
  });
  const ranked = (m: Map<string, number>, n: number): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { file, workload, thread: threadOf(file), skippedMs: skipFirstMs, busyMs: busyUs / 1000, idleMs: idleUs / 1000, topFunctions: ranked(byFunction, top), topFiles: ranked(byFile, top), byArea: ranked(byArea, top) };
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** `file:///work/main/node_modules/parse5/dist/tokenizer/index.js` → `parse5/dist/tokenizer/index.js`. */
function shortUrl(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = /\/dist\/src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return shortUrl(url);
}

export async function summariseProfileFile(file: string, workload: string, top = 15, skipFirstMs = 0): Promise<ProfileSummary> {
  return summariseProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, file, workload, top, skipFirstMs);
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [
    `Profile ${summary.file} (${summary.thread} thread)`,
    `  workload: ${summary.workload}${summary.skippedMs ? ` (first ${summary.skippedMs.toFixed(0)} ms of start-up left out)` : ''}`,
    `  sampled: busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms (wall-clock samples: on a busy machine they include time the thread waited for a core)`,
    '  self time by area:',
    ...summary.byArea.map((s) => `    ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.ms.toFixed(0).padStart(7)} ms  ${s.name}`),
    '  top functions (self time):',
    ...summary.topFunctions.map((s) => `    ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.ms.toFixed(0).padStart(7)} ms  ${s.name}`),
  ];
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) {
  const [file, ...flags] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile.js FILE.cpuprofile [--top N] [--skip-ms MS]\n');
    process.exit(2);
  }
  const flag = (name: string, fallback: number): number => {
    const i = flags.indexOf(name);
    const value = i >= 0 ? Number(flags[i + 1]) : NaN;
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  summariseProfileFile(file, 'as recorded', flag('--top', 15), flag('--skip-ms', 0)).then(
    (summary) => process.stdout.write(formatProfile(summary) + '\n'),
    (err: unknown) => {
      process.stderr.write(`profile: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
