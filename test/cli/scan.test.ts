/**
 * `payguard scan` as release CI runs it: the real CLI (node bin/payguard.js) against a policy
 * signed in a temp dir, over corpus pages read from disk or fetched from a real HTTP server on
 * 127.0.0.1. Exit 0 clean, 1 violations, 2 error.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, type CorpusCase } from '../corpus/cases.js';
import { corpusPolicyText } from '../corpus/policy.js';
import { buildCli, runPayguard, runProcess } from '../helpers/cli.js';
import { makeSignedPolicy, type SignedPolicyFixture } from '../helpers/policies.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { FLOOR_FILE } from '../../src/policy/floor.js';
import { loadSignedPolicy } from '../../src/policy/load.js';

const SITE = 'https://shop.example';
const corpus = loadCorpus();
const page = (name: string): CorpusCase => {
  const c = corpus.find((k) => k.name === name);
  if (!c) throw new Error(`no corpus case ${name}`);
  return c;
};
const file = (name: string): string => join('test/corpus', `${name}.html`);

let signed: SignedPolicyFixture;
let server: StaticServer;
let keyArgs: string[];

beforeAll(async () => {
  buildCli();
  signed = await makeSignedPolicy({ policy: corpusPolicyText(SITE) });
  keyArgs = ['--policy', signed.policyFile, '--public-key', signed.key.publicKeyFile];
  server = await startStaticServer();
}, 300_000); // buildCli runs tsc under a lock shared with every other area's tests

afterAll(async () => {
  await server?.close();
  await signed?.cleanup();
});

describe('payguard scan FILE', () => {
  it('exits 0 on a legitimate checkout and lists each finding with its justification', async () => {
    const r = await runPayguard(['scan', file('legit/gateway-checkout'), ...keyArgs, '--url', `${SITE}/checkout/pay`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^form-action\s+allowed\s+form action\s+\d+:\d+\s+https:\/\/pay\.gateway\.example\/charge\s+card gateway/m);
    expect(r.stdout).toMatch(/^inline-script\s+allowed\s+.*sha256-.*cookie consent banner bootstrap/m);
    expect(r.stdout).toContain('0 violations, 4 findings (https://shop.example/checkout/pay, block mode'); // the stylesheet is a finding since issue 17 class 2
  });

  it('exits 1 on a tampered page and names the element, its position and the resolved URL', async () => {
    const r = await runPayguard(['scan', file('forms/f05-formaction-button'), ...keyArgs, '--url', `${SITE}/checkout/pay`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^form-action\s+VIOLATION\s+button formaction\s+14:\d+\s+https:\/\/evil\.example\/collect\s+foreign-form-action$/m);
  });

  it('--json prints every finding and the policy that judged them', async () => {
    const r = await runPayguard(['scan', file('urls/u08-userinfo'), ...keyArgs, '--url', `${SITE}/checkout/pay`, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      mode: string;
      violations: number;
      policy: { keyId: string; serial: number };
      findings: { kind: string; origin?: string; allowed: boolean; line: number }[];
    };
    expect(report.mode).toBe('block');
    expect(report.policy).toMatchObject({ keyId: signed.key.keyId, serial: 1 });
    expect(report.violations).toBe(1);
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'form-action', origin: 'https://evil.example', allowed: false }));
  });

  it('judges inline code by the route of the public URL: a violation on /checkout, not on a report route', async () => {
    const checkout = await runPayguard(['scan', file('scripts/s03-inline-skimmer'), ...keyArgs, '--url', `${SITE}/checkout/`]);
    expect(checkout.code).toBe(1);
    expect(checkout.stdout).toMatch(/inline-script\s+VIOLATION/);
    const product = await runPayguard(['scan', file('scripts/s03-inline-skimmer'), ...keyArgs]);
    expect(product.stdout).toContain(`(${SITE}/, report mode`);
    expect(product.code).toBe(0);
  });

  it('decodes a Shift_JIS file by its meta charset', async () => {
    const r = await runPayguard(['scan', file('encoding/e04-shift-jis-checkout'), ...keyArgs, '--url', `${SITE}/checkout/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('decoded as Shift_JIS from meta');
  });

  it('exits 2 on a page payguard refuses to verify, and says why', async () => {
    const r = await runPayguard(['scan', file('encoding/e05-unknown-charset-iso-2022-kr'), ...keyArgs, '--url', `${SITE}/checkout/`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refused (unknown-encoding)');
    expect(r.stdout).toBe('');
  });

  it('exits 2 with a clear message for a file that does not exist', async () => {
    const r = await runPayguard(['scan', 'no/such/page.html', ...keyArgs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^payguard scan: cannot read no\/such\/page\.html: .*ENOENT/);
  });

  it('exits 2 on usage errors', async () => {
    const noPolicy = await runPayguard(['scan', file('legit/gateway-checkout'), '--public-key', signed.key.publicKeyFile]);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain('--policy is required');
    const noKey = await runPayguard(['scan', file('legit/gateway-checkout'), '--policy', signed.policyFile]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--public-key');
    const badUrl = await runPayguard(['scan', file('legit/gateway-checkout'), ...keyArgs, '--url', '/checkout']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--url must be an absolute http(s) URL');
  });
});

describe('payguard scan and the signed policy', () => {
  it('refuses (exit 2) a policy changed after it was signed', async () => {
    const tampered = await makeSignedPolicy({ policy: corpusPolicyText(SITE) });
    try {
      const text = await readFile(tampered.policyFile, 'utf8');
      await writeFile(tampered.policyFile, text.replace('https://pay.gateway.example', 'https://evil.example'));
      const r = await runPayguard(['scan', file('forms/f01-plain-foreign-action'), '--policy', tampered.policyFile, '--public-key', tampered.key.publicKeyFile]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/signature/i);
      expect(r.stdout).toBe('');
    } finally {
      await tampered.cleanup();
    }
  });

  it('accepts a policy signed by the real minisign binary', async () => {
    const dir = signed.dir;
    const policyFile = join(dir, 'minisign-policy.yaml');
    await writeFile(policyFile, corpusPolicyText(SITE));
    const keygen = await runProcess('minisign', ['-G', '-W', '-p', join(dir, 'm.pub'), '-s', join(dir, 'm.key')]);
    expect(keygen.code).toBe(0);
    const sign = await runProcess('minisign', ['-S', '-s', join(dir, 'm.key'), '-m', policyFile]);
    expect(sign.code).toBe(0);
    const r = await runPayguard(['scan', file('legit/tokenizer-hosted-fields'), '--policy', policyFile, '--public-key', join(dir, 'm.pub'), '--url', `${SITE}/checkout/`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/https:\/\/js\.tokenizer\.example\/v3\/tokenizer\.js\s+the gateway's card tokenizer/);
  });

  it('--state-dir refuses a rolled-back serial and never raises the floor itself', async () => {
    const stateDir = join(signed.dir, 'scan-state');
    const first = await runPayguard(['scan', file('legit/gateway-checkout'), ...keyArgs, '--state-dir', stateDir]);
    expect(first.code).toBe(0);
    expect(existsSync(join(stateDir, FLOOR_FILE))).toBe(false);

    const newer = await makeSignedPolicy({ policy: corpusPolicyText(SITE).replace('serial: 1', 'serial: 7') });
    try {
      // Record serial 7 as accepted the way serve does, then scan the older serial 1 against it.
      await loadSignedPolicy({ policyFile: newer.policyFile, publicKeyFiles: [newer.key.publicKeyFile], stateDir });
      const floorBefore = await readFile(join(stateDir, FLOOR_FILE), 'utf8');
      const old = await runPayguard(['scan', file('legit/gateway-checkout'), ...keyArgs, '--state-dir', stateDir]);
      expect(old.code).toBe(2);
      expect(old.stderr).toContain('serial 1 is lower than serial 7');
      expect(await readFile(join(stateDir, FLOOR_FILE), 'utf8')).toBe(floorBefore);
    } finally {
      await newer.cleanup();
    }
  });
});

describe('payguard scan URL', () => {
  it('fetches the page with its headers: charset from Content-Type, public URL = site + fetched path', async () => {
    const c = page('encoding/e04-euc-jp-checkout');
    server.set('/checkout/euc', { headers: [['content-type', 'text/html; charset=EUC-JP']], body: c.bytes });
    const r = await runPayguard(['scan', `${server.origin}/checkout/euc`, ...keyArgs]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`(${SITE}/checkout/euc, block mode, decoded as EUC-JP from header)`);
  });

  it('checks a redirect instead of following it', async () => {
    const c = page('navigation/n01-location-header');
    server.set('/checkout/redirect', { status: c.status, headers: c.headers, body: c.bytes });
    const r = await runPayguard(['scan', `${server.origin}/checkout/redirect`, ...keyArgs, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { kind: string; url?: string; allowed: boolean }[] };
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'location-header', url: 'https://evil.example/pay', allowed: false }));
    expect(server.requests.filter((q) => q.path === '/checkout/redirect')).toHaveLength(1);
  });

  it('undoes gzip before verifying', async () => {
    const c = page('forms/f07-table-form-pointer');
    server.set('/checkout/gz', { headers: [['content-type', 'text/html; charset=utf-8'], ['content-encoding', 'gzip']], body: gzipSync(c.bytes) });
    const r = await runPayguard(['scan', `${server.origin}/checkout/gz`, ...keyArgs]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/form-action\s+VIOLATION\s+form action.*https:\/\/evil\.example\/collect/);
  });

  it('refuses a content coding it cannot decode (exit 2)', async () => {
    server.set('/checkout/zstd', { headers: [['content-type', 'text/html'], ['content-encoding', 'zstd']], body: new Uint8Array([1, 2, 3]) });
    const r = await runPayguard(['scan', `${server.origin}/checkout/zstd`, ...keyArgs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Content-Encoding "zstd"');
  });

  it('exits 2 when the URL cannot be fetched, without printing query-string values', async () => {
    const closed = await startStaticServer();
    const origin = closed.origin;
    await closed.close();
    const r = await runPayguard(['scan', `${origin}/checkout/pay?card=4111111111111111`, ...keyArgs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${origin}/checkout/pay: cannot fetch`);
    expect(r.stderr).not.toContain('4111');
  });
});
