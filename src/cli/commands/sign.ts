/**
 * `payguard sign`: validate a policy and write POLICY.minisig (minisign's prehashed form).
 * A signature says a person approved every entry, so a policy that does not validate, or still
 * has a `why: TODO` or a `sha384-...` placeholder, or that `payguard policy lint` finds hollow, is refused rather than signed.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { KeyError, PolicyError, UsageError } from '../../errors.js';
import { findPlaceholderHashes, findTodoJustifications } from '../../policy/lint.js';
import { lintAllowlist } from '../../policy/lint-gadgets.js';
import { decodeUtf8, readPolicyBytes } from '../../policy/load.js';
import { parseSecretKeyAsync, signMessage, verifyMessage } from '../../policy/minisign.js';
import { parsePolicyText } from '../../policy/parse.js';
import { readPassword } from '../../policy/password.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard sign POLICY --secret-key FILE [options]

Validates POLICY (.yaml, .yml or .json) and writes its signature to POLICY.minisig,
in minisign's prehashed format (minisign -V verifies it). Refuses a policy that does
not validate, that still has "why: TODO" or a "sha384-..." placeholder, or that
"payguard policy lint" reports an error for (a hollow allowlist).
Sign on the machine (or CI job) that holds the secret key; ship POLICY and POLICY.minisig.

Options:
  --secret-key FILE       the minisign secret key (required)
  --trusted-comment TEXT  the signed comment (default: timestamp:<unix> file:<name> hashed)
  --password-file FILE    the secret key's password, from a file
  --password-env VAR      the secret key's password, from environment variable VAR
  -h, --help              show this help

Exit status: 0 signed; 1 refused (invalid policy, bad key or password); 2 usage error.
`;

export const signCommand: Command = {
  name: 'sign',
  summary: 'validate a policy and sign it (writes POLICY.minisig)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv);
    const [policyFile, ...extra] = positionals;
    if (policyFile === undefined || extra.length > 0) throw new UsageError('give exactly one POLICY file');
    if (!values['secret-key']) throw new UsageError('--secret-key is required');
    const password = await readPassword({ passwordFile: values['password-file'], passwordEnv: values['password-env'] });
    try {
      return await signPolicy(policyFile, values['secret-key'], password, values['trusted-comment']);
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof KeyError)) throw err;
      process.stderr.write(`payguard sign: ${err.message}\n`);
      return 1;
    }
  },
};

async function signPolicy(policyFile: string, secretKeyFile: string, password: string | undefined, trustedComment: string | undefined): Promise<number> {
  const bytes = await readPolicyBytes(policyFile);
  const policy = parsePolicyText(decodeUtf8(bytes, policyFile), policyFile);
  const unfinished = [
    ...findTodoJustifications(policy).map((f) => `${f}: the justification is still TODO`),
    ...findPlaceholderHashes(policy).map((f) => `${f}: the hash is still a placeholder`),
  ];
  // A hollow allowlist (a JSONP host, a public CDN by bare origin) signed is a hole approved.
  const lint = lintAllowlist(policy);
  for (const w of lint.filter((f) => f.severity === 'warning')) process.stderr.write(`payguard sign: ${policyFile} (${w.field}): warning: ${w.message}\n`);
  unfinished.push(...lint.filter((f) => f.severity === 'error').map((f) => `${f.field}: ${f.message}${f.source ? ` [source: ${f.source}]` : ''}`));
  if (unfinished.length > 0) {
    process.stderr.write(`payguard sign: ${policyFile}: refusing to sign an unfinished or hollow policy:\n${unfinished.map((l) => `  ${l}\n`).join('')}`);
    return 1;
  }
  const secretKey = await parseSecretKeyAsync(await readSecretKeyText(secretKeyFile), secretKeyFile, password);
  const signatureText = signMessage(bytes, secretKey, {
    fileName: basename(policyFile),
    ...(trustedComment === undefined ? {} : { trustedComment }),
  });
  const signatureFile = `${policyFile}.minisig`;
  // Check our own output before it replaces anything a running proxy may pick up.
  verifyMessage(bytes, signatureText, [{ keyId: secretKey.keyId, key: secretKey.publicKey }], signatureFile);
  await writeAtomically(signatureFile, signatureText);
  process.stdout.write(`signed ${policyFile} (serial ${policy.serial}) with key ${secretKey.keyId}\nwrote ${signatureFile}\n`);
  return 0;
}

async function readSecretKeyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new KeyError(file, `cannot read the secret key: ${(err as Error).message}`, { cause: err });
  }
}

/** Temp file + rename: a watching proxy never sees a half-written signature. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw new PolicyError(`cannot write the signature: ${(err as Error).message}`, { file }, { cause: err });
  }
}

function parseCommandArgs(argv: readonly string[]) {
  return parseCommandLine(argv, {
    'secret-key': { type: 'string' },
    'trusted-comment': { type: 'string' },
    'password-file': { type: 'string' },
    'password-env': { type: 'string' },
  });
}
