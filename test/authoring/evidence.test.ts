import { compilePolicy } from '../../src/policy/compiled.js';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readEvidence } from '../../src/evidence/chain.js';
import { CURRENT_FILE, evidenceDir } from '../../src/evidence/files.js';
import { EvidenceLog } from '../../src/evidence/log.js';
import { EvidenceRecorder } from '../../src/evidence/recorder.js';
import { buildEvidencePack, toCsv } from '../../src/evidence/report.js';
import type { PolicyInForce } from '../../src/policy/in-force.js';
import { parsedPolicyWith } from '../helpers/policies.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'payguard-evidence-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

const policy = parsedPolicyWith({ serial: 3 });
const inForce = (sha: string): PolicyInForce => ({ policy, compiled: compilePolicy(policy), file: 'p.yaml', keyId: 'ABCDEF0123456789', sha256: sha, trustedComment: '', acceptedAt: new Date() });
const detection = { route: '/checkout/**', reason: 'foreign-form-action', kind: 'form-action', origin: 'https://evil.example', action: 'blocked' } as const;

/** A clock the test moves: the recorder's first/last seen come from it. */
function clock(start: string) {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

async function writeSample(records: number): Promise<void> {
  const log = await EvidenceLog.open(stateDir);
  for (let i = 0; i < records; i++) await log.append({ ...detection, type: 'detection', count: 1, firstSeen: `2026-01-0${1 + (i % 9)}T00:00:00.000Z`, lastSeen: `2026-01-0${1 + (i % 9)}T00:00:00.000Z` });
  await log.close();
}

async function currentLines(): Promise<string[]> {
  return (await readFile(join(evidenceDir(stateDir), CURRENT_FILE), 'utf8')).split('\n').filter((l) => l !== '');
}

describe('evidence log: hash chain', () => {
  it('an untouched log verifies, continues across restarts, and its records link by sha256', async () => {
    await writeSample(3);
    await writeSample(2);
    const check = await readEvidence(stateDir);
    expect(check.ok).toBe(true);
    expect(check.records.map((r) => r.record.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(check.records[0]!.record.prev).toBe('0'.repeat(64));
    expect(check.head).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a deleted record is detected and named', async () => {
    await writeSample(5);
    const lines = await currentLines();
    lines.splice(2, 1); // delete record 3
    await writeFile(join(evidenceDir(stateDir), CURRENT_FILE), lines.join('\n') + '\n');
    const check = await readEvidence(stateDir);
    expect(check.ok).toBe(false);
    expect(check.firstBroken).toMatchObject({ seq: 3, line: 3 });
    expect(check.firstBroken!.problem).toContain('record 3 is missing');
  });

  it('an edited record (a detection count lowered) is detected and named', async () => {
    await writeSample(5);
    const lines = await currentLines();
    lines[1] = lines[1]!.replace('"count":1', '"count":0');
    await writeFile(join(evidenceDir(stateDir), CURRENT_FILE), lines.join('\n') + '\n');
    const check = await readEvidence(stateDir);
    expect(check.ok).toBe(false);
    expect(check.firstBroken).toMatchObject({ seq: 2, line: 2 });
    expect(check.firstBroken!.problem).toContain('changed after it was written');
  });

  it('deleting a record and renumbering the rest is still detected (the links break)', async () => {
    await writeSample(4);
    const lines = await currentLines();
    lines.splice(1, 1);
    const renumbered = lines.map((l, i) => l.replace(/"seq":\d+/, `"seq":${i + 1}`));
    await writeFile(join(evidenceDir(stateDir), CURRENT_FILE), renumbered.join('\n') + '\n');
    const check = await readEvidence(stateDir);
    expect(check.ok).toBe(false);
    expect(check.firstBroken!.seq).toBe(1);
  });

  it('rotates at a size, keeps at most maxFiles, and the chain still verifies across files', async () => {
    const log = await EvidenceLog.open(stateDir, { maxFileBytes: 600, maxFiles: 3 });
    for (let i = 0; i < 40; i++) await log.append({ ...detection, type: 'detection', count: i + 1, firstSeen: 'x', lastSeen: 'x' });
    await log.close();
    const files = await readdir(evidenceDir(stateDir));
    expect(files).toHaveLength(3);
    const check = await readEvidence(stateDir);
    expect(check.ok).toBe(true);
    expect(check.firstSeq).toBeGreaterThan(1);
    expect(check.records.at(-1)!.record.seq).toBe(40);
  });

  it('a torn last line is named by the check, and the log keeps working after it', async () => {
    await writeSample(2);
    await writeFile(join(evidenceDir(stateDir), CURRENT_FILE), (await readFile(join(evidenceDir(stateDir), CURRENT_FILE), 'utf8')) + '{"seq":3,"at":"20');
    await writeSample(1);
    const check = await readEvidence(stateDir);
    expect(check.firstBroken).toMatchObject({ seq: 3, line: 3 });
  });
});

describe('evidence recorder and report', () => {
  it('aggregates detections per (route, reason, kind, origin, action), keeps only origins, and builds the pack', async () => {
    const c = clock('2026-03-01T10:00:00.000Z');
    const log = await EvidenceLog.open(stateDir, { now: c.now });
    const recorder = new EvidenceRecorder(log, c.now);
    await recorder.policyAccepted(inForce('a'.repeat(64)));
    await recorder.policyAccepted(inForce('a'.repeat(64))); // a restart: same policy, no new history row
    for (let i = 0; i < 5; i++) {
      recorder.detected({ ...detection, origin: 'https://evil.example/steal?card=4111111111111111' });
      c.advance(60_000);
    }
    recorder.detected({ ...detection, action: 'reported', route: '/**' });
    await recorder.flush();
    c.advance(86_400_000);
    await recorder.policyAccepted(inForce('b'.repeat(64)));
    recorder.detected(detection);
    await recorder.flush();
    await log.close();

    const raw = await readFile(join(evidenceDir(stateDir), CURRENT_FILE), 'utf8');
    expect(raw).not.toContain('4111');
    expect(raw).not.toContain('/steal');

    const pack = buildEvidencePack(policy, await readEvidence(stateDir));
    expect(pack.chain.ok).toBe(true);
    expect(pack.policyHistory.map((h) => [h.sha256[0], h.serial, h.keyId])).toEqual([
      ['a', 3, 'ABCDEF0123456789'],
      ['b', 3, 'ABCDEF0123456789'],
    ]);
    expect(pack.detections[0]).toEqual({ ...detection, firstSeen: '2026-03-01T10:00:00.000Z', lastSeen: '2026-03-02T10:05:00.000Z', count: 6 });
    expect(pack.detections[1]).toMatchObject({ route: '/**', action: 'reported', count: 1 });
    expect(pack.scripts).toEqual([{ list: 'script', type: 'origin', address: 'https://cdn.shop.example', integrity: '', justification: 'storefront assets' }]);

    const since = buildEvidencePack(policy, await readEvidence(stateDir), new Date('2026-03-02T00:00:00Z'));
    // Only the flush after `since` counts (the first five were last seen the day before).
    expect(since.detections.map((d) => d.count)).toEqual([1]);
    expect(since.policyHistory.map((h) => h.sha256[0])).toEqual(['a', 'b']);
  });

  it('CSV quotes separators and defuses spreadsheet formulas', () => {
    expect(toCsv([{ a: 'x,y', b: '=HYPERLINK("e")' }], ['a', 'b'])).toBe('a,b\r\n"x,y","\'=HYPERLINK(""e"")"\r\n');
  });
});
