/**
 * Issue 17 class 4 with Chromium as the judge: generated pages carry a URL in data (carriers ×
 * spellings × encodings, test/verify/carried-world.ts), and the shop's own clean code reads it
 * and assigns it to `location.href`. A navigate listener records where Chromium would go and
 * cancels it, so one page load judges a whole batch. For every case whose destination is an
 * http(s) origin outside the site and the policy, the verifier must report a violation on that
 * origin; for every legitimate value, it must report none. A failure prints fast-check's seed and
 * path (replay with ORACLE_SEED=<seed> ORACLE_PATH=<path>).
 */
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/model.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { caseName, carriedCase, carriedPolicy, FOREIGN_VALUES, LEGIT_VALUES, page, TEXT_SPLIT_AFTER_SCHEME, type CarriedCase } from './carried-world.js';
import { cspHashes, rewriteDocument, verifyDocument } from '../../src/verify/index.js';
import { htmlInput, verifyHtml, withInline } from './policy.js';

/** Batches (page loads) per property; each batch holds up to BATCH cases. */
const RUNS = Number(process.env.ORACLE_RUNS ?? 6);
const BATCH = 40;
const seedOptions = process.env.ORACLE_SEED ? { seed: Number(process.env.ORACLE_SEED), path: process.env.ORACLE_PATH } : {};

describe('a URL carried in data and navigated to by clean code (Chromium oracle)', { timeout: 240_000 }, () => {
  let browser: Browser;
  let server: StaticServer;
  let policy: Policy;
  let named: Set<string>;
  let pageNo = 0;

  beforeAll(async () => {
    server = await startStaticServer();
    browser = await launchChromium();
    policy = carriedPolicy(server.origin);
    named = new Set([server.origin]);
    for (const entries of Object.values(policy.allow)) for (const e of entries) if (e.type === 'origin') named.add(e.origin);
    for (const entries of Object.values(policy.allow)) for (const e of entries) if (e.type === 'url') named.add(new URL(e.url).origin);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Where Chromium's navigation goes for each case (null: no navigation; "threw …": the assignment threw). */
  async function destinations(cases: readonly CarriedCase[], body: Uint8Array = Buffer.from(page(cases, true))): Promise<(string | null)[]> {
    const path = `/checkout/carried-${++pageNo}`;
    server.set(path, { headers: [['content-type', 'text/html; charset=utf-8']], body });
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${server.origin}${path}`);
      // A string expression: the test lane's types have no DOM.
      return (await tab.evaluate('window.destinations')) as (string | null)[];
    } finally {
      await context.close();
    }
  }

  function foreignOrigin(destination: string | null): string | undefined {
    if (!destination || !URL.canParse(destination)) return undefined;
    const url = new URL(destination);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return named.has(url.origin) ? undefined : url.origin;
  }

  it('never reports clean when clean code would navigate to a foreign origin the data carries', async () => {
    let foreignSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(carriedCase(FOREIGN_VALUES), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        const went = await destinations(cases);
        for (const [i, c] of cases.entries()) {
          const origin = foreignOrigin(went[i]!);
          if (!origin) continue;
          foreignSeen++;
          const verdict = await verifyHtml(page([c], false), { policy, url: `${server.origin}/checkout/` });
          // A one-case page: a violation on that origin, or on the same place by a more specific
          // finder (a CSS string is also an image URL), means the page is not served as it is.
          const caught = verdict.violations.length > 0;
          expect(caught, `${caseName(c)} → Chromium went to ${went[i]}; violations: ${JSON.stringify(verdict.violations.map((f) => [f.kind, f.url]))}`).toBe(true);
        }
      }),
      { numRuns: RUNS, endOnFailure: true, ...seedOptions },
    );
    // The oracle is not vacuous: most generated cases do reach the attacker in Chromium.
    expect(foreignSeen).toBeGreaterThan(RUNS * BATCH * 0.5);
  });

  it('on rewrite routes, the rewritten page sends the clean code to no foreign origin', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(carriedCase(FOREIGN_VALUES), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        const html = page(cases, true);
        // The reading code is the shop's own inline script: allowed by its hash, so the rewrite keeps it.
        const code = html.slice(html.lastIndexOf('<script>') + '<script>'.length, html.lastIndexOf('</script>'));
        const rewritePolicy = withInline(policy, [{ type: 'hash', hash: cspHashes(code)[0]!, why: 'the shop code reading its data' }]);
        const input = htmlInput(html, { policy: rewritePolicy, mode: 'rewrite', url: `${server.origin}/checkout/` });
        const rewritten = rewriteDocument(input, verifyDocument(input), { sinkPath: '/.well-known/payguard/sink' });
        const went = await destinations(cases, rewritten.bytes);
        for (const [i, c] of cases.entries()) expect(foreignOrigin(went[i]!), `${caseName(c)} → ${went[i]} after the rewrite`).toBeUndefined();
      }),
      { numRuns: Math.max(2, Math.floor(RUNS / 2)), endOnFailure: true, ...seedOptions },
    );
  });

  it('reports nothing for data naming the site, the policy, or no URL at all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(carriedCase(LEGIT_VALUES), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        const went = await destinations(cases);
        for (const [i, c] of cases.entries()) {
          expect(foreignOrigin(went[i]!), `${caseName(c)} → ${went[i]}`).toBeUndefined();
          // `https:<!---->//pay.gateway.example/3ds`: the second run, read alone (a child element's
          // text), is scheme-relative and takes this harness's http scheme: an origin not named.
          if (c.carrier === 'element text' && c.variant === TEXT_SPLIT_AFTER_SCHEME) continue;
          const verdict = await verifyHtml(page([c], false), { policy, url: `${server.origin}/checkout/` });
          // A string in a custom property can also be fetched as an image (`image-set(var(--x))`):
          // css.ts judges it against allow.image (class 2), which is not this class's verdict.
          const fetchable = c.carrier.startsWith('CSS') ? verdict.violations.filter((f) => f.kind === 'css-url') : [];
          expect(verdict.violations.filter((f) => !fetchable.includes(f)), caseName(c)).toEqual([]);
        }
      }),
      { numRuns: Math.max(2, Math.floor(RUNS / 2)), endOnFailure: true, ...seedOptions },
    );
  });
});
