/**
 * `npm run bench -- [flags]`: the flags, validated once into a typed value.
 */
import { BENCH_PAGES, type PageId } from './pages/index.js';

export const TARGET_IDS = ['direct', 'passthrough', 'payguard', 'payguard-rewrite'] as const;
export type TargetId = (typeof TARGET_IDS)[number];

export type ProfileWhen = 'auto' | 'always' | 'never';

export interface BenchOptions {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: readonly number[];
  readonly pages: readonly PageId[];
  readonly targets: readonly TargetId[];
  /** Overall request rate of the paced latency runs at 32 connections; 0 skips them. */
  readonly pacedRate: number;
  readonly verifier: boolean;
  readonly profile: ProfileWhen;
  /** Also write the JSON here (it always goes to bench/results/<timestamp>.json unless --no-save). */
  readonly out?: string;
  readonly save: boolean;
  readonly compare?: string;
  /** Only print the comparison of `compare` with `out` (no measuring). */
  readonly compareOnly: boolean;
  readonly quick: boolean;
}

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export const USAGE = `npm run bench -- [options]

Measures payguard against a plain http-proxy-3 pass-through in one run (see docs/bench.md).

  --quick                 short run: 1 s per row after 0.5 s warm-up
  --duration S            seconds measured per row (default 5)
  --warmup S              seconds of warm-up before each row (default 1)
  --connections LIST      concurrent keep-alive connections (default 1,32,256)
  --pages LIST            page ids (default all): ${BENCH_PAGES.map((p) => p.id).join(', ')}
  --targets LIST          ${TARGET_IDS.join(', ')} (default all)
  --paced-rate N          req/s of the paced latency runs at 32 connections (default 100; 0: skip)
  --no-verifier           skip the in-process verifier MB/s figure
  --profile WHEN          auto (profile payguard when a CPU target is missed; not with --quick),
                          always, never (default auto)
  --out FILE              also write the results JSON to FILE
  --no-save               do not write bench/results/<timestamp>.json
  --compare OLD.json      print the change of every figure from OLD.json to this run
                          (with --out NEW.json and --compare-only: compare two files, measure nothing)
  --compare-only          see --compare
  --help
`;

const FULL = { durationSeconds: 5, warmupSeconds: 1 };
const QUICK = { durationSeconds: 1, warmupSeconds: 0.5 };

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  const VALUED = new Set(['--duration', '--warmup', '--connections', '--pages', '--targets', '--paced-rate', '--profile', '--out', '--compare']);
  const SWITCHES = new Set(['--quick', '--no-verifier', '--no-save', '--compare-only', '--help']);
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (SWITCHES.has(name)) switches.add(name);
    else if (VALUED.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new BenchUsageError(`${name} needs a value`);
      flags.set(name, value);
    } else throw new BenchUsageError(`unknown option ${arg}`);
  }
  if (switches.has('--help')) return 'help';
  const quick = switches.has('--quick');
  const defaults = quick ? QUICK : FULL;
  const out = flags.get('--out');
  const compare = flags.get('--compare');
  const compareOnly = switches.has('--compare-only');
  if (compareOnly && (!compare || !out)) throw new BenchUsageError('--compare-only needs --compare OLD.json and --out NEW.json');
  return {
    durationSeconds: positiveNumber(flags.get('--duration'), '--duration', defaults.durationSeconds),
    warmupSeconds: nonNegativeNumber(flags.get('--warmup'), '--warmup', defaults.warmupSeconds),
    connections: list(flags.get('--connections'), ['1', '32', '256']).map((c) => positiveInteger(c, '--connections')),
    pages: list(flags.get('--pages'), BENCH_PAGES.map((p) => p.id)).map((p) => oneOf(p, BENCH_PAGES.map((b) => b.id), '--pages')),
    targets: list(flags.get('--targets'), [...TARGET_IDS]).map((t) => oneOf(t, TARGET_IDS, '--targets')),
    pacedRate: nonNegativeNumber(flags.get('--paced-rate'), '--paced-rate', 100),
    verifier: !switches.has('--no-verifier'),
    profile: oneOf(flags.get('--profile') ?? 'auto', ['auto', 'always', 'never'] as const, '--profile'),
    ...(out === undefined ? {} : { out }),
    ...(compare === undefined ? {} : { compare }),
    save: !switches.has('--no-save'),
    compareOnly,
    quick,
  };
}

function list(value: string | undefined, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new BenchUsageError(`empty list "${value}"`);
  return items;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new BenchUsageError(`${flag}: "${value}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

function positiveNumber(value: string | undefined, flag: string, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new BenchUsageError(`${flag} must be a number of seconds in (0, 3600], got "${value}"`);
  return n;
}

function nonNegativeNumber(value: string | undefined, flag: string, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100_000) throw new BenchUsageError(`${flag} must be a number ≥ 0, got "${value}"`);
  return n;
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new BenchUsageError(`${flag}: "${value}" is not a whole number in 1..10000`);
  return n;
}
