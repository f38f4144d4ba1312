/**
 * `payguard serve` configuration: every flag also from its environment variable, flags win,
 * each bad value a UsageError naming the flag (validated once, at the edge).
 */
import { describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../src/cli/commands/serve.js';
import { UsageError } from '../../src/errors.js';

const REQUIRED = ['--upstream', 'http://127.0.0.1:3000', '--policy', 'policy.yaml', '--public-key', 'a.pub'];

describe('parseServeConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseServeConfig(REQUIRED, { HOME: '/home/shop' });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.maxInspectBytes).toBe(8 * 1024 * 1024);
    expect(config.upstreamTimeoutMs).toBe(30_000);
    expect(config.verifyTimeoutMs).toBe(2_000);
    expect(config.drainTimeoutMs).toBe(10_000);
    expect(config.trustedProxies).toEqual([]);
    expect(config.publicKeyFiles).toEqual(['a.pub']);
  });

  it('reads every setting from the environment, as a sidecar is configured', () => {
    const config = parseServeConfig([], {
      PAYGUARD_UPSTREAM: 'https://shop.internal:8443/base/',
      PAYGUARD_POLICY: '/etc/payguard/policy.yaml',
      PAYGUARD_PUBLIC_KEY: '/etc/payguard/a.pub, /etc/payguard/b.pub',
      PAYGUARD_LISTEN: '[::]:80',
      PAYGUARD_ADMIN: '127.0.0.1:9000',
      PAYGUARD_STATE_DIR: '/var/lib/payguard',
      PAYGUARD_MAX_INSPECT_BYTES: '2MiB',
      PAYGUARD_UPSTREAM_TIMEOUT: '5s',
      PAYGUARD_VERIFY_TIMEOUT: '250ms',
      PAYGUARD_DRAIN_TIMEOUT: '20000',
      PAYGUARD_TRUSTED_PROXIES: '10.0.0.0/8,fd00::/8',
    });
    expect(config.upstream.href).toBe('https://shop.internal:8443/base/');
    expect(config.publicKeyFiles).toEqual(['/etc/payguard/a.pub', '/etc/payguard/b.pub']);
    expect(config.listen).toEqual({ host: '::', port: 80 });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(config.stateDir).toBe('/var/lib/payguard');
    expect(config.maxInspectBytes).toBe(2 * 1024 * 1024);
    expect(config.upstreamTimeoutMs).toBe(5_000);
    expect(config.verifyTimeoutMs).toBe(250);
    expect(config.drainTimeoutMs).toBe(20_000);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8']);
  });

  it('lets flags win over the environment', () => {
    const config = parseServeConfig([...REQUIRED, '--listen', '127.0.0.1:9999', '--public-key', 'b.pub'], {
      PAYGUARD_UPSTREAM: 'http://ignored:1',
      PAYGUARD_LISTEN: '0.0.0.0:1',
      PAYGUARD_PUBLIC_KEY: 'ignored.pub',
    });
    expect(config.upstream.host).toBe('127.0.0.1:3000');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(config.publicKeyFiles).toEqual(['a.pub', 'b.pub']);
  });

  it.each([
    [['--policy', 'p', '--public-key', 'k'], '--upstream'],
    [['--upstream', 'http://x', '--public-key', 'k'], '--policy'],
    [['--upstream', 'http://x', '--policy', 'p'], '--public-key'],
    [[...REQUIRED.slice(2), '--upstream', 'not a url'], '--upstream'],
    [[...REQUIRED.slice(2), '--upstream', 'file:///etc/passwd'], '--upstream'],
    [[...REQUIRED.slice(2), '--upstream', 'http://user:pw@shop'], '--upstream'],
    [[...REQUIRED, '--listen', 'localhost:99999'], '--listen'],
    [[...REQUIRED, '--admin', 'nope'], '--admin'],
    [[...REQUIRED, '--max-inspect-bytes', '8 parsecs'], '--max-inspect-bytes'],
    [[...REQUIRED, '--max-inspect-bytes', '10'], '--max-inspect-bytes'],
    [[...REQUIRED, '--upstream-timeout', '-5'], '--upstream-timeout'],
    [[...REQUIRED, '--verify-timeout', '2 minutes'], '--verify-timeout'],
    [[...REQUIRED, '--trusted-proxy', '10.0.0.0/99'], '--trusted-proxy'],
    [[...REQUIRED, '--trusted-proxy', 'proxy.internal'], '--trusted-proxy'],
    [[...REQUIRED, '--no-such-flag'], 'no-such-flag'],
  ])('rejects %j with a UsageError naming %s', (argv, flag) => {
    let error: unknown;
    try {
      parseServeConfig(argv, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(flag);
  });
});
