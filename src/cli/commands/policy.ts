/**
 * `payguard policy diff OLD NEW` and `payguard policy lint P`: the reviewer's tools before signing.
 * Both read unsigned drafts on purpose: review happens before the signature, not after.
 */
import { PolicyError, UsageError } from '../../errors.js';
import { diffPolicies, type PolicyChange } from '../../policy/diff.js';
import { lintAllowlist, type LintFinding } from '../../policy/lint-gadgets.js';
import { decodeUtf8, readPolicyBytes } from '../../policy/load.js';
import type { Policy } from '../../policy/model.js';
import { parsePolicyText } from '../../policy/parse.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard policy diff OLD NEW [--json]
       payguard policy lint POLICY [--json]

diff  What a release changes: entries added, removed, changed, and "loosened" (an origin
      entry replacing url entries, integrity dropped, a route mode weakened
      block -> rewrite -> report, a route removed). For review; exit 0 unless a file is invalid.
lint  What makes an allowlist hollow. Errors (payguard sign refuses them): script hosts with
      known JSONP endpoints or AngularJS copies (csp-evaluator's bypass lists), multi-tenant
      hosts (public CDNs, cloud storage, tag managers) allowed by bare origin or a wide prefix
      without integrity, url prefixes that cover a whole origin. Warnings: form actions allowed
      by bare origin while a route enforces, subdomain-per-tenant platforms.

Options:
  --json      print JSON instead of text
  -h, --help  show this help

Exit status: 0 ok (lint: no errors); 1 lint errors, or a policy file is invalid; 2 usage error.
`;

export const policyCommand: Command = {
  name: 'policy',
  summary: 'review a policy before signing: "policy diff OLD NEW", "policy lint P"',
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
      if (action === 'lint') {
        if (files.length !== 1) throw new UsageError('policy lint needs exactly one POLICY');
        const findings = lintAllowlist(await readPolicyFile(files[0]!));
        process.stdout.write(json ? JSON.stringify({ findings }, null, 2) + '\n' : formatLint(files[0]!, findings));
        return findings.some((f) => f.severity === 'error') ? 1 : 0;
      }
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      process.stderr.write(`payguard policy: ${err.message}\n`);
      return 1;
    }
    throw new UsageError(action === undefined ? 'give "diff" or "lint"' : `unknown action "${action}" (diff, lint)`);
  },
};

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
  return parseCommandLine(argv, { json: { type: 'boolean' } });
}
