import type { Command } from '../command.js';

// Scaffolding: replaced by the issue that builds this command.
export const scanCommand: Command = {
  name: 'scan',
  summary: '(being built)',
  usage: 'payguard scan: being built\n',
  async run() {
    process.stderr.write('payguard scan: not built yet\n');
    return 2;
  },
};
