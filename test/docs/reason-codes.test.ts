/**
 * Every reason code a block or a violation can carry is documented in the README's table,
 * and the table names no code that does not exist (fastify's error-catalogue check).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REFUSAL_REASONS, VIOLATION_REASONS } from '../../src/reasons.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// Only the "Reason codes" section: other tables (verdicts by route mode) also start rows with `code`.
const section = readme.slice(readme.indexOf('## Reason codes'), readme.indexOf('\n## ', readme.indexOf('## Reason codes') + 1));
const documented = new Set([...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]));

describe('reason codes in README.md', () => {
  const codes = [...Object.keys(VIOLATION_REASONS), ...Object.keys(REFUSAL_REASONS)];

  it.each(codes)('documents %s', (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it('documents no code that the source does not define', () => {
    const unknown = [...documented].filter((code) => !codes.includes(code as string));
    expect(unknown).toEqual([]);
  });
});
