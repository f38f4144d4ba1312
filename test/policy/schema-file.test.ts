/**
 * policies/policy.schema.json is what editors validate against; it must be exactly what payguard
 * enforces. schema.ts is the source of truth; regenerate the file with
 * `node dist/src/policy/write-schema.js` after a build.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { POLICY_SCHEMA, schemaFileText } from '../../src/policy/schema.js';

const repoFile = (path: string): string => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');

describe('policies/policy.schema.json', () => {
  it('is byte-equal to the serialisation of src/policy/schema.ts', () => {
    expect(repoFile('policies/policy.schema.json')).toBe(schemaFileText());
  });

  it('is a valid draft-07 schema that an editor (any ajv-based validator) can compile', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(JSON.parse(repoFile('policies/policy.schema.json')))).toBe(true);
  });

  it('accepts policies/example.yaml and the issue example, and rejects a typo on its own', () => {
    const validate = new Ajv({ strict: false }).compile(JSON.parse(repoFile('policies/policy.schema.json')));
    expect(validate(parse(repoFile('policies/example.yaml')))).toBe(true);
    expect(validate(parse(repoFile('test/policy/fixtures/issue-example.yaml')))).toBe(true);
    const typo = parse(repoFile('policies/example.yaml')) as { allow: Record<string, unknown> };
    typo.allow.scripts = typo.allow.script;
    expect(validate(typo)).toBe(false);
  });

  it('forbids unknown keys in every object it describes', () => {
    const objects: Record<string, unknown>[] = [];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'object') objects.push(record);
        Object.values(record).forEach(visit);
      }
    };
    visit(POLICY_SCHEMA);
    expect(objects.length).toBeGreaterThanOrEqual(6);
    // A mapping keyed by path (firstParty.scripts and data: path → integrity) or by slot name (an
    // inline template's slots) has no fixed keys: its values are checked by the value schema (itself
    // closed when it is an object), and its keys by the parser (semantic.ts) or a name pattern.
    const mappings = objects.filter((o) => o.properties === undefined);
    for (const mapping of mappings) {
      const values = mapping.additionalProperties as Record<string, unknown>;
      if (values.type === 'object') expect(values.additionalProperties).toBe(false);
      else expect(values).toMatchObject({ type: 'string' });
    }
    for (const object of objects.filter((o) => o.properties !== undefined)) expect(object.additionalProperties).toBe(false);
  });
});
