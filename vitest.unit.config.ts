/**
 * The unit lane, `npm run test:unit`: every test file except the few that need Chromium, the
 * minisign binary or promtool, which only the whole suite (`npm test`, vitest.config.ts) runs.
 * Real HTTP on 127.0.0.1, payguard in-process or as a child, and policies signed in-process
 * (test/helpers/policies.ts) all stay in the lane.
 *
 * A new test file is in the lane unless it is listed below. If it starts one of the three programs
 * anyway, test/helpers/unit-lane.ts makes it fail with a message that names this list: nothing is
 * skipped silently, and a listed file that no longer exists fails the lane too.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import wholeSuite from './vitest.config';

/** Test files that start Chromium, minisign or promtool (themselves or through a child process), and which. */
const WHOLE_SUITE_ONLY: Readonly<Record<string, string>> = {
  // Chromium is the oracle for what a page does.
  'test/demo/demo.test.ts': 'Chromium',
  'test/demo/sites.test.ts': 'Chromium',
  'test/e2e/attacks.test.ts': 'Chromium',
  'test/proxy/chromium.test.ts': 'Chromium',
  'test/proxy/first-party-chromium.test.ts': 'Chromium',
  'test/robustness/verify-chromium-sample.test.ts': 'Chromium',
  'test/second-layer/chromium.test.ts': 'Chromium',
  'test/second-layer/navigation-guard.test.ts': 'Chromium',
  'test/second-layer/csp-passive.test.ts': 'Chromium',
  'test/second-layer/template-csp.test.ts': 'Chromium',
  'test/platforms/chromium.test.ts': 'Chromium',
  'test/authoring/live-learning.test.ts': 'Chromium',
  'test/second-layer/script-eval.test.ts': 'Chromium',
  'test/verify/oracle.test.ts': 'Chromium',
  'test/verify/oracle-generated.test.ts': 'Chromium',
  'test/verify/oracle-base-readings.test.ts': 'Chromium',
  'test/verify/oracle-frameset.test.ts': 'Chromium',
  'test/verify/oracle-carried-urls.test.ts': 'Chromium',
  'test/verify/oracle-passive.test.ts': 'Chromium',
  'test/verify/oracle-refresh.test.ts': 'Chromium',
  'test/verify/oracle-headers.test.ts': 'Chromium',
  'test/proxy/oracle-codings.test.ts': 'Chromium',
  // Interop with the real minisign binary, or bench/soak scripts that sign with it.
  'test/bench/harness.test.ts': 'minisign (bench/policy.ts signs with it)',
  'test/bench/pages.test.ts': 'minisign',
  'test/cli/scan.test.ts': 'minisign',
  'test/demo/policy.test.ts': 'minisign',
  'test/demo/subcommands.test.ts': 'minisign',
  'test/policy/cli.test.ts': 'minisign',
  'test/policy/minisign.test.ts': 'minisign',
  'test/robustness/soak-short.test.ts': 'minisign (bench/soak-policy.ts signs with it)',
  // Alert rules checked and unit-tested by Prometheus' own tool.
  'test/deploy/promtool.test.ts': 'promtool',
};

const missing = Object.keys(WHOLE_SUITE_ONLY).filter((file) => !existsSync(fileURLToPath(new URL(file, import.meta.url))));
if (missing.length > 0) throw new Error(`vitest.unit.config.ts: WHOLE_SUITE_ONLY names files that do not exist: ${missing.join(', ')}`);

export default mergeConfig(
  wholeSuite,
  defineConfig({
    test: {
      exclude: [...configDefaults.exclude, ...Object.keys(WHOLE_SUITE_ONLY)],
      setupFiles: ['test/helpers/unit-lane.ts'],
    },
  }),
);
