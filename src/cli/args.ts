/**
 * Command-line parsing shared by every command: Node's strict parseArgs, with its errors (unknown
 * flag, missing value) turned into the UsageError that makes `payguard` exit 2 with a message.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

export function parseCommandLine<const O extends FlagOptions, const P extends boolean = true>(
  argv: readonly string[],
  options: O,
  allowPositionals: P = true as P,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
