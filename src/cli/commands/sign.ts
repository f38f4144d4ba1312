import type { Command } from '../command.js';

// Scaffolding: replaced by the issue that builds this command.
export const signCommand: Command = {
  name: 'sign',
  summary: '(being built)',
  usage: 'payguard sign: being built\n',
  async run() {
    process.stderr.write('payguard sign: not built yet\n');
    return 2;
  },
};
