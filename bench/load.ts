/**
 * Load generation: autocannon's keep-alive connections, each sending its next request as soon
 * as the previous response ends (a closed loop), or requests evenly spaced at a fixed overall rate
 * (an open loop, for latency that is not queueing). Latency percentiles are computed here from every
 * response's own time (autocannon's histogram rounds to whole milliseconds).
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Requests per second over all connections; absent: as fast as responses come back. */
  readonly overallRate?: number;
}

export interface LoadResult {
  /** Responses received in the window, any status. */
  readonly responses: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Mean bytes on the wire per response (headers included), to catch a proxy answering with a short error page. */
  readonly bytesPerResponse: number;
  readonly statusCodes: Readonly<Record<string, number>>;
}

interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
}


interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): void;
}

type Autocannon = (options: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => AutocannonInstance;

// autocannon ships no types; typed here at its one call site rather than by an ambient declaration.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** A request timeout far above any figure we report: a slow proxy shows as latency, not errors. */
const REQUEST_TIMEOUT_SECONDS = 60;

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return spec.overallRate === undefined ? runClosedLoop(spec) : runPaced(spec, spec.overallRate);
}

function runClosedLoop(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let bytes = 0;
  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        headers: spec.headers,
        timeout: REQUEST_TIMEOUT_SECONDS,
      },
      (err, result) => {
        if (err) return reject(err);
        resolve(summarise(latencies, statusCodes, bytes, result));
      },
    );
    instance.on('response', (_client, statusCode, resBytes, responseTimeMs) => {
      latencies.push(responseTimeMs);
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      bytes += resBytes;
    });
  });
}

/**
 * The open loop: request i is due at start + i/rate, whatever happened to the ones before, over at
 * most `connections` keep-alive connections. autocannon's overallRate lets each connection send its
 * share at the start of every second, so its "paced" requests arrive in bursts and measure queueing.
 * Latency is counted from when a request was due, not when it went out (no coordinated omission).
 */
async function runPaced(spec: LoadSpec, rate: number): Promise<LoadResult> {
  const url = new URL(spec.url);
  const pool = new Pool(url.origin, { connections: spec.connections, headersTimeout: REQUEST_TIMEOUT_SECONDS * 1000, bodyTimeout: REQUEST_TIMEOUT_SECONDS * 1000 });
  const total = Math.max(1, Math.round(rate * spec.durationSeconds));
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let bytes = 0;
  let errors = 0;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      pool
        .request({ path: url.pathname + url.search, method: 'GET', headers: spec.headers })
        .then(async (res) => {
          for await (const chunk of res.body) bytes += (chunk as Buffer).length;
          latencies.push(performance.now() - due);
          statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
        })
        .catch(() => void errors++),
    );
  }
  await Promise.all(inFlight);
  const duration = (performance.now() - start) / 1000;
  await pool.close();
  return summarise(latencies, statusCodes, bytes, { duration, errors, timeouts: 0 });
}

function summarise(latencies: number[], statusCodes: Record<string, number>, bytes: number, result: AutocannonResult): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  const responses = sorted.length;
  const non2xx = Object.entries(statusCodes).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0);
  return {
    responses,
    non2xx,
    errors: result.errors,
    durationSeconds: result.duration,
    requestsPerSecond: result.duration > 0 ? responses / result.duration : 0,
    latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[responses - 1] ?? 0 },
    bytesPerResponse: responses > 0 ? bytes / responses : 0,
    statusCodes,
  };
}

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}
