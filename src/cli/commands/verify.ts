/**
 * `payguard verify`: would payguard accept this policy? The signature, the schema and (with
 * --state-dir) the rollback floor, exactly as `serve` checks them at load, without raising the floor.
 * For CI and for the release engineer before shipping the two files.
 */
import { KeyError, PolicyError, UsageError } from '../../errors.js';
import { checkFloor, readFloor } from '../../policy/floor.js';
import { findPlaceholderHashes, findTodoJustifications } from '../../policy/lint.js';
import { loadPublicKeys, readSignedPolicy } from '../../policy/load.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard verify POLICY --public-key FILE [--public-key FILE2 ...] [options]

Checks that POLICY is signed by one of the trusted public keys (POLICY.minisig, minisign
format), validates it, and with --state-dir checks it against the rollback floor
(read-only: verify never raises the floor). Prints the serial, key id and sha256.

Options:
  --public-key FILE   a trusted minisign public key; repeat during a key rotation
                      (the key id in the signature picks the key)
  --signature FILE    the signature file (default: POLICY.minisig)
  --state-dir DIR     also refuse a serial lower than the one accepted in DIR
  -h, --help          show this help

Exit status: 0 verifies and validates; 1 refused (with the reason); 2 usage error.
`;

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check a policy\'s signature, schema and serial',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv);
    const [policyFile, ...extra] = positionals;
    if (policyFile === undefined || extra.length > 0) throw new UsageError('give exactly one POLICY file');
    const publicKeyFiles = values['public-key'] ?? [];
    if (publicKeyFiles.length === 0) throw new UsageError('at least one --public-key is required');
    try {
      const publicKeys = await loadPublicKeys(publicKeyFiles);
      const files = values.signature === undefined ? { policyFile } : { policyFile, signatureFile: values.signature };
      const inForce = await readSignedPolicy(files, publicKeys);
      if (values['state-dir'] !== undefined) checkFloor(inForce.policy.serial, await readFloor(values['state-dir']), policyFile);
      const warnings = [...findTodoJustifications(inForce.policy), ...findPlaceholderHashes(inForce.policy)];
      process.stdout.write(
        `ok ${policyFile}\n` +
          `serial ${inForce.policy.serial}\n` +
          `key id ${inForce.keyId}\n` +
          `sha256 ${inForce.sha256}\n` +
          `trusted comment ${inForce.trustedComment}\n` +
          warnings.map((field) => `warning: ${field} is unfinished (TODO or placeholder)\n`).join(''),
      );
      return 0;
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof KeyError)) throw err;
      process.stderr.write(`payguard verify: refused: ${err.message}\n`);
      return 1;
    }
  },
};

function parseCommandArgs(argv: readonly string[]) {
  return parseCommandLine(argv, {
    'public-key': { type: 'string', multiple: true },
    signature: { type: 'string' },
    'state-dir': { type: 'string' },
  });
}
