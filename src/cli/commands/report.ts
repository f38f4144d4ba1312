/**
 * `payguard report`: the PCI DSS 6.4.3 / 11.6.1 evidence pack from the policy and the evidence
 * log in the state dir, and `--verify` to check the log's hash chain.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyError, PolicyError, UsageError } from '../../errors.js';
import { readEvidence } from '../../evidence/chain.js';
import { buildEvidencePack, toCsv, type EvidencePack } from '../../evidence/report.js';
import { loadPublicKeys, readSignedPolicy } from '../../policy/load.js';
import type { Policy } from '../../policy/model.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';
import { readPolicyFile } from './policy.js';

const USAGE = `Usage: payguard report --policy P --state-dir D [options]

Builds the PCI DSS evidence pack from payguard's own records:
  scripts.csv / scripts.json                 6.4.3 script inventory with written justifications
  policy-history.csv / policy-history.json   serials, key ids, sha256, when each came into force
  detections.csv / detections.json           11.6.1 tamper detections: what was blocked or
                                             reported, first seen, last seen, how many responses
  summary.json                               the above plus the evidence chain's state and head hash
Without --out, the pack is printed as one JSON document.

Options:
  --policy FILE       the policy whose inventory to report (required)
  --public-key FILE   verify the policy's signature first (repeatable); without it the
                      policy is read unverified and the summary says so
  --state-dir DIR     payguard serve's state dir (default .payguard-state)
  --since ISO         only detections last seen at or after this time (e.g. 2026-01-01T00:00:00Z)
  --out DIR           write the pack's files into DIR
  --verify            check the evidence log's hash chain; exit 1 naming the first broken record
  -h, --help          show this help

Exit status: 0 done (and the chain verified, with --verify); 1 the chain is broken or the
policy is invalid; 2 usage error.
`;

export const reportCommand: Command = {
  name: 'report',
  summary: 'PCI DSS evidence pack: script inventory, policy history, tamper detections',
  usage: USAGE,
  async run(argv) {
    const options = parseReportArgs(argv);
    let policy: Policy;
    let signature: string;
    try {
      if (options.publicKeys.length > 0) {
        const inForce = await readSignedPolicy({ policyFile: options.policyFile }, await loadPublicKeys(options.publicKeys));
        policy = inForce.policy;
        signature = `verified (key ${inForce.keyId}, sha256 ${inForce.sha256})`;
      } else {
        policy = await readPolicyFile(options.policyFile);
        signature = 'not checked (no --public-key)';
      }
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof KeyError)) throw err;
      process.stderr.write(`payguard report: ${err.message}\n`);
      return 1;
    }
    const chain = await readEvidence(options.stateDir);
    const pack = buildEvidencePack(policy, chain, options.since);
    const summary = { generatedAt: new Date().toISOString(), policy: { file: options.policyFile, serial: policy.serial, site: policy.site, signature }, since: options.since?.toISOString(), ...pack };
    if (options.out) await writePack(options.out, pack, summary);
    else process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return reportChain(options.verify, pack, options.out);
  },
};

function reportChain(verify: boolean, pack: EvidencePack, out: string | undefined): number {
  const { chain } = pack;
  const note = (s: string): boolean => (out ? process.stdout : process.stderr).write(s);
  if (out) note(`wrote the evidence pack to ${out}: ${pack.scripts.length} script entries, ${pack.policyHistory.length} policy changes, ${pack.detections.length} detection rows\n`);
  if (!chain.ok) {
    const b = chain.firstBroken!;
    process.stderr.write(`payguard report: evidence chain BROKEN at record ${b.seq} (${b.file}:${b.line}): ${b.problem}\n`);
    return verify ? 1 : 0;
  }
  if (verify) {
    const start = chain.records === 0 ? 'empty log' : chain.firstSeq === 1 ? 'from record 1' : `from record ${chain.firstSeq} (older records were rotated away)`;
    note(`evidence chain verified: ${chain.records} records, ${start}, head sha256 ${chain.head}\n`);
  }
  return 0;
}

async function writePack(dir: string, pack: EvidencePack, summary: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ['scripts.csv', toCsv(pack.scripts, ['list', 'type', 'address', 'integrity', 'justification'])],
    ['scripts.json', JSON.stringify(pack.scripts, null, 2) + '\n'],
    ['policy-history.csv', toCsv(pack.policyHistory, ['inForceFrom', 'serial', 'keyId', 'sha256', 'site', 'role'])],
    ['policy-history.json', JSON.stringify(pack.policyHistory, null, 2) + '\n'],
    ['detections.csv', toCsv(pack.detections, ['route', 'reason', 'kind', 'origin', 'action', 'firstSeen', 'lastSeen', 'count'])],
    ['detections.json', JSON.stringify(pack.detections, null, 2) + '\n'],
    ['summary.json', JSON.stringify(summary, null, 2) + '\n'],
  ];
  for (const [name, text] of files) await writeFile(join(dir, name), text);
}

interface ReportOptions {
  readonly policyFile: string;
  readonly publicKeys: readonly string[];
  readonly stateDir: string;
  readonly since: Date | undefined;
  readonly out: string | undefined;
  readonly verify: boolean;
}

function parseReportArgs(argv: readonly string[]): ReportOptions {
  const parsed = parseCommandLine(argv, {
    policy: { type: 'string' },
    'public-key': { type: 'string', multiple: true },
    'state-dir': { type: 'string' },
    since: { type: 'string' },
    out: { type: 'string' },
    verify: { type: 'boolean' },
  }, false);
  const v = parsed.values;
  if (!v.policy) throw new UsageError('--policy is required');
  let since: Date | undefined;
  if (v.since !== undefined) {
    since = new Date(v.since);
    if (Number.isNaN(since.getTime())) throw new UsageError(`--since ${v.since} is not an ISO 8601 time`);
  }
  return { policyFile: v.policy, publicKeys: v['public-key'] ?? [], stateDir: v['state-dir'] ?? '.payguard-state', since, out: v.out, verify: v.verify === true };
}
