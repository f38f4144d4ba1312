/**
 * promtool, Prometheus' own checker, on the rule files: `check rules` (what Prometheus would say
 * loading them), `check config`, and `test rules` on deploy/prometheus/alerts.test.yml, which
 * feeds synthetic series and asserts each alert fires (and stays quiet) when it should.
 * promtool comes from Debian's `prometheus` package (.ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { asRecord, readRepoYamlDocuments, repoPath } from './helpers/repo.js';

const run = promisify(execFile);
const PROMTOOL = process.env.PAYGUARD_PROMTOOL ?? '/usr/bin/promtool';
const HAVE_PROMTOOL = existsSync(PROMTOOL);

async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: repoPath('deploy/prometheus'), timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failure = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

describe.skipIf(!HAVE_PROMTOOL)('promtool on deploy/prometheus', () => {
  it('check rules: alerts.yml loads as Prometheus would load it', async () => {
    const result = await promtool(['check', 'rules', 'alerts.yml']);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('check config: prometheus.yml and the rule files it names are valid', async () => {
    const result = await promtool(['check', 'config', 'prometheus.yml']);
    expect(result.code, result.output).toBe(0);
  });

  it('test rules: every alert fires on its incident and stays quiet otherwise (alerts.test.yml)', async () => {
    const result = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('check rules: the PrometheusRule\'s groups load too', async () => {
    const [rule] = readRepoYamlDocuments('deploy/kubernetes/prometheusrule.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'payguard-promrule-'));
    try {
      const file = join(dir, 'rules.yml');
      writeFileSync(file, stringify({ groups: asRecord(asRecord(rule, 'PrometheusRule')['spec'], 'spec')['groups'] }));
      const result = await promtool(['check', 'rules', file]);
      expect(result.code, result.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken rule file fails check rules (the check is not vacuous)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payguard-promrule-'));
    try {
      const file = join(dir, 'broken.yml');
      writeFileSync(file, 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: rate(payguard_responses_total[5m]\n');
      const result = await promtool(['check', 'rules', file]);
      expect(result.code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('promtool availability', () => {
  it('is installed where CI runs (.ci/run: apt-get install prometheus)', () => {
    // Locally the suite above skips without promtool; in CI a missing promtool is a failure, so
    // the alert unit tests can never silently stop running.
    if (process.env.CI) expect(HAVE_PROMTOOL, `${PROMTOOL} not found`).toBe(true);
    else if (!HAVE_PROMTOOL) console.warn(`promtool not found at ${PROMTOOL}: alert unit tests skipped (apt-get install prometheus)`);
  });
});
