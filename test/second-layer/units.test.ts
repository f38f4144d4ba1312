/** The small parts: token buckets, service-worker scope, SRI matching, the browser-vantage comparison. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BrowserVantage } from '../../src/proxy/browser/vantage.js';
import { matchIntegrity } from '../../src/proxy/passthrough/pinned-script.js';
import { namedServiceWorker, widensScope } from '../../src/proxy/browser/service-worker.js';
import { TokenBuckets } from '../../src/proxy/browser/token-buckets.js';
import { BASE_POLICY, policyFrom } from './policy.js';

const sri = (alg: string, body: string): string => `${alg}-${createHash(alg).update(body).digest('base64')}`;

describe('TokenBuckets', () => {
  it('allows a burst per client, refuses past it, refills with time, and keeps clients apart', () => {
    let now = 0;
    const buckets = new TokenBuckets({ burst: 3, perSecond: 1, clients: 10, now: () => now });
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([true, true, true, false]);
    expect(buckets.take('b')).toBe(true);
    now += 1_000;
    expect(buckets.take('a')).toBe(true);
    expect(buckets.take('a')).toBe(false);
  });

  it('forgets the oldest clients past its size (memory stays bounded)', () => {
    const buckets = new TokenBuckets({ burst: 1, perSecond: 0, clients: 2, now: () => 0 });
    expect(buckets.take('a')).toBe(true);
    expect(buckets.take('a')).toBe(false);
    buckets.take('b');
    buckets.take('c');
    // "a" was evicted, so it starts again from a full bucket (a flood of addresses only ever loses memory, never safety).
    expect(buckets.take('a')).toBe(true);
  });
});

describe('service workers', () => {
  const script = new URL('https://shop.example/static/sw.js');

  it('a Service-Worker-Allowed header above the script directory widens the scope', () => {
    expect(widensScope(script, [])).toBe(false);
    expect(widensScope(script, ['/static/'])).toBe(false);
    expect(widensScope(script, ['/static/offline/'])).toBe(false);
    expect(widensScope(script, ['/'])).toBe(true);
    expect(widensScope(script, ['/checkout/'])).toBe(true);
    expect(widensScope(script, ['https://evil.example/static/'])).toBe(true);
  });

  it('only an exact allow.script url entry names a worker (not the site origin, not a prefix)', () => {
    const policy = policyFrom(BASE_POLICY.replace('script:\n', 'script:\n    - { url: "https://shop.example/sw.js", why: offline catalogue worker }\n'));
    expect(namedServiceWorker(policy, new URL('https://shop.example/sw.js'))?.why).toBe('offline catalogue worker');
    expect(namedServiceWorker(policy, new URL('https://shop.example/other-sw.js'))).toBeUndefined();
    expect(namedServiceWorker(policy, new URL('https://static.reviews.example/widgets/shop,1;2/sw.js'))).toBeUndefined();
  });
});

describe('matchIntegrity (SRI §3.3.5)', () => {
  const body = Buffer.from('console.log("checkout")\n');

  it('matches a token of the strongest algorithm listed', () => {
    expect(matchIntegrity([sri('sha384', body.toString())], body).matches).toBe(true);
    expect(matchIntegrity(['sha256-AAAA', sri('sha512', body.toString())], body).matches).toBe(true);
  });

  it('ignores weaker algorithms when a stronger one is listed, and reports expected and actual', () => {
    const verdict = matchIntegrity([sri('sha256', body.toString()), sri('sha384', 'other')], body);
    expect(verdict.matches).toBe(false);
    expect(verdict.expected).toEqual([sri('sha384', 'other')]);
    expect(verdict.actual).toBe(sri('sha384', body.toString()));
  });
});

describe('BrowserVantage', () => {
  const policy = policyFrom(
    BASE_POLICY.replace(
      'script:\n',
      `script:\n    - { url: "https://pinned.example/lib.js", integrity: "${sri('sha256', 'lib')}", why: pinned library }\n`,
    ),
  );

  it('flags a hash that differs from what payguard served at that URL', () => {
    const vantage = new BrowserVantage();
    const served = vantage.served('https://shop.example/app.js', Buffer.from('app'));
    expect(vantage.compare(policy, 'https://shop.example/app.js', served)).toBe('agrees');
    expect(vantage.compare(policy, 'https://shop.example/app.js', sri('sha256', 'app+skimmer'))).toBe('differs-from-served');
  });

  it('flags a hash that differs from the policy pin, and accepts unpadded digests', () => {
    const vantage = new BrowserVantage();
    expect(vantage.compare(policy, 'https://pinned.example/lib.js', sri('sha256', 'lib').replace(/=+$/, ''))).toBe('agrees');
    expect(vantage.compare(policy, 'https://pinned.example/lib.js', sri('sha256', 'lib2'))).toBe('differs-from-policy');
  });

  it('cannot judge scripts it neither served nor has a pin of the same algorithm for', () => {
    const vantage = new BrowserVantage();
    expect(vantage.compare(policy, 'https://cdn.shop.example/x.js', sri('sha256', 'x'))).toBe('unknown');
    expect(vantage.compare(policy, 'https://js.gateway.example/v3/token.js', sri('sha256', 'x'))).toBe('unknown');
    expect(vantage.compare(policy, 'not a url', 'sha256-x')).toBe('unknown');
  });
});
