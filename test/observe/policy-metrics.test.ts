/**
 * payguard_policy_info and payguard_policy_reloads_total following a real PolicyHolder through
 * signed reloads, a refused reload and a rollback attempt.
 */
import { appendFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/metrics.js';
import { PolicyHolder } from '../../src/policy/reload.js';
import { demoPolicyYaml } from '../../src/demo/policy.js';
import { makeSignedPolicy, type SignedPolicyFixture } from '../helpers/policies.js';
import { Scrape } from './prom.js';

const fixtures: SignedPolicyFixture[] = [];
const holders: PolicyHolder[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => h.close()));
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

/** The demo policy at `serial`, signed (trusted comment "serial N"); `tamper` adds a line after signing. */
async function signedPolicyDir() {
  const fixture = await makeSignedPolicy();
  fixtures.push(fixture);
  const publish = async (serial: number, tamper = false): Promise<void> => {
    await fixture.write(demoPolicyYaml({ site: 'https://shop.example', gatewayOrigin: 'https://pay.example', serial }), { trustedComment: `serial ${serial}` });
    if (tamper) await appendFile(fixture.policyFile, '# changed after signing\n');
  };
  return { fixture, keyId: fixture.key.keyId, publish };
}

describe('policy metrics with a real PolicyHolder', () => {
  it('payguard_policy_info names only the policy in force; reloads are counted by result', async () => {
    const signed = await signedPolicyDir();
    await signed.publish(1);
    const holder = await PolicyHolder.open({ ...signed.fixture.loadOptions, signatureFile: signed.fixture.signatureFile });
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
