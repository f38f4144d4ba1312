/**
 * Chromium over the P-12 family (test/verify/frameset-pages.ts): fetching markup the frameset
 * modes drop, or that a <frameset> detaches with the body. Whatever Chromium requests from those
 * pages, the preload scanner's fetches included, must be named by a finding and judged.
 * Sampled (ORACLE_RUNS, default 12); ORACLE_RUNS=all opens all 195 pages.
 */
import { describe, expect, it } from 'vitest';
import { allFramesetPages, DETACHED_SHAPES, FRAMESET_FETCHES } from './frameset-pages.js';
import { expectChromiumAgrees, overSpace, SPACE_TIMEOUT_MS, useOracleWorld } from './oracle-pages.js';

const world = useOracleWorld('frameset');

describe('oracle: what the frameset modes drop or detach (P-12)', () => {
  it('Chromium fetches a script the <frameset> detaches with the body (the premise; control)', async () => {
    const html = DETACHED_SHAPES[0]!('<svg></svg>' + FRAMESET_FETCHES.find((f) => f.startsWith('<svg>'))!);
    const { server, policy, open } = world();
    const opened = await open(html);
    expect(opened.seen.requests.map((r) => r.url)).toContain('https://evil.example/v.js');
    await expectChromiumAgrees(opened, server.origin, policy, html);
  });

  it('every request Chromium makes from generated frameset pages is named by a finding, and judged', async () => {
    const { server, policy, open } = world();
    await overSpace(allFramesetPages(), 12, async (html) => expectChromiumAgrees(await open(html), server.origin, policy, html));
  }, SPACE_TIMEOUT_MS);
});
