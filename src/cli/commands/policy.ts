/**
 * `payguard policy diff OLD NEW` and `payguard policy lint P`: the reviewer's tools before signing.
 * Both read unsigned drafts on purpose: review happens before the signature, not after.
 * `payguard policy draft RECORD` writes such a draft from what `serve --learn` saw (inventory/record.ts).
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { LearningRecordError, PolicyError, UsageError } from '../../errors.js';
import { draftPolicyYaml } from '../../inventory/draft.js';
import { readLearningRecord, recordItems } from '../../inventory/record.js';
import { diffPolicies, type PolicyChange } from '../../policy/diff.js';
import { lintAllowlist, type LintFinding } from '../../policy/lint-gadgets.js';
import { decodeUtf8, readPolicyBytes } from '../../policy/load.js';
import type { Policy } from '../../policy/model.js';
import { parsePolicyText } from '../../policy/parse.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard policy diff OLD NEW [--json]
       payguard policy lint POLICY [--json]
       payguard policy draft RECORD [--out FILE]

diff  What a release changes: entries added, removed, changed, and "loosened" (an origin
      entry replacing url entries, integrity dropped, a route mode weakened
      block -> rewrite -> report, a route removed). For review; exit 0 unless a file is invalid.
lint  What makes an allowlist hollow. Errors (payguard sign refuses them): script hosts with
      known JSONP endpoints or AngularJS copies (csp-evaluator's bypass lists), multi-tenant
      hosts (public CDNs, cloud storage, tag managers) allowed by bare origin or a wide prefix
      without integrity, url prefixes that cover a whole origin. Warnings: form actions allowed
      by bare origin while a route enforces, subdomain-per-tenant platforms.
draft A policy from what "payguard serve --learn RECORD" saw on report routes: the loads
      pages named, inline code (by hash, or by template where literals varied), and what
      browsers' CSP reports named (scripts injected at run time), each with "why: TODO".
      Compare it with the policy in force with "policy diff" before justifying and signing.

Options:
  --json      print JSON instead of text
  --out FILE  (draft) write the draft there instead of standard output
  -h, --help  show this help

Exit status: 0 ok (lint: no errors); 1 lint errors, or a policy or record file is invalid; 2 usage error.
`;

export const policyCommand: Command = {
  name: 'policy',
  summary: 'review a policy before signing: "policy diff OLD NEW", "policy lint P"; "policy draft RECORD" from live traffic',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv);
    const [action, ...files] = positionals;
    const json = values.json === true;
    try {
      if (action === 'diff') {
        if (files.length !== 2) throw new UsageError('policy diff needs OLD and NEW');
        const changes = diffPolicies(await readPolicyFile(files[0]!), await readPolicyFile(files[1]!));
        process.stdout.write(json ? JSON.stringify({ changes }, null, 2) + '\n' : formatChanges(changes));
        return 0;
      }
      if (action === 'draft') {
        if (files.length !== 1) throw new UsageError('policy draft needs exactly one RECORD (written by "payguard serve --learn")');
        return await draftFromRecordFile(files[0]!, typeof values.out === 'string' ? values.out : undefined);
      }
      if (action === 'lint') {
        if (files.length !== 1) throw new UsageError('policy lint needs exactly one POLICY');
        const findings = lintAllowlist(await readPolicyFile(files[0]!));
        process.stdout.write(json ? JSON.stringify({ findings }, null, 2) + '\n' : formatLint(files[0]!, findings));
        return findings.some((f) => f.severity === 'error') ? 1 : 0;
      }
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof LearningRecordError)) throw err;
      process.stderr.write(`payguard policy: ${err.message}\n`);
      return 1;
    }
    throw new UsageError(action === undefined ? 'give "diff", "lint" or "draft"' : `unknown action "${action}" (diff, lint, draft)`);
  },
};

/**
 * The draft from a learning record. It is parsed as it is written, so a learned template the
 * policy's rules refuse is said now, naming the draft's field, not when a person tries to sign.
 */
async function draftFromRecordFile(recordFile: string, out: string | undefined): Promise<number> {
  const record = await readLearningRecord(recordFile);
  const yaml = draftPolicyYaml(recordItems(record), record.site, record.pages, record.inline, `"payguard policy draft" from ${basename(recordFile)} (${record.documents} pages, ${record.firstSeen} to ${record.lastSeen})`, record.evalPages);
  parsePolicyText(yaml, out ?? 'the draft');
  if (out) await writeFile(out, yaml);
  else process.stdout.write(yaml);
  const templates = record.inline.filter((e) => e.kind === 'template').length;
  const skipped = Object.entries(record.skipped).map(([why, n]) => `${n} ${why}`).join(', ');
  process.stderr.write(
    `payguard policy draft: ${record.loads.length} load(s), ${record.reported.length} from browser reports, ${record.inline.length - templates} inline hash(es), ${templates} template(s) from ${record.documents} page(s)` +
      `${skipped ? `; not learned: ${skipped}` : ''}${out ? `; written to ${out}` : ''}\n`,
  );
  return 0;
}

export async function readPolicyFile(file: string): Promise<Policy> {
  return parsePolicyText(decodeUtf8(await readPolicyBytes(file), file), file);
}

function formatChanges(changes: readonly PolicyChange[]): string {
  if (changes.length === 0) return 'no changes\n';
  const loosened = changes.filter((c) => c.change === 'loosened').length;
  const lines = changes.map((c) => `${c.change.toUpperCase().padEnd(8)}  ${c.where}  ${c.subject}: ${c.detail}`);
  return `${lines.join('\n')}\n${changes.length} change(s), ${loosened} loosening(s)\n`;
}

export function formatLint(file: string, findings: readonly LintFinding[]): string {
  if (findings.length === 0) return `${file}: no problems\n`;
  return findings.map((f) => `${file} (${f.field}): ${f.severity}: ${f.message}${f.source ? ` [source: ${f.source}]` : ''}\n`).join('');
}

function parseCommandArgs(argv: readonly string[]) {
  return parseCommandLine(argv, { json: { type: 'boolean' }, out: { type: 'string' } });
}
