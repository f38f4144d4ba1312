#!/usr/bin/env node
// The CLI runs compiled JS (built by `npm run build`, which `npm ci` runs through `prepare`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`payguard: ${err?.stack ?? err}\n`);
    process.exitCode = 2;
  },
);
