/**
 * The CSP built from the policy: every directive the issue names, exact origins (never 'self' in a
 * fetch directive), the route's mode deciding enforce or report-only, and an off switch.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy, Route } from '../../src/policy/model.js';
import { cspDirectives, cspHeaders, cspModeOf } from '../../src/policy/csp.js';
import { BASE_POLICY, policyFrom } from './policy.js';

const REPORT = 'https://shop.example/.well-known/payguard/csp-report';

function directive(directives: string[], name: string): string[] {
  const found = directives.find((d) => d.split(' ')[0] === name);
  expect(found, name).toBeDefined();
  return found!.split(' ').slice(1);
}

function withRoute(policy: Policy, route: Partial<Route> & Record<string, unknown>): Route {
  return { ...compilePolicy(policy).route('/checkout/pay').route!, ...route } as Route;
}

describe('cspDirectives', () => {
  const policy = policyFrom(BASE_POLICY);
  const route = compilePolicy(policy).route('/checkout/pay').route;
  const directives = cspDirectives(policy, route, REPORT);

  it('names the site by its exact origin in every fetch directive, never as self', () => {
    for (const name of ['script-src', 'form-action', 'frame-src', 'connect-src', 'worker-src']) {
      const sources = directive(directives, name);
      expect(sources[0]).toBe('https://shop.example');
      expect(sources).not.toContain("'self'");
    }
  });

  it('allows forms, frames and connections exactly as the policy lists them', () => {
    expect(directive(directives, 'form-action')).toEqual(['https://shop.example', 'https://pay.gateway.example']);
    expect(directive(directives, 'frame-src')).toEqual(['https://shop.example', 'https://pay.gateway.example']);
    expect(directive(directives, 'connect-src')).toEqual(['https://shop.example', 'https://api.gateway.example']);
    expect(directive(directives, 'worker-src')).toEqual(['https://shop.example']);
  });

  it('lists script origins, exact URLs, prefixes with ; and , percent-encoded, and inline hashes', () => {
    const script = directive(directives, 'script-src');
    expect(script).toContain('https://cdn.shop.example');
    expect(script).toContain('https://js.gateway.example/v3/token.js');
    expect(script).toContain('https://static.reviews.example/widgets/shop%2C1%3B2/');
    expect(script).toContain("'sha256-djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c='");
    expect(script).toContain("'unsafe-hashes'");
    expect(script).toContain("'report-sha256'");
    expect(script).not.toContain("'strict-dynamic'");
    expect(script).not.toContain("'unsafe-inline'");
  });

  it("starts from default-src 'none' and governs every passive destination from its list (issue 17 class 2)", () => {
    expect(directives[0]).toBe("default-src 'none'");
    const passive = policyFrom(BASE_POLICY.replace('allow:\n', 'allow:\n  image: [{ origin: "https://img.cdn.example", why: images }]\n  font: [{ origin: "https://fonts.example", why: fonts }]\n  style: [{ origin: "https://fonts.example", why: font css }]\n  media: [{ origin: "https://media.example", why: video }]\n'));
    const d = cspDirectives(passive, compilePolicy(passive).route('/checkout/pay').route, REPORT);
    expect(directive(d, 'img-src')).toEqual(['https://shop.example', 'https://img.cdn.example', 'data:']);
    expect(directive(d, 'font-src')).toEqual(['https://shop.example', 'https://fonts.example', 'data:']);
    expect(directive(d, 'style-src')).toEqual(['https://shop.example', 'https://fonts.example', "'unsafe-inline'"]);
    expect(directive(d, 'media-src')).toEqual(['https://shop.example', 'https://media.example']);
    // Without a list, the site only.
    expect(directive(d, 'manifest-src')).toEqual(['https://shop.example']);
  });

  it("closes base-uri and object-src and reports to payguard's own path", () => {
    expect(directive(directives, 'base-uri')).toEqual(["'self'"]);
    expect(directive(directives, 'object-src')).toEqual(["'none'"]);
    expect(directive(directives, 'report-uri')).toEqual([REPORT]);
    expect(directive(directives, 'report-to')).toEqual(['payguard-csp']);
  });

  it("adds 'strict-dynamic' only when the route asks", () => {
    const strict = cspDirectives(policy, withRoute(policy, { strictDynamic: true }), REPORT);
    expect(directive(strict, 'script-src')).toContain("'strict-dynamic'");
  });

  it('leaves out no-inline policies\' unsafe-hashes', () => {
    const noInline = policyFrom(BASE_POLICY.replace(/ {2}inline:.*\n/, ''));
    expect(directive(cspDirectives(noInline, route, REPORT), 'script-src')).not.toContain("'unsafe-hashes'");
  });
});

describe('cspHeaders and the route mode', () => {
  const policy = policyFrom(BASE_POLICY);

  it('enforces on block and rewrite routes, reports only on report routes and unmatched paths', () => {
    for (const [path, header] of [
      ['/checkout/pay', 'content-security-policy'],
      ['/cart', 'content-security-policy'],
      ['/catalogue', 'content-security-policy-report-only'],
    ] as const) {
      const match = compilePolicy(policy).route(path);
      const headers = cspHeaders(policy, match.route, match.mode, REPORT);
      expect(headers.map(([n]) => n)).toEqual([header, 'reporting-endpoints', 'integrity-policy-report-only']);
      expect(headers[1]![1]).toBe(`payguard-csp="${REPORT}"`);
    }
    expect(cspModeOf(undefined, 'report')).toBe('report-only');
  });

  it('leaves the Reporting API out on an http site (report-uri alone, so reports still arrive)', () => {
    const http = policyFrom(BASE_POLICY.replace('site: https://shop.example', 'site: http://shop.example'));
    const match = compilePolicy(http).route('/checkout/pay');
    const headers = cspHeaders(http, match.route, match.mode, 'http://shop.example/.well-known/payguard/csp-report');
    expect(headers.map(([n]) => n)).toEqual(['content-security-policy']);
    expect(headers[0]![1]).toContain('report-uri http://shop.example/.well-known/payguard/csp-report');
    expect(headers[0]![1]).not.toContain('report-to');
    expect(headers[0]![1]).not.toContain("'report-sha256'");
  });

  it('follows the route setting over the default, and sends nothing when off', () => {
    expect(cspHeaders(policy, withRoute(policy, { csp: 'report-only' }), 'block', REPORT)[0]![0]).toBe('content-security-policy-report-only');
    expect(cspHeaders(policy, withRoute(policy, { csp: 'off' }), 'block', REPORT)).toEqual([]);
  });
});
