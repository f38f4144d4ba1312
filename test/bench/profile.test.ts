/**
 * The profile summariser on a real V8 CPU profile: a child burns CPU in a function with a
 * known name under `node --cpu-prof`, and the summary must put that function on top.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatProfile, summariseProfileFile } from '../../bench/profile.js';

const execFileAsync = promisify(execFile);

// Bounded by iterations, not time: about 100-300 ms of CPU on this machine.
const BURNER = `
function burnCpuForProfile() { let x = 0; for (let i = 0; i < 3e7; i += 1) x = (x + i * 7) % 1000003; return x; }
let total = 0; for (let r = 0; r < 5; r += 1) total += burnCpuForProfile();
console.log(total);
`;

describe('bench/profile.ts', () => {
  it('ranks the function that burned the CPU first, with its self time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-bench-prof-'));
    try {
      await execFileAsync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', BURNER]);
      const [file] = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
      expect(file).toBeDefined();
      const summary = await summariseProfileFile(join(dir, file!), 'burner');
      expect(summary.topFunctions[0]?.name).toMatch(/^burnCpuForProfile /);
      expect(summary.topFunctions[0]!.share).toBeGreaterThan(0.5);
      expect(summary.busyMs).toBeGreaterThan(0);
      expect(summary.thread).toBe('main');
      expect(formatProfile(summary)).toContain('burnCpuForProfile');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
