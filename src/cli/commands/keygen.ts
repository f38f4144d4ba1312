import type { Command } from '../command.js';

// Scaffolding: replaced by the issue that builds this command.
export const keygenCommand: Command = {
  name: 'keygen',
  summary: '(being built)',
  usage: 'payguard keygen: being built\n',
  async run() {
    process.stderr.write('payguard keygen: not built yet\n');
    return 2;
  },
};
