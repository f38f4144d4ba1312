/**
 * Where a secret key's password comes from: a file (a CI secret mounted as a file) or an
 * environment variable (a CI secret variable). Never a command-line argument: those show in `ps`
 * and shell history.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

export interface PasswordSource {
  readonly passwordFile?: string | undefined;
  readonly passwordEnv?: string | undefined;
}

/** The password, or undefined when neither source is given (an unencrypted key). */
export async function readPassword(source: PasswordSource): Promise<string | undefined> {
  if (source.passwordFile !== undefined && source.passwordEnv !== undefined) {
    throw new UsageError('give --password-file or --password-env, not both');
  }
  let password: string | undefined;
  if (source.passwordFile !== undefined) {
    try {
      password = await readFile(source.passwordFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the password file ${source.passwordFile}: ${(err as Error).message}`);
    }
    // One trailing newline is the file's, not the password's (as minisign reads a password line).
    password = password.replace(/\r?\n$/, '');
  } else if (source.passwordEnv !== undefined) {
    password = process.env[source.passwordEnv];
    if (password === undefined) throw new UsageError(`the environment variable ${source.passwordEnv} is not set`);
  }
  if (password === '') throw new UsageError('the password is empty');
  return password;
}
