import { describe, expect, it } from 'vitest';
import { GADGET_HOSTS, lintAllowlist } from '../../src/policy/lint-gadgets.js';
import { parsedPolicyWith } from '../helpers/policies.js';

const HASH = 'sha384-' + 'A'.repeat(64);
const lint = (allow: Record<string, unknown>, routes?: unknown[]) =>
  lintAllowlist(parsedPolicyWith({ allow, ...(routes ? { routes } : {}) })).map((f) => [f.severity, f.field]);

describe('payguard policy lint: what makes an allowlist hollow', () => {
  it('the base policy (form by origin, block route) only warns about the form', () => {
    expect(lint({})).toEqual([['warning', 'allow.form[0]']]);
    expect(lint({}, [{ path: '/**', mode: 'report' }])).toEqual([]);
  });

  it('a JSONP host allowed by origin for scripts is an error citing csp-evaluator', () => {
    const findings = lintAllowlist(parsedPolicyWith({ allow: { script: [{ origin: 'https://www.google-analytics.com', why: 'analytics' }] } }));
    const errors = findings.filter((f) => f.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.source).toBe('google/csp-evaluator allowlist_bypasses/jsonp.ts');
    expect(errors[0]!.message).toContain('/gtm/js');
  });

  it('an AngularJS host is an error; the exact URL with integrity is accepted', () => {
    expect(lint({ script: [{ origin: 'https://www.gstatic.com', why: 'x' }] })).toContainEqual(['error', 'allow.script[0]']);
    expect(lint({ script: [{ url: 'https://www.gstatic.com/recaptcha/api.js', integrity: HASH, why: 'x' }] })).toEqual([['warning', 'allow.form[0]']]);
  });

  it('public CDNs, cloud storage and tag managers by bare origin or a tenant-wide prefix are errors', () => {
    for (const origin of ['https://cdn.jsdelivr.net', 'https://unpkg.com', 'https://storage.googleapis.com', 'https://www.googletagmanager.com', 'https://s3.amazonaws.com']) {
      expect(lint({ script: [{ origin, why: 'x' }] }), origin).toContainEqual(['error', 'allow.script[0]']);
    }
    expect(lint({ script: [{ url: 'https://cdn.jsdelivr.net/npm/', why: 'x' }] })).toContainEqual(['error', 'allow.script[0]']);
    expect(lint({ script: [{ url: 'https://cdn.jsdelivr.net/npm/jquery@3.7.1/', why: 'x' }] })).toEqual([['warning', 'allow.form[0]']]);
    // A look-alike payment page can be hosted in any bucket: navigation by bare origin is hollow too.
    expect(lint({ navigate: [{ origin: 'https://storage.googleapis.com', why: 'x' }] })).toContainEqual(['error', 'allow.navigate[0]']);
  });

  it('a url prefix covering a whole origin is an error', () => {
    expect(lint({ script: [{ url: 'https://cdn.shop.example/', why: 'x' }] })).toContainEqual(['error', 'allow.script[0]']);
  });

  it('subdomain-per-tenant platforms are warnings', () => {
    expect(lint({ frame: [{ origin: 'https://myshop-pay.herokuapp.com', why: 'x' }] })).toContainEqual(['warning', 'allow.frame[0]']);
  });

  it('every gadget host names its source list', () => {
    for (const g of GADGET_HOSTS) expect(g.source).toMatch(/^google\/csp-evaluator allowlist_bypasses\/(jsonp|angular)\.ts$/);
  });
});
