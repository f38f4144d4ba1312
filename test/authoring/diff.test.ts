import { describe, expect, it } from 'vitest';
import { diffPolicies } from '../../src/policy/diff.js';
import { parsedPolicyWith } from '../helpers/policies.js';

const policy = parsedPolicyWith;
const TOKEN = 'https://js.gateway.example/v3/token.js';
const HASH = 'sha384-' + 'A'.repeat(64);

describe('payguard policy diff', () => {
  it('an identical policy has no changes', () => {
    expect(diffPolicies(policy({}), policy({}))).toEqual([]);
  });

  it('lists entries added and removed', () => {
    const old = policy({});
    const next = policy({ allow: { frame: [{ origin: 'https://fields.gateway.example', why: 'card fields' }], form: [{ url: 'https://pay2.gateway.example/charge', why: 'new gateway' }] } });
    const changes = diffPolicies(old, next).map((c) => [c.change, c.where, c.subject]);
    expect(changes).toContainEqual(['added', 'allow.frame', 'https://fields.gateway.example']);
    expect(changes).toContainEqual(['removed', 'allow.form', 'https://pay.gateway.example']);
    expect(changes).toContainEqual(['added', 'allow.form', 'https://pay2.gateway.example/charge']);
    expect(changes).toHaveLength(3);
  });

  it('an origin entry replacing a url entry is a loosening', () => {
    const old = policy({ allow: { script: [{ url: TOKEN, integrity: HASH, why: 'tokenizer' }] } });
    const next = policy({ allow: { script: [{ origin: 'https://js.gateway.example', why: 'tokenizer' }] } });
    const loosened = diffPolicies(old, next).filter((c) => c.change === 'loosened');
    expect(loosened.map((c) => c.subject)).toEqual(['https://js.gateway.example']);
    expect(loosened[0]!.detail).toContain(TOKEN);
  });

  it('dropping integrity is a loosening; a new hash is a change', () => {
    const old = policy({ allow: { script: [{ url: TOKEN, integrity: HASH, why: 't' }] } });
    const dropped = diffPolicies(old, policy({ allow: { script: [{ url: TOKEN, why: 't' }] } }));
    expect(dropped.map((c) => [c.change, c.detail.split(':')[0]])).toEqual([['loosened', 'integrity dropped']]);
    const rehashed = diffPolicies(old, policy({ allow: { script: [{ url: TOKEN, integrity: 'sha384-' + 'B'.repeat(64), why: 't' }] } }));
    expect(rehashed.map((c) => c.change)).toEqual(['changed']);
  });

  it('route modes weakened block → rewrite → report and removed routes are loosenings; strengthened is a change', () => {
    const old = policy({ routes: [{ path: '/checkout/**', mode: 'block' }, { path: '/cart/**', mode: 'rewrite' }, { path: '/account/**', mode: 'block' }, { path: '/**', mode: 'report' }] });
    const next = policy({ routes: [{ path: '/checkout/**', mode: 'rewrite' }, { path: '/cart/**', mode: 'report' }, { path: '/**', mode: 'block' }] });
    const changes = diffPolicies(old, next).filter((c) => c.where === 'routes').map((c) => [c.change, c.subject]);
    expect(changes).toEqual([
      ['loosened', '/checkout/**'],
      ['loosened', '/cart/**'],
      ['loosened', '/account/**'],
      ['changed', '/**'],
    ]);
  });

  it('a wider url prefix added over exact urls is a loosening', () => {
    const old = policy({ allow: { script: [{ url: TOKEN, integrity: HASH, why: 't' }] } });
    const next = policy({ allow: { script: [{ url: TOKEN, integrity: HASH, why: 't' }, { url: 'https://js.gateway.example/v3/', why: 'all of v3' }] } });
    expect(diffPolicies(old, next).map((c) => [c.change, c.subject])).toEqual([['loosened', 'https://js.gateway.example/v3/']]);
  });
});
