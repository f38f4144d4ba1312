import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { demoPolicyYaml } from '../../src/demo/policy.js';
import { writeSignedDemoPolicy } from '../../src/demo/sign.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('demo policy', () => {
  it('is a valid policy with the site, the gateway for form/frame/navigate, and block on /checkout/**', () => {
    const policy = parsePolicyText(
      demoPolicyYaml({ site: 'http://127.0.0.1:8080', gatewayOrigin: 'http://127.0.0.1:3001' }),
      'demo.yaml',
    );
    expect(policy.site).toBe('http://127.0.0.1:8080');
    for (const kind of ['form', 'frame', 'navigate'] as const) {
      expect(policy.allow[kind]).toEqual([expect.objectContaining({ type: 'origin', origin: 'http://127.0.0.1:3001' })]);
      expect(policy.allow[kind][0]!.why).toMatch(/\S/);
    }
    expect(policy.allow.script).toEqual([]);
    expect(compilePolicy(policy).route('/checkout').mode).toBe('block');
    expect(compilePolicy(policy).route('/checkout/pay?variant=x').mode).toBe('block');
    expect(compilePolicy(policy).route('/cart').mode).toBe('rewrite');
  });

  it('is signed so that the real minisign binary verifies it, and no secret key is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payguard-demo-policy-'));
    dirs.push(dir);
    const files = await writeSignedDemoPolicy(dir, { site: 'http://127.0.0.1:8080', gatewayOrigin: 'http://127.0.0.1:3001' });
    const { stdout } = await run('minisign', ['-V', '-p', files.publicKeyFile, '-m', files.policyFile]);
    expect(stdout).toContain('Signature and comment signature verified');
    expect(stdout).toContain('payguard demo policy serial 1');
    expect((await readdir(dir)).sort()).toEqual(['payguard.pub', 'policy.yaml', 'policy.yaml.minisig']);
    expect(await readFile(files.publicKeyFile, 'utf8')).toContain(files.keyId);
  });
});
