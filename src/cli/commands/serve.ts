import type { Command } from '../command.js';

// Scaffolding: replaced by the issue that builds this command.
export const serveCommand: Command = {
  name: 'serve',
  summary: '(being built)',
  usage: 'payguard serve: being built\n',
  async run() {
    process.stderr.write('payguard serve: not built yet\n');
    return 2;
  },
};
