/**
 * Issue 5 "Done when": the CSP header for every route of policies/example.yaml is shown in the docs
 * and checked against the policy. Rebuilt from the signed example with the real builder, compared
 * block by block with docs/second-layer.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { cspHeaders } from '../../src/policy/csp.js';
import { CSP_REPORT_PATH } from '../../src/reserved-paths.js';

const policy = parsePolicyText(readFileSync(new URL('../../policies/example.yaml', import.meta.url), 'utf8'), 'example.yaml');
const docs = readFileSync(new URL('../../docs/second-layer.md', import.meta.url), 'utf8');

const headerName = (name: string): string => name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('-');

/** The ```http block under the heading naming this route. */
function documentedBlock(path: string, mode: string): string | undefined {
  const heading = `#### \`${path}\` (${mode})\n\n\`\`\`http\n`;
  const start = docs.indexOf(heading);
  if (start < 0) return undefined;
  const body = start + heading.length;
  return docs.slice(body, docs.indexOf('```', body)).trimEnd();
}

describe('docs/second-layer.md shows the CSP of every route of policies/example.yaml', () => {
  it.each(policy.routes.map((route) => [route.path, route] as const))('%s', (_path, route) => {
    const expected = cspHeaders(policy, route, route.mode, new URL(CSP_REPORT_PATH, policy.site).href)
      .map(([name, value]) => `${headerName(name)}: ${value}`)
      .join('\n');
    expect(expected).not.toBe('');
    expect(documentedBlock(route.path, route.mode)).toBe(expected);
  });
});
