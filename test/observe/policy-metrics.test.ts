/**
 * payguard_policy_info and payguard_policy_reloads_total following a real PolicyHolder through
 * signed reloads, a refused reload and a rollback attempt.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/metrics.js';
import { generateKeyPair, parseSecretKey, signMessage } from '../../src/policy/minisign.js';
import { PolicyHolder } from '../../src/policy/reload.js';
import { demoPolicyYaml } from '../../src/demo/policy.js';
import { Scrape } from './prom.js';

const dirs: string[] = [];
const holders: PolicyHolder[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => h.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function signedPolicyDir() {
  const dir = await mkdtemp(join(tmpdir(), 'payguard-policy-metrics-'));
  dirs.push(dir);
  const pair = generateKeyPair();
  const secretKey = parseSecretKey(pair.secretKeyText, '(test key)');
  const files = { policyFile: join(dir, 'policy.yaml'), signatureFile: join(dir, 'policy.yaml.minisig') };
  const publish = async (serial: number, tamper = false): Promise<void> => {
    const text = Buffer.from(demoPolicyYaml({ site: 'https://shop.example', gatewayOrigin: 'https://pay.example', serial }));
    const signature = signMessage(text, secretKey, { trustedComment: `serial ${serial}` });
    await writeFile(files.policyFile, tamper ? Buffer.concat([text, Buffer.from('# changed after signing\n')]) : text);
    await writeFile(files.signatureFile, signature);
  };
  await writeFile(join(dir, 'payguard.pub'), pair.publicKeyText);
  return { dir, files, keyId: pair.keyId, publicKeyFile: join(dir, 'payguard.pub'), publish };
}

describe('policy metrics with a real PolicyHolder', () => {
  it('payguard_policy_info names only the policy in force; reloads are counted by result', async () => {
    const signed = await signedPolicyDir();
    await signed.publish(1);
    const holder = await PolicyHolder.open({
      ...signed.files,
      publicKeyFiles: [signed.publicKeyFile],
      stateDir: join(signed.dir, 'state'),
    });
    holders.push(holder);
    const metrics = createMetrics();
    metrics.trackPolicy(holder);
    const scrape = async (): Promise<Scrape> => new Scrape(await metrics.registry.metrics());

    let s = await scrape();
    expect(s.samples('payguard_policy_info')).toEqual([
      { labels: { serial: '1', key_id: signed.keyId, sha256: holder.current().sha256 }, value: 1 },
    ]);

    await signed.publish(2);
    expect((await holder.reload('manual')).ok).toBe(true);
    s = await scrape();
    expect(s.samples('payguard_policy_info')).toEqual([
      { labels: { serial: '2', key_id: signed.keyId, sha256: holder.current().sha256 }, value: 1 },
    ]);
    expect(s.value('payguard_policy_reloads_total', { result: 'accepted' })).toBe(1);

    await signed.publish(3, true); // one line added after signing: the signature no longer verifies
    expect((await holder.reload('manual')).ok).toBe(false);
    await signed.publish(1); // correctly signed, but an older serial: a rollback
    expect((await holder.reload('manual')).ok).toBe(false);

    s = await scrape();
    expect(s.samples('payguard_policy_info').map((x) => x.labels.serial)).toEqual(['2']);
    expect(s.value('payguard_policy_reloads_total', { result: 'accepted' })).toBe(1);
    expect(s.value('payguard_policy_reloads_total', { result: 'rejected' })).toBe(2);
  });
});
