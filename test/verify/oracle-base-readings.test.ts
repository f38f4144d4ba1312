/**
 * Chromium over the family of test/verify/base-readings.ts: markup before or after the effective
 * <base>, each fetch kind, each URL spelling. Every request Chromium makes from the page's markup
 * (any resource type) must be named by one of the verifier's findings, URL for URL as the server
 * receives it, and where the policy does not allow it, as a violation (browserSawMore).
 * Sampled by fast-check (ORACLE_RUNS, default 16); replay with ORACLE_SEED and ORACLE_PATH.
 * ORACLE_RUNS=all opens every page of the space instead (675, about 7 minutes on 2 cores).
 */
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/policy/model.js';
import type { CorpusCase } from '../corpus/cases.js';
import { probeCase, type BrowserObservation } from '../corpus/chromium-probe.js';
import { asRequested, browserSawMore } from '../corpus/compare.js';
import { corpusPolicy } from '../corpus/policy.js';
import { verifyCase, type Outcome } from '../corpus/run-verifier.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { allBaseReadingPages, baseReadingPage, BASES, FETCHES, PLACEMENTS } from './base-readings.js';

const EVERY_PAGE = process.env.ORACLE_RUNS === 'all';
const RUNS = EVERY_PAGE ? 0 : Number(process.env.ORACLE_RUNS ?? 16);

let server: StaticServer;
let browser: Browser;
let policy: Policy;
let served = 0;

beforeAll(async () => {
  server = await startStaticServer();
  policy = corpusPolicy(server.origin);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Serves the page, verifies it as the proxy would and opens it in Chromium. */
async function openInChromium(html: string): Promise<{ path: string; outcome: Outcome; seen: BrowserObservation }> {
  const path = `/checkout/base-${served++}/`;
  const c: CorpusCase = {
    name: path,
    description: 'generated',
    vectors: [],
    path,
    status: 200,
    headers: [['content-type', 'text/html; charset=utf-8']],
    bytes: new TextEncoder().encode(html),
    expect: { violations: [], mayAlsoFind: [] },
    oracle: {},
  };
  const outcome = verifyCase(c, policy);
  server.set(path, { headers: c.headers, body: c.bytes });
  return { path, outcome, seen: await probeCase(browser, server.origin + path, {}) };
}

/** Requests the page's markup made, of any resource type, that no finding names. */
function unnamedRequests(seen: BrowserObservation, outcome: Outcome, pageUrl: string): string[] {
  if ('refused' in outcome) return [];
  const named = new Set(outcome.verified.findings.flatMap((f) => (f.url === undefined ? [] : [asRequested(f.url)])));
  return seen.requests
    .filter((r) => r.url !== pageUrl && r.initiator !== 'script' && !r.url.endsWith('/favicon.ico'))
    .filter((r) => !named.has(asRequested(r.url)))
    .map((r) => `${r.type} ${r.url} (initiator ${r.initiator})`);
}

describe('oracle: URLs before the effective <base>', () => {
  it('Chromium fetches a script that precedes a foreign <base> through the page URL (the premise; control)', async () => {
    const script = FETCHES.find((f) => f.markup.startsWith('<script'))!;
    const page = baseReadingPage(script, 'skim.js', 'https://evil.example/app/', PLACEMENTS.find((p) => p.name === 'head, base after')!);
    const { path, outcome, seen } = await openInChromium(page.html);
    expect(seen.requests.map((r) => r.url)).toContain(`${server.origin}${path}skim.js`);
    expect(unnamedRequests(seen, outcome, server.origin + path)).toEqual([]);
  });

  it('every request Chromium makes from generated pages is named by a finding, and judged', async () => {
    const pages = allBaseReadingPages();
    const check = async (page: (typeof pages)[number]): Promise<void> => {
      const { path, outcome, seen } = await openInChromium(page.html);
      const where = `page (bases ${BASES.join(', ')}):\n${page.html}`;
      expect(unnamedRequests(seen, outcome, server.origin + path), where).toEqual([]);
      if ('refused' in outcome) return;
      expect(browserSawMore(seen, { verified: outcome.verified, policy, mode: compilePolicy(policy).route(path).mode }), where).toEqual([]);
    };
    if (EVERY_PAGE) {
      for (const page of pages) await check(page);
      return;
    }
    const property = fc.asyncProperty(fc.constantFrom(...pages), check);
    const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
    await fc.assert(property, {
      numRuns: RUNS,
      ...(seed === undefined ? {} : { seed }),
      ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}),
    });
  }, EVERY_PAGE ? 3_600_000 : 300_000);
});
