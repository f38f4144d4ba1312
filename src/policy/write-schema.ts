/**
 * Regenerates policies/policy.schema.json from schema.ts (the source of truth), so editors that
 * validate YAML/JSON against it see exactly what payguard enforces.
 * Run after a build: `node dist/src/policy/write-schema.js`.
 */
import { writeFile } from 'node:fs/promises';
import { schemaFileText } from './schema.js';

const target = new URL('../../../policies/policy.schema.json', import.meta.url);
await writeFile(target, schemaFileText());
process.stdout.write(`wrote ${target.pathname}\n`);
