/**
 * `payguard keygen`: a new Ed25519 signing key pair in minisign's formats. Run it on the machine
 * that will sign releases (or where the CI secret is made), never on the storefront host.
 */
import { access, open } from 'node:fs/promises';
import { UsageError } from '../../errors.js';
import { generateKeyPairAsync } from '../../policy/minisign.js';
import { readPassword } from '../../policy/password.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard keygen --secret-key FILE --public-key FILE [options]

Writes a new Ed25519 key pair in minisign's formats (minisign -V/-S read them).
The secret key is written with mode 0600, unencrypted unless a password is given.
Keep it offline or in your CI secret store; never on the storefront host.
Ship only the public key with payguard (--public-key).

Options:
  --secret-key FILE     where to write the secret key (required)
  --public-key FILE     where to write the public key (required)
  --password-file FILE  encrypt the secret key with the password in FILE (one line)
  --password-env VAR    encrypt the secret key with the password in environment variable VAR
  --force               overwrite existing key files
  -h, --help            show this help

Exit status: 0 written; 1 refused (files exist); 2 usage error.
`;

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'make an Ed25519 signing key pair (minisign format)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv);
    if (!values['secret-key'] || !values['public-key']) throw new UsageError('--secret-key and --public-key are required');
    const password = await readPassword({ passwordFile: values['password-file'], passwordEnv: values['password-env'] });
    const pair = await generateKeyPairAsync(password === undefined ? {} : { password });
    const force = values.force ?? false;
    const existing = force ? undefined : await firstExisting([values['secret-key'], values['public-key']]);
    if (existing) {
      process.stderr.write(`payguard keygen: ${existing} exists; refusing to overwrite a key (use --force)\n`);
      return 1;
    }
    try {
      await writeKeyFile(values['secret-key'], pair.secretKeyText, 0o600, force);
      await writeKeyFile(values['public-key'], pair.publicKeyText, 0o644, force);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      process.stderr.write(`payguard keygen: ${(err as NodeJS.ErrnoException).path} exists; refusing to overwrite a key (use --force)\n`);
      return 1;
    }
    process.stdout.write(
      `key id ${pair.keyId}\n` +
        `secret key: ${values['secret-key']}${password === undefined ? ' (unencrypted)' : ' (encrypted)'} - keep it off the storefront host\n` +
        `public key: ${values['public-key']} - give it to payguard with --public-key\n`,
    );
    return 0;
  },
};

function parseCommandArgs(argv: readonly string[]) {
  return parseCommandLine(argv, {
    'secret-key': { type: 'string' },
    'public-key': { type: 'string' },
    'password-file': { type: 'string' },
    'password-env': { type: 'string' },
    force: { type: 'boolean' },
  }, false);
}

/**
 * 'wx' refuses an existing file atomically. With --force an existing file keeps its old mode on
 * open, so the mode is set before the secret is written into it.
 */
async function writeKeyFile(file: string, text: string, mode: number, force: boolean): Promise<void> {
  const handle = await open(file, force ? 'w' : 'wx', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

async function firstExisting(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    try {
      await access(file);
      return file;
    } catch {
      // absent: fine to create
    }
  }
  return undefined;
}
