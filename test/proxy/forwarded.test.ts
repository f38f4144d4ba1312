/** Which peers' X-Forwarded-* payguard believes: exact addresses and CIDR ranges, IPv4 and IPv6. */
import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../../src/proxy/http/forwarded.js';

describe('TrustedProxies', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);

  it.each([
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true], // an IPv4 peer on a dual-stack socket
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['11.0.0.1', false],
    ['fd12::1', true],
    ['fe80::1', false],
    ['', false],
  ])('%s trusted: %s', (peer, expected) => {
    expect(trusted.trusts(peer)).toBe(expected);
  });

  it('trusts nobody by default', () => {
    expect(new TrustedProxies().trusts('127.0.0.1')).toBe(false);
  });

  it.each(['proxy.internal', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129', '10.0.0.0/x'])('rejects "%s"', (entry) => {
    expect(() => new TrustedProxies([entry])).toThrow(RangeError);
  });
});
