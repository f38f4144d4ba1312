/**
 * The bench pages and policy: a clean page must be clean by construction (only allowed origins,
 * the inline script's hash in the policy), and the tampered page must carry exactly the foreign
 * origins a rewrite has to neutralise; otherwise the bench measures the wrong path.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { describe, expect, it } from 'vitest';
import { imageAsset, ASSET_BYTES } from '../../bench/pages/assets.js';
import { categoryPage } from '../../bench/pages/catalog.js';
import { CHECKOUT_BYTES, checkoutPage, FIXED_CHECKOUT, randomCart } from '../../bench/pages/checkout.js';
import { CDN, CONSENT_BOOTSTRAP, GATEWAY_FORM, GATEWAY_SCRIPT, LOOKALIKE_FORM, SITE, SKIMMER_SCRIPT } from '../../bench/pages/origins.js';
import { seededRandom } from '../../bench/pages/random.js';
import { benchPolicyYaml, cspSha256, writeSignedPolicy } from '../../bench/policy.js';
import { parsePolicyText } from '../../src/policy/parse.js';

const execFileAsync = promisify(execFile);

type Element = DefaultTreeAdapterMap['element'];
type Node = DefaultTreeAdapterMap['node'];

function elements(node: Node, found: Element[] = []): Element[] {
  if ('tagName' in node) found.push(node);
  const children = 'childNodes' in node ? node.childNodes : [];
  for (const child of children) elements(child, found);
  const content = (node as { content?: Node }).content;
  if (content) elements(content, found);
  return found;
}

/** Origins of every absolute URL in an attribute that loads, submits or frames (as the tree builder sees them). */
function loadingOrigins(html: string): Set<string> {
  const origins = new Set<string>();
  for (const el of elements(parse(html))) {
    for (const attr of el.attrs) {
      if (!['src', 'action', 'formaction', 'data'].includes(attr.name)) continue;
      origins.add(new URL(attr.value, SITE + '/checkout/').origin);
    }
  }
  return origins;
}

function inlineScriptTexts(html: string): string[] {
  return elements(parse(html))
    .filter((el) => el.tagName === 'script' && !el.attrs.some((a) => a.name === 'src' || a.name === 'type'))
    .map((el) => el.childNodes.map((c) => ('value' in c ? c.value : '')).join(''));
}

const unique = (seed: number) => checkoutPage({ csrfToken: seed.toString(16).padStart(32, '0'), orderId: `ORD-${seed}`, cart: randomCart(seededRandom(seed)) });

describe('bench pages', () => {
  it('the checkout page is about 100 KB, and byte-identical when generated twice', () => {
    const page = checkoutPage(FIXED_CHECKOUT);
    expect(Buffer.byteLength(page)).toBeGreaterThanOrEqual(CHECKOUT_BYTES);
    expect(Buffer.byteLength(page)).toBeLessThan(CHECKOUT_BYTES * 1.05);
    expect(checkoutPage(FIXED_CHECKOUT)).toBe(page);
  });

  it('unique checkouts differ in token and cart but keep the size within 5%', () => {
    const [a, b] = [unique(1), unique(2)];
    expect(a).not.toBe(b);
    expect(Math.abs(Buffer.byteLength(a) - Buffer.byteLength(b))).toBeLessThan(CHECKOUT_BYTES * 0.05);
  });

  it('clean pages load, submit and frame only the site and the origins the bench policy allows', () => {
    const allowed = new Set([SITE, CDN, GATEWAY_FORM, GATEWAY_SCRIPT]);
    for (const html of [checkoutPage(FIXED_CHECKOUT), unique(3), categoryPage(10 * 1024), categoryPage(1024 * 1024)]) {
      const origins = loadingOrigins(html);
      expect([...origins].filter((o) => !allowed.has(o))).toEqual([]);
      expect(origins.has(GATEWAY_FORM)).toBe(html.includes('id="payment"'));
    }
  });

  it('the tampered checkout adds exactly the look-alike form action and the skimmer script', () => {
    const clean = loadingOrigins(checkoutPage(FIXED_CHECKOUT));
    const tampered = loadingOrigins(checkoutPage(FIXED_CHECKOUT, { foreignFormAction: true, foreignScript: true }));
    expect([...tampered].filter((o) => !clean.has(o)).sort()).toEqual([LOOKALIKE_FORM, SKIMMER_SCRIPT].sort());
  });

  it('the one inline script is the consent bootstrap, whose CSP hash the policy allows', () => {
    for (const html of [checkoutPage(FIXED_CHECKOUT), unique(4), categoryPage(10 * 1024)]) {
      expect(inlineScriptTexts(html)).toEqual([CONSENT_BOOTSTRAP]);
    }
    expect(benchPolicyYaml('block')).toContain(cspSha256(CONSENT_BOOTSTRAP));
  });

  it('the image asset is a well-formed PNG of about 50 KB (every chunk CRC checks)', () => {
    const png = imageAsset();
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const types: string[] = [];
    let offset = 8;
    for (let chunks = 0; offset < png.length && chunks < 10; chunks += 1) {
      const length = png.readUInt32BE(offset);
      const typeAndData = png.subarray(offset + 4, offset + 8 + length);
      expect(png.readUInt32BE(offset + 8 + length)).toBe(crc32(typeAndData));
      types.push(typeAndData.subarray(0, 4).toString('latin1'));
      offset += 12 + length;
    }
    expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(png.length).toBeGreaterThan(ASSET_BYTES * 0.95);
    expect(png.length).toBeLessThan(ASSET_BYTES * 1.1);
  });
});

describe('bench policy', () => {
  it.each(['block', 'rewrite'] as const)('the %s policy is valid for payguard and its minisign signature verifies', async (mode) => {
    // The rewrite bench measures neutralising the tampered page, so it serves the rewrite even where code is removed.
    expect(parsePolicyText(benchPolicyYaml(mode), `bench-${mode}.yaml`).routes).toEqual([{ path: '/**', mode, ...(mode === 'rewrite' ? { codeRemoval: 'serve' } : {}) }]);
    const dir = await mkdtemp(join(tmpdir(), 'payguard-bench-policy-'));
    try {
      const { policyFile, publicKeyFile } = await writeSignedPolicy(dir, mode);
      const { stdout } = await execFileAsync('minisign', ['-V', '-p', publicKeyFile, '-m', policyFile]);
      expect(stdout).toMatch(/Signature and comment signature verified/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
