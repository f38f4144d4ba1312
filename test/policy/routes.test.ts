/**
 * Route matching: a protected route must not be dodged by how a path is spelled, whichever way the
 * storefront's router reads it (evasion-vectors H-14; dot segments found by the proxy fuzz).
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import { parsePolicyText } from '../../src/policy/parse.js';

const policy = parsePolicyText(
  [
    'schema: 1',
    'serial: 1',
    'site: https://shop.example',
    'routes:',
    '  - { path: /checkout/**, mode: block }',
    '  - { path: /cart, mode: rewrite }',
    '  - { path: /open/**, mode: report }',
    'allow: {}',
  ].join('\n'),
  'routes.yaml',
);

describe('CompiledPolicy.route', () => {
  it.each([
    ['/checkout/pay', 'block'],
    ['/Checkout/pay', 'block'],
    ['/%63heckout/pay', 'block'],
    ['//checkout;jsessionid=1/pay', 'block'],
    ['/cart?x=/checkout/', 'rewrite'],
    ['/open/page', 'report'],
    ['/open/app.v2.js', 'report'],
    ['/elsewhere', 'report'],
  ])('%s is %s', (path, mode) => {
    expect(compilePolicy(policy).route(path).mode).toBe(mode);
  });

  it.each([
    ['/open/../checkout/pay', 'block'],
    ['/open/%2e%2e/checkout/pay', 'block'],
    ['/open/..%2Fcheckout/pay', 'block'],
    ['/open/..%5Ccheckout/pay', 'block'],
    ['/open\\..\\checkout\\pay', 'block'],
    ['/open/./../cart', 'rewrite'],
    ['/checkout/../open/x', 'block'],
  ])('%s may reach a protected page on some storefront, so it takes the strictest reading: %s', (path, mode) => {
    expect(compilePolicy(policy).route(path).mode).toBe(mode);
  });

  it('labels the decision with the route that gave the strictest mode', () => {
    expect(compilePolicy(policy).route('/open/../checkout/pay').label).toBe('/checkout/**');
  });
});
