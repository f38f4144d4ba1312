/**
 * Issue 10, third bullet, the CI version: the soak (bench/soak.ts, `npm run soak` for the full
 * 10 minutes at 256 connections) for 30 s at 32 connections, with the same checks: no unhandled
 * error, no wrong verdict, every block counted, RSS flat, no socket left open. A failure prints the
 * soak's own report.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCliAsync, REPO_ROOT, runProcess } from '../helpers/cli.js';

const SOAK = join(REPO_ROOT, 'dist', 'bench', 'soak.js');

describe('soak (short)', () => {
  beforeAll(async () => {
    await buildCliAsync();
  }, 600_000);

  it('30 s at 32 connections with policy churn, two storefront restarts and 10% tampered pages: no unhandled error, no wrong verdict, every block counted, RSS flat, no socket left', async () => {
    expect(existsSync(SOAK)).toBe(true);
    const result = await runProcess(process.execPath, [SOAK, '--seconds', '30', '--connections', '32'], { timeoutMs: 300_000 });
    console.log(result.stdout + result.stderr);
    expect(result.stdout).toContain('soak: PASS');
    expect(result.code).toBe(0);
  }, 360_000);
});
