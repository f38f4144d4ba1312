import type { Command } from '../command.js';

// Scaffolding: replaced by the issue that builds this command.
export const verifyCommand: Command = {
  name: 'verify',
  summary: '(being built)',
  usage: 'payguard verify: being built\n',
  async run() {
    process.stderr.write('payguard verify: not built yet\n');
    return 2;
  },
};
