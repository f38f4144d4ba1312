/**
 * `payguard serve --shadow-policy` over real HTTP: the candidate policy is judged on every
 * inspected response, never enforced; disagreements are counted and logged; the proxy's
 * detections and both policies land in the evidence log that `payguard report` reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { buildCliAsync, REPO_ROOT, runPayguard } from '../helpers/cli.js';
import { makeSignedPolicy, policyWith, type SignedPolicyFixture } from '../helpers/policies.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';

const NAVIGATION = { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'navigate', accept: 'text/html' };
const HTML = [['content-type', 'text/html; charset=utf-8']] as [string, string][];

let shop: Storefront;
let current: SignedPolicyFixture;
let candidate: SignedPolicyFixture;
let child: ChildProcess;
let stderr = '';
let stdout = '';
let publicUrl: string;
let adminUrl: string;

beforeAll(async () => {
  await buildCliAsync();
  shop = await startStorefront({
    // The current policy allows cdn.shop.example; the candidate drops it (stricter here).
    '/checkout/': { headers: HTML, body: '<!doctype html><script src="https://cdn.shop.example/app.js"></script><form action="https://pay.gateway.example/charge"></form>' },
    // Nobody allows the tag host in the current policy; the candidate does (looser here).
    '/checkout/tags': { headers: HTML, body: '<!doctype html><script src="https://tags.example/t.js"></script>' },
    '/about': { headers: HTML, body: '<!doctype html><p>about</p>' },
  });
  current = await makeSignedPolicy();
  candidate = await makeSignedPolicy({
    policy: policyWith({ serial: 2, allow: { script: [{ url: 'https://tags.example/t.js', why: 'tag manager under evaluation' }] } }),
  });
  const stateDir = join(current.dir, 'serve-state');
  child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin/payguard.js'), 'serve',
      '--upstream', shop.url, '--policy', current.policyFile, '--shadow-policy', candidate.policyFile,
      '--public-key', current.key.publicKeyFile, '--public-key', candidate.key.publicKeyFile,
      '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--state-dir', stateDir,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  for (let i = 0; i < 600 && !/admin .* on (\S+)\/metrics/.test(stderr); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const listening = /listening on (\S+) in front/.exec(stderr);
  const admin = /on (\S+)\/metrics/.exec(stderr);
  if (!listening || !admin) throw new Error(`payguard serve did not start:\n${stderr}\n${stdout}`);
  publicUrl = listening[1]!;
  adminUrl = admin[1]!;
}, 600_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await shop?.close();
  await current?.cleanup();
  await candidate?.cleanup();
});

async function get(path: string): Promise<number> {
  const res = await request(publicUrl + path, { headers: NAVIGATION });
  await res.body.text();
  return res.statusCode;
}

async function shadowCount(direction: string): Promise<number> {
  const text = await (await request(`${adminUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith('payguard_shadow_disagreements_total{') && l.includes(`direction="${direction}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('payguard serve --shadow-policy', () => {
  it('enforces only the current policy, and counts and logs where the candidate disagrees', async () => {
    expect(await get('/checkout/')).toBe(200); // current allows cdn.shop.example; the candidate would block
    // The shadow verifies only on an idle worker and skips rather than queues (test/proxy/shadow-budget.test.ts):
    // let the first page's shadow verification finish, so that the next page's is not skipped.
    await until(async () => (await shadowCount('stricter')) >= 1);
    // current blocks; the candidate would serve it. The query string must reach no record.
    expect(await get('/checkout/tags?card=4111111111111111')).toBe(502);
    expect(await get('/about')).toBe(200);
    await until(async () => (await shadowCount('stricter')) >= 1 && (await shadowCount('looser')) >= 1);
    expect(await shadowCount('stricter')).toBe(1);
    expect(await shadowCount('looser')).toBe(1);
    // Skips are counted, by reason, from the start (at 0).
    const metrics = await (await request(`${adminUrl}/metrics`)).body.text();
    for (const reason of ['enforced-waiting', 'shadow-in-flight', 'no-idle-worker']) expect(metrics).toContain(`payguard_shadow_skipped_total{reason="${reason}"}`);
    const events = stdout.split('\n').filter((l) => l.includes('"shadow-disagreement"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.path, e.direction, e.enforced, e.shadow])).toEqual(
      expect.arrayContaining([
        ['/checkout/', 'stricter', 'clean', 'blocked'],
        ['/checkout/tags', 'looser', 'blocked', 'clean'],
      ]),
    );
  });

  it('after a drain, the evidence log holds both policies and the block, and its chain verifies', async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const stateDir = join(current.dir, 'serve-state');
    const out = join(current.dir, 'pack');
    const report = await runPayguard(['report', '--policy', current.policyFile, '--public-key', current.key.publicKeyFile, '--state-dir', stateDir, '--out', out, '--verify']);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    const history = JSON.parse(await readFile(join(out, 'policy-history.json'), 'utf8')) as { role: string; serial: number }[];
    expect(history.map((h) => [h.role, h.serial]).sort()).toEqual([['enforced', 1], ['shadow', 2]]);
    const detections = JSON.parse(await readFile(join(out, 'detections.json'), 'utf8')) as Record<string, unknown>[];
    const raw = await readFile(join(stateDir, 'evidence', 'current.ndjson'), 'utf8');
    expect(raw).not.toContain('4111');
    expect(stdout).not.toContain('4111');
    expect(detections).toEqual([
      expect.objectContaining({ route: '/checkout/**', reason: 'foreign-script', kind: 'script', origin: 'https://tags.example', action: 'blocked', count: 1 }),
    ]);
  });
});
