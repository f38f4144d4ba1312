import type { Command } from '../command.js';

// Scaffolding: replaced by the issue that builds this command.
export const demoCommand: Command = {
  name: 'demo',
  summary: '(being built)',
  usage: 'payguard demo: being built\n',
  async run() {
    process.stderr.write('payguard demo: not built yet\n');
    return 2;
  },
};
