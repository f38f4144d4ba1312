import { describe, expect, it } from 'vitest';
import { applyHeaderBaseline } from '../../src/proxy/browser/header-baseline.js';

const BASELINE = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

describe('applyHeaderBaseline', () => {
  it('adds every baseline header the storefront did not send', () => {
    const outcome = applyHeaderBaseline(BASELINE, [['content-type', 'text/html']]);
    expect(outcome.added).toEqual(Object.entries(BASELINE));
    expect(outcome.drift).toEqual([]);
  });

  it('does not count spelling that means the same (case, spaces around separators)', () => {
    const outcome = applyHeaderBaseline(BASELINE, [
      ['strict-transport-security', 'max-age=63072000 ;includesubdomains'],
      ['x-frame-options', 'deny'],
      ['referrer-policy', 'strict-origin-when-cross-origin'],
    ]);
    expect(outcome).toEqual({ added: [], drift: [] });
  });

  it('reports a differing upstream value as drift and keeps it (nothing added)', () => {
    const outcome = applyHeaderBaseline(BASELINE, [
      ['strict-transport-security', 'max-age=0'],
      ['x-frame-options', 'SAMEORIGIN'],
      ['referrer-policy', 'strict-origin-when-cross-origin'],
    ]);
    expect(outcome.added).toEqual([]);
    expect(outcome.drift).toEqual([
      { header: 'strict-transport-security', expected: BASELINE['strict-transport-security'], actual: 'max-age=0' },
      { header: 'x-frame-options', expected: 'DENY', actual: 'SAMEORIGIN' },
    ]);
  });

  it('reads several lines of one header as the browser does (joined by commas)', () => {
    const outcome = applyHeaderBaseline({ 'referrer-policy': 'no-referrer' }, [
      ['referrer-policy', 'no-referrer'],
      ['referrer-policy', 'unsafe-url'],
    ]);
    expect(outcome.drift).toEqual([{ header: 'referrer-policy', expected: 'no-referrer', actual: 'no-referrer, unsafe-url' }]);
  });

  it('does nothing for a route without a baseline', () => {
    expect(applyHeaderBaseline(undefined, [])).toEqual({ added: [], drift: [] });
  });
});
