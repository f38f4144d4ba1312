/**
 * The bench harness end to end on a tiny bounded configuration: real upstream and pass-through
 * child processes, real autocannon load, a results file that `--compare` reads back. It asserts
 * that the harness measures and records, never how fast anything is.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payguardServeMissing } from '../../bench/payguard.js';

const execFileAsync = promisify(execFile);
const RUN = new URL('../../dist/bench/run.js', import.meta.url).pathname;

interface Row {
  key: string;
  target: string;
  page: string;
  connections: number;
  responses: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  bytesPerResponse: number;
  proxyCpuMsPerRequest?: number;
  proxyPeakRssMb?: number;
  foreignCpuShare: number;
  problems: string[];
}

function bench(args: readonly string[]) {
  return execFileAsync(process.execPath, [RUN, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

describe('npm run bench (tiny run: 2 pages × 2 targets × 2 connections, 0.3 s each)', () => {
  let dir: string;
  let results: { version: number; machine: Record<string, unknown>; notes: string[]; rows: Row[]; targets: { id: string; status: string }[] };
  let stdout: string;

  beforeAll(async () => {
    if (!existsSync(RUN)) throw new Error(`${RUN} is missing: build first (npm test runs tsc -p tsconfig.json before vitest)`);
    dir = await mkdtemp(join(tmpdir(), 'payguard-bench-test-'));
    const args = ['--pages', 'checkout-unique-gzip,asset-image', '--targets', 'direct,passthrough', '--connections', '1,4'];
    ({ stdout } = await bench([...args, '--duration', '0.3', '--warmup', '0', '--paced-rate', '0', '--no-verifier', '--profile', 'never', '--no-save', '--out', join(dir, 'run.json')]));
    results = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes one row per target, page and connection count, every one of them sound', () => {
    expect(results.version).toBe(1);
    // The probe found the pass-through's bytes identical to the upstream's, and nothing else to note.
    expect(results.notes).toEqual([]);
    expect(results.rows.map((r) => r.key).sort()).toEqual(
      [
        'direct/asset-image/c1', 'direct/asset-image/c4', 'direct/checkout-unique-gzip/c1', 'direct/checkout-unique-gzip/c4',
        'passthrough/asset-image/c1', 'passthrough/asset-image/c4', 'passthrough/checkout-unique-gzip/c1', 'passthrough/checkout-unique-gzip/c4',
      ].sort(),
    );
    for (const row of results.rows) {
      // On a machine shared with other jobs, 0.3 s may give a connection fewer than the 3
      // responses a meaningful figure needs; that note is the harness working, not failing.
      expect(row.problems.filter((p) => !p.includes('raise --duration')), row.key).toEqual([]);
      expect(row.responses, row.key).toBeGreaterThan(0);
      expect(row.requestsPerSecond, row.key).toBeGreaterThan(0);
      expect(row.p99Ms, row.key).toBeGreaterThanOrEqual(row.p50Ms);
      expect(row.foreignCpuShare, row.key).toBeGreaterThanOrEqual(0);
    }
  });

  it('reads the proxy CPU and peak RSS from /proc for the pass-through, and none for direct', () => {
    for (const row of results.rows.filter((r) => r.target === 'passthrough')) {
      expect(row.proxyCpuMsPerRequest, row.key).toBeGreaterThanOrEqual(0);
      // A Node process serving HTTP holds tens of MB; 0 would mean /proc was not read.
      expect(row.proxyPeakRssMb, row.key).toBeGreaterThan(10);
    }
    for (const row of results.rows.filter((r) => r.target === 'direct')) expect(row.proxyCpuMsPerRequest, row.key).toBeUndefined();
  });

  it('receives the gzip body when it asks for gzip and the whole image otherwise', () => {
    const gzipped = results.rows.find((r) => r.key === 'direct/checkout-unique-gzip/c1')!;
    const image = results.rows.find((r) => r.key === 'direct/asset-image/c1')!;
    // The 100 KB page compresses well below 50 KB; the 50 KB PNG of noise does not compress.
    expect(gzipped.bytesPerResponse).toBeLessThan(50 * 1024);
    expect(image.bytesPerResponse).toBeGreaterThan(50 * 1024);
  });

  it('records the machine and prints a table with the ratios to the pass-through', () => {
    expect(results.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    expect(stdout).toMatch(/machine: .*cores/);
    expect(stdout).toMatch(/passthrough\s+4\s+\d+\s+1\.00/);
    expect(results.targets.map((t) => t.id)).toContain('cpu-unique-checkout');
    // Issue 19's goals are printed too; without payguard rows none of them may read as met.
    const goals = results.targets.filter((t) => t.id.startsWith('i19-'));
    expect(goals.map((t) => t.id)).toEqual(['i19-cpu-unique-checkout', 'i19-real-shaped-page', 'i19-p99-unique-checkout', 'i19-non-document-cpu', 'i19-peak-rss']);
    expect(goals.every((t) => t.status === 'n/a')).toBe(true);
  });

  it('compares a results file with another (--compare-only)', async () => {
    const { stdout: comparison } = await bench(['--compare', join(dir, 'run.json'), '--out', join(dir, 'run.json'), '--compare-only']);
    expect(comparison).toMatch(/passthrough\/asset-image\/c4 .*req\/s \S+ → \S+ \(\+0\.0%\)/);
  });

  it('refuses an unknown page with a usage error (exit 2)', async () => {
    await expect(bench(['--pages', 'checkout,nope'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--pages: "nope" is not one of/) });
  });
});

describe.skipIf(await payguardServeMissing())('npm run bench through payguard (tiny run)', () => {
  it('measures payguard from its own process, and payguard counts the clean page as clean', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-bench-test-'));
    try {
      const args = ['--pages', 'checkout', '--targets', 'passthrough,payguard', '--connections', '2', '--duration', '0.5', '--warmup', '0'];
      await bench([...args, '--paced-rate', '0', '--no-verifier', '--profile', 'never', '--no-save', '--out', join(dir, 'run.json')]);
      const run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as { notes: string[]; rows: (Row & { verdicts?: Record<string, number> })[] };
      // A clean page comes out of payguard with the upstream's content (decoded: payguard may ask
      // the upstream for a coding the client did not, which the probe reports as info).
      expect(run.notes.filter((n) => n.includes('probe problem'))).toEqual([]);
      const guard = run.rows.find((r) => r.key === 'payguard/checkout/c2')!;
      expect(guard.problems.filter((p) => !p.includes('raise --duration'))).toEqual([]);
      expect(guard.verdicts?.clean).toBeGreaterThan(0);
      expect(guard.proxyPeakRssMb).toBeGreaterThan(10);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
