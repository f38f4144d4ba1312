/**
 * The results file: everything one run measured, with the machine it ran on. A later run reads
 * it back for `--compare`, so keys are stable: `<target>/<page>/c<connections>[/paced<rate>]`.
 */
import type { Machine } from './machine.js';
import type { BenchOptions, TargetId } from './options.js';
import type { PageId } from './pages/index.js';
import type { ProfileSummary } from './profile.js';
import type { TargetVerdict } from './targets.js';
import type { VerifierFigures } from './verifier.js';

export const RESULTS_VERSION = 1;

export interface RowResult {
  readonly key: string;
  readonly target: TargetId;
  readonly page: PageId;
  readonly connections: number;
  /** Set on paced runs (a fixed overall request rate); absent on closed-loop runs. */
  readonly overallRate?: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly responses: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly bytesPerResponse: number;
  /** utime+stime of the proxy process over the window / responses; absent for `direct`. */
  readonly proxyCpuMsPerRequest?: number;
  /** VmHWM of the proxy process over the row (reset before it where the kernel allows). */
  readonly proxyPeakRssMb?: number;
  readonly upstreamCpuMsPerRequest: number;
  /** Busy CPU of the machine not spent by the upstream, the proxy or the load generator, as a share of both cores' time. */
  readonly foreignCpuShare: number;
  /** payguard's own count of verdicts over the row (payguard_responses_total). */
  readonly verdicts?: Readonly<Record<string, number>>;
  /** Why the row may not measure what it says (errors, non-2xx, an unexpected verdict); empty when sound. */
  readonly problems: readonly string[];
}

export interface BenchResults {
  readonly version: typeof RESULTS_VERSION;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly settings: Omit<BenchOptions, 'out' | 'compare' | 'compareOnly' | 'save'>;
  /** Things the reader must know (a target not built yet, a kernel that refused to reset VmHWM…). */
  readonly notes: readonly string[];
  readonly rows: readonly RowResult[];
  readonly verifier?: VerifierFigures;
  readonly targets: readonly TargetVerdict[];
  readonly profiles: readonly ProfileSummary[];
}

export function rowKey(target: TargetId, page: PageId, connections: number, overallRate?: number): string {
  return `${target}/${page}/c${connections}${overallRate === undefined ? '' : `/paced${overallRate}`}`;
}
