/**
 * Chromium over the family of test/verify/base-readings.ts: markup before or after the effective
 * <base>, each fetch kind, each URL spelling. Every request Chromium makes from the page's markup
 * (any resource type) must be named by one of the verifier's findings, URL for URL as the server
 * receives it, and where the policy does not allow it, as a violation (browserSawMore).
 * Sampled by fast-check (ORACLE_RUNS, default 16); replay with ORACLE_SEED and ORACLE_PATH.
 * ORACLE_RUNS=all opens every page of the space instead (675, about 7 minutes on 2 cores).
 */
import { describe, expect, it } from 'vitest';
import { allBaseReadingPages, baseReadingPage, FETCHES, PLACEMENTS } from './base-readings.js';
import { expectChromiumAgrees, overSpace, SPACE_TIMEOUT_MS, unnamedRequests, useOracleWorld } from './oracle-pages.js';

const world = useOracleWorld('base');

describe('oracle: URLs before the effective <base>', () => {
  it('Chromium fetches a script that precedes a foreign <base> through the page URL (the premise; control)', async () => {
    const script = FETCHES.find((f) => f.markup.startsWith('<script'))!;
    const page = baseReadingPage(script, 'skim.js', 'https://evil.example/app/', PLACEMENTS.find((p) => p.name === 'head, base after')!);
    const { server, open } = world();
    const opened = await open(page.html);
    expect(opened.seen.requests.map((r) => r.url)).toContain(`${server.origin}${opened.path}skim.js`);
    expect(unnamedRequests(opened, server.origin)).toEqual([]);
  });

  it('every request Chromium makes from generated pages is named by a finding, and judged', async () => {
    const { server, policy, open } = world();
    await overSpace(allBaseReadingPages(), 16, async (page) => expectChromiumAgrees(await open(page.html), server.origin, policy, page.html));
  }, SPACE_TIMEOUT_MS);
});
