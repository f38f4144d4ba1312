/**
 * `payguard <command>`: dispatch to the command modules. Each command validates its own
 * arguments into a typed value at the edge and calls into policy/, verify/ and proxy/.
 */
import { PayguardError, UsageError } from '../errors.js';
import type { Command } from './command.js';
import { keygenCommand } from './commands/keygen.js';
import { signCommand } from './commands/sign.js';
import { verifyCommand } from './commands/verify.js';
import { scanCommand } from './commands/scan.js';
import { serveCommand } from './commands/serve.js';
import { demoCommand } from './commands/demo.js';
import { policyCommand } from './commands/policy.js';
import { inventoryCommand } from './commands/inventory.js';
import { reportCommand } from './commands/report.js';
import { pinCommand } from './commands/pin.js';

export const COMMANDS: readonly Command[] = [
  keygenCommand,
  signCommand,
  verifyCommand,
  scanCommand,
  serveCommand,
  demoCommand,
  policyCommand,
  inventoryCommand,
  reportCommand,
  pinCommand,
];

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'payguard: verifies payment pages against a signed allowlist before they reach the browser',
    '',
    'Usage: payguard <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "payguard <command> --help" for a command\'s options.',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topLevelHelp() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${await packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`payguard: unknown command "${name}"\n\n${topLevelHelp()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`payguard ${name}: ${err.message}\nRun "payguard ${name} --help" for usage.\n`);
      return 2;
    }
    if (err instanceof PayguardError) {
      process.stderr.write(`payguard ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

