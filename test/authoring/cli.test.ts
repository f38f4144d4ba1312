/** The authoring commands through the real CLI: policy lint/diff, sign's lint gate, report, inventory. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceLog } from '../../src/evidence/log.js';
import { EvidenceRecorder } from '../../src/evidence/recorder.js';
import { CURRENT_FILE, evidenceDir } from '../../src/evidence/files.js';
import { loadSignedPolicy } from '../../src/policy/load.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { buildCliAsync, runPayguard } from '../helpers/cli.js';
import { makeSignedPolicy, policyWith, writePolicyYaml, type SignedPolicyFixture } from '../helpers/policies.js';
import { startTestShop, type TestShop } from './shop.js';

let dir: string;
let signed: SignedPolicyFixture;
beforeAll(async () => {
  await buildCliAsync();
  dir = await mkdtemp(join(tmpdir(), 'payguard-authoring-cli-'));
  signed = await makeSignedPolicy({ policy: policyWith({ allow: { script: [{ url: 'https://cdn.shop.example/app.js', why: 'storefront app' }] } }) });
}, 600_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await signed.cleanup();
});

const policyFile = (name: string, overrides: Record<string, unknown>): Promise<string> => writePolicyYaml(join(dir, name), overrides);

describe('payguard policy lint / diff and sign', () => {
  it('lint exits 1 on a JSONP host and names the field and source; sign refuses the same file', async () => {
    const file = await policyFile('hollow.yaml', { allow: { script: [{ origin: 'https://www.googletagmanager.com', why: 'tags' }] } });
    const lint = await runPayguard(['policy', 'lint', file]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain('(allow.script[0]): error');
    expect(lint.stdout).toContain('google/csp-evaluator allowlist_bypasses/jsonp.ts');
    const sign = await runPayguard(['sign', file, '--secret-key', signed.key.secretKeyFile]);
    expect(sign.code).toBe(1);
    expect(sign.stderr).toContain('allow.script[0]');
  });

  it('lint --json exits 0 with only warnings, and sign then signs', async () => {
    const file = await policyFile('ok.yaml', {});
    const lint = await runPayguard(['policy', 'lint', file, '--json']);
    expect(lint.code).toBe(0);
    expect(JSON.parse(lint.stdout).findings.map((f: { severity: string }) => f.severity)).toEqual(['warning']);
    expect((await runPayguard(['sign', file, '--secret-key', signed.key.secretKeyFile])).code).toBe(0);
  });

  it('diff exits 0 and flags a weakened route as loosened; exits 1 on an invalid file', async () => {
    const old = await policyFile('old.yaml', {});
    const next = await policyFile('new.yaml', { routes: [{ path: '/checkout/**', mode: 'report' }, { path: '/**', mode: 'report' }] });
    const diff = await runPayguard(['policy', 'diff', old, next, '--json']);
    expect(diff.code).toBe(0);
    expect(JSON.parse(diff.stdout).changes).toEqual([{ change: 'loosened', where: 'routes', subject: '/checkout/**', detail: 'mode weakened from block to report' }]);
    await writeFile(join(dir, 'bad.yaml'), 'schema: 1\nserial: x\n');
    const bad = await runPayguard(['policy', 'diff', old, join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.yaml');
  });
});

describe('payguard report', () => {
  it('writes the evidence pack, verifies the chain, then names an edited record', async () => {
    const stateDir = join(dir, 'state');
    const inForce = await loadSignedPolicy({ ...signed.loadOptions, stateDir });
    const log = await EvidenceLog.open(stateDir);
    const recorder = new EvidenceRecorder(log);
    await recorder.policyAccepted(inForce);
    recorder.detected({ route: '/checkout/**', reason: 'foreign-script', kind: 'script', origin: 'https://evil.example', action: 'blocked' });
    await recorder.flush();
    await log.close();

    const out = join(dir, 'pack');
    const ok = await runPayguard(['report', '--policy', signed.policyFile, '--public-key', signed.key.publicKeyFile, '--state-dir', stateDir, '--out', out, '--verify']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('evidence chain verified: 2 records');
    expect(await readFile(join(out, 'scripts.csv'), 'utf8')).toBe('list,type,address,integrity,justification\r\nscript,url,https://cdn.shop.example/app.js,,storefront app\r\n');
    const history = JSON.parse(await readFile(join(out, 'policy-history.json'), 'utf8'));
    expect(history).toMatchObject([{ serial: 1, keyId: signed.key.keyId, sha256: inForce.sha256 }]);
    const detections = JSON.parse(await readFile(join(out, 'detections.json'), 'utf8'));
    expect(detections).toMatchObject([{ reason: 'foreign-script', origin: 'https://evil.example', count: 1 }]);

    const current = join(evidenceDir(stateDir), CURRENT_FILE);
    await writeFile(current, (await readFile(current, 'utf8')).replace('"serial":1', '"serial":9'));
    const broken = await runPayguard(['report', '--policy', signed.policyFile, '--state-dir', stateDir, '--verify']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/evidence chain BROKEN at record 1 \(.*current\.ndjson:1\)/);
  });
});

describe('payguard inventory (CLI)', () => {
  let shop: TestShop;
  beforeAll(async () => {
    shop = await startTestShop();
  });
  afterAll(() => shop.close());

  it('writes a draft that sign refuses until every why is filled, and that compares clean once signed', async () => {
    const draft = join(dir, 'draft.yaml');
    const run = await runPayguard(['inventory', shop.shop.url, '--crawl', '10', '--out', draft]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('4 page(s)');
    expect(run.stdout).toContain('https://pay.gateway.example/charge');
    const text = await readFile(draft, 'utf8');
    const refused = await runPayguard(['sign', draft, '--secret-key', signed.key.secretKeyFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the justification is still TODO');

    await writeFile(draft, text.replaceAll('why: TODO', 'why: reviewed for the test'));
    parsePolicyText(await readFile(draft, 'utf8'), draft);
    const sign = await runPayguard(['sign', draft, '--secret-key', signed.key.secretKeyFile]);
    expect(sign.stderr + sign.stdout).toContain('signed');
    const compare = await runPayguard(['inventory', shop.shop.url, '--crawl', '10', '--policy', draft, '--public-key', signed.key.publicKeyFile]);
    expect(compare.stdout).toContain('no differences');
    expect(compare.code).toBe(0);
    // The draft is never overwritten.
    expect((await runPayguard(['inventory', shop.shop.url, '--out', draft])).code).toBe(1);
  });
});
