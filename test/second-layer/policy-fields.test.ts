/**
 * The policy fields of the second layer: routes[].csp, strictDynamic, headers, and clearSiteData,
 * through the real parser (schema, then semantics), and policies/example.yaml using them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { parsePolicyText } from '../../src/policy/parse.js';

const HEAD = 'schema: 1\nserial: 1\nsite: https://shop.example\nallow: {}\n';

function routes(yaml: string): string {
  return `${HEAD}routes:\n${yaml}`;
}

describe('second-layer policy fields', () => {
  it('keeps csp, strictDynamic and headers on a route, and clearSiteData on the policy', () => {
    const policy = parsePolicyText(
      `clearSiteData: true\n${routes('  - path: /checkout/**\n    mode: block\n    csp: report-only\n    strictDynamic: true\n    headers:\n      x-frame-options: DENY\n      strict-transport-security: max-age=63072000; includeSubDomains\n')}`,
      'p.yaml',
    );
    expect(policy.clearSiteData).toBe(true);
    expect(policy.routes[0]).toEqual({
      path: '/checkout/**',
      mode: 'block',
      csp: 'report-only',
      strictDynamic: true,
      headers: { 'x-frame-options': 'DENY', 'strict-transport-security': 'max-age=63072000; includeSubDomains' },
    });
  });

  it('leaves a policy without them exactly as before', () => {
    const policy = parsePolicyText(routes('  - { path: /**, mode: report }\n'), 'p.yaml');
    expect(policy.routes[0]).toEqual({ path: '/**', mode: 'report' });
    expect('clearSiteData' in policy).toBe(false);
  });

  it.each([
    ['an unknown csp mode', '  - { path: /, mode: block, csp: enforced }\n', /csp.*must be one of enforce, report-only, off/s],
    ['a header outside the baseline list', '  - { path: /, mode: block, headers: { set-cookie: a=b } }\n', /unknown key "set-cookie"/],
    ['a header in another spelling', '  - { path: /, mode: block, headers: { X-Frame-Options: DENY } }\n', /unknown key "X-Frame-Options"/],
    ['a header value with a line break', '  - { path: /, mode: block, headers: { x-frame-options: "DENY\\r\\nSet-Cookie: a=b" } }\n', /x-frame-options/],
    ['strictDynamic that is not a boolean', '  - { path: /, mode: block, strictDynamic: "yes" }\n', /strictDynamic.*must be a boolean/s],
  ])('refuses %s, naming the field', (_name, yaml, message) => {
    expect(() => parsePolicyText(routes(yaml), 'p.yaml')).toThrow(PolicyError);
    expect(() => parsePolicyText(routes(yaml), 'p.yaml')).toThrow(message);
  });

  it('policies/example.yaml uses them', () => {
    const path = new URL('../../policies/example.yaml', import.meta.url);
    const policy = parsePolicyText(readFileSync(path, 'utf8'), 'example.yaml');
    expect(policy.routes.find((r) => r.path === '/checkout/**')?.headers?.['x-frame-options']).toBe('DENY');
    expect(policy.routes.find((r) => r.path === '/**')?.csp).toBe('report-only');
    expect(policy.clearSiteData).toBe(false);
  });
});
