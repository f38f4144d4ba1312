/**
 * Setup file of the unit lane (vitest.unit.config.ts, `npm run test:unit`), which runs without
 * Chromium, the minisign binary and promtool. A test that starts one of them there is missing from
 * the lane's WHOLE_SUITE_ONLY list: it fails at once with an error that says so, rather than being
 * skipped or passing on a machine that happens to have the program installed.
 * The guard sits on node:child_process, which is how every test (and playwright-core's Chromium
 * launcher) starts a program, whether it names it by PATH or by absolute path. A program the test
 * starts (payguard's CLI, a bench script) that looks one of them up on PATH finds a stub instead,
 * which fails with the same message.
 */
import childProcess from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/** Programs outside the lane, by file name, and what to call them in the error. */
const OUTSIDE_THE_LANE: ReadonlyMap<string, string> = new Map([
  ['minisign', 'the minisign binary'],
  ['promtool', 'promtool'],
  ['chromium', 'Chromium'],
  ['chromium-browser', 'Chromium'],
  ['chrome', 'Chromium'],
  ['headless_shell', 'Chromium'],
  ...(process.env['PAYGUARD_CHROMIUM'] ? [[basename(process.env['PAYGUARD_CHROMIUM']), 'Chromium'] as const] : []),
]);

/** Programs that run the program named in their arguments: those arguments are checked too. */
const LAUNCHERS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'env', 'flock', 'timeout', 'nice', 'xargs', 'npx']);

function outsideTheLane(what: string, started: string): string {
  return (
    `the unit lane (npm run test:unit) runs without ${what}, and this test started ${started}. ` +
    `Add its file to WHOLE_SUITE_ONLY in vitest.unit.config.ts (npm test still runs it), ` +
    `or let it do without: test/helpers/policies.ts signs policies in-process.`
  );
}

function refuseOutsideTheLane(words: readonly string[], checkAll: boolean): void {
  const candidates = checkAll || LAUNCHERS.has(basename(words[0] ?? '')) ? words.flatMap((w) => w.split(/\s+/)) : words.slice(0, 1);
  for (const word of candidates) {
    const what = OUTSIDE_THE_LANE.get(basename(word));
    if (what !== undefined) throw new Error(outsideTheLane(what, JSON.stringify(word)));
  }
}

type AnyFunction = (...args: never[]) => unknown;

/** Replaces child_process[name] by a version that first checks what it is asked to start. */
function guard(name: 'spawn' | 'spawnSync' | 'execFile' | 'execFileSync' | 'exec' | 'execSync'): void {
  const original = childProcess[name] as AnyFunction & { [promisify.custom]?: AnyFunction };
  // exec and execSync take one command line, run by a shell: every word of it is checked.
  const viaShell = name === 'exec' || name === 'execSync';
  const check = (args: readonly unknown[]): void => {
    const [command, rest] = args;
    const words = [String(command), ...(Array.isArray(rest) ? rest.map(String) : [])];
    refuseOutsideTheLane(words, viaShell);
  };
  const guarded = function (this: unknown, ...args: never[]) {
    check(args);
    return original.apply(this, args);
  };
  // promisify(execFile) and promisify(exec) resolve with { stdout, stderr } through this symbol.
  const custom = original[promisify.custom];
  if (custom) {
    Object.defineProperty(guarded, promisify.custom, {
      value: (...args: never[]) => {
        try {
          check(args);
        } catch (error) {
          return Promise.reject(error);
        }
        return custom(...args);
      },
    });
  }
  (childProcess as unknown as Record<string, unknown>)[name] = guarded;
}

/** A directory of stubs, one per program outside the lane, that fail loudly; first on PATH for child processes. */
function stubDirectory(): string {
  const dir = join(tmpdir(), 'payguard-unit-lane-bin');
  mkdirSync(dir, { recursive: true });
  for (const [name, what] of OUTSIDE_THE_LANE) {
    const stub = join(dir, name);
    // Written beside and renamed into place: a parallel test file may be running the stub already.
    const draft = `${stub}.${process.pid}`;
    writeFileSync(draft, `#!/bin/sh\necho '${outsideTheLane(what, `${name} in a child process`)}' >&2\nexit 127\n`, { mode: 0o755 });
    renameSync(draft, stub);
  }
  return dir;
}

for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync'] as const) guard(name);
// `import { spawn } from 'node:child_process'` reads the ES module's bindings: bring them in line.
syncBuiltinESMExports();
const stubs = stubDirectory();
const path = process.env['PATH'] ?? '';
if (!path.startsWith(stubs + delimiter)) process.env['PATH'] = stubs + delimiter + path;
