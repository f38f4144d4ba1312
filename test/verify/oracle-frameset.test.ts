/**
 * Chromium over the P-12 family (test/verify/frameset-pages.ts): fetching markup the frameset
 * modes drop, or that a <frameset> detaches with the body. Whatever Chromium requests from those
 * pages, the preload scanner's fetches included, must be named by a finding and judged.
 * Sampled (ORACLE_RUNS, default 12); ORACLE_RUNS=all opens all 195 pages.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/policy/model.js';
import { corpusPolicy } from '../corpus/policy.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { allFramesetPages, DETACHED_SHAPES, FRAMESET_FETCHES } from './frameset-pages.js';
import { expectChromiumAgrees, overSpace, pageOpener, SPACE_TIMEOUT_MS } from './oracle-pages.js';

let server: StaticServer;
let browser: Browser;
let policy: Policy;
let open: ReturnType<typeof pageOpener>;

beforeAll(async () => {
  server = await startStaticServer();
  policy = corpusPolicy(server.origin);
  browser = await launchChromium();
  open = pageOpener(server, browser, policy, 'frameset');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('oracle: what the frameset modes drop or detach (P-12)', () => {
  it('Chromium fetches a script the <frameset> detaches with the body (the premise; control)', async () => {
    const html = DETACHED_SHAPES[0]!('<svg></svg>' + FRAMESET_FETCHES.find((f) => f.startsWith('<svg>'))!);
    const opened = await open(html);
    expect(opened.seen.requests.map((r) => r.url)).toContain('https://evil.example/v.js');
    await expectChromiumAgrees(opened, server.origin, policy, html);
  });

  it('every request Chromium makes from generated frameset pages is named by a finding, and judged', async () => {
    await overSpace(allFramesetPages(), 12, async (html) => expectChromiumAgrees(await open(html), server.origin, policy, html));
  }, SPACE_TIMEOUT_MS);
});
