/**
 * Opening generated pages in Chromium for the oracles over a generated space (base readings,
 * frameset modes): serve the bytes, verify them as the proxy would, open them, and list every
 * request the page's own markup made that no finding names.
 */
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/policy/model.js';
import type { CorpusCase } from '../corpus/cases.js';
import { probeCase, type BrowserObservation } from '../corpus/chromium-probe.js';
import { asRequested, browserSawMore } from '../corpus/compare.js';
import { verifyCase, type Outcome } from '../corpus/run-verifier.js';
import { corpusPolicy } from '../corpus/policy.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';

export interface OpenedPage {
  readonly path: string;
  readonly outcome: Outcome;
  readonly seen: BrowserObservation;
}

/** Opens pages under /checkout/<prefix>-N/ (a protected route of the corpus policy). */
export function pageOpener(server: StaticServer, browser: Browser, policy: Policy, prefix: string): (html: string) => Promise<OpenedPage> {
  let served = 0;
  return async (html) => {
    const path = `/checkout/${prefix}-${served++}/`;
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
  };
}

/**
 * Requests the page's markup made, of any resource type, that no finding names URL for URL as
 * the server receives it. Requests made by code are the code's (compare.ts); the favicon is the
 * browser's own.
 */
export function unnamedRequests({ path, outcome, seen }: OpenedPage, origin: string): string[] {
  if ('refused' in outcome) return [];
  const named = new Set(outcome.verified.findings.flatMap((f) => (f.url === undefined ? [] : [asRequested(f.url)])));
  return seen.requests
    .filter((r) => r.url !== origin + path && r.initiator !== 'script' && !r.url.endsWith('/favicon.ico'))
    .filter((r) => !named.has(asRequested(r.url)))
    .map((r) => `${r.type} ${r.url} (initiator ${r.initiator})`);
}

export interface OracleWorld {
  readonly server: StaticServer;
  /** The corpus policy for the server's origin. */
  readonly policy: Policy;
  readonly open: (html: string) => Promise<OpenedPage>;
}

/**
 * One server, one Chromium and the corpus policy for a test file, started before its tests and
 * closed after them; the returned getter gives them to the tests.
 */
export function useOracleWorld(prefix: string): () => OracleWorld {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  let world: OracleWorld | undefined;
  beforeAll(async () => {
    server = await startStaticServer();
    browser = await launchChromium();
    const policy = corpusPolicy(server.origin);
    world = { server, policy, open: pageOpener(server, browser, policy, prefix) };
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return () => {
    if (!world) throw new Error('the oracle world is started in beforeAll');
    return world;
  };
}

/** ORACLE_RUNS=all opens every page of a space; otherwise fast-check samples ORACLE_RUNS of them. */
export const EVERY_PAGE = process.env.ORACLE_RUNS === 'all';

/** A test timeout that fits the run: an hour for a whole space, five minutes for a sample. */
export const SPACE_TIMEOUT_MS = EVERY_PAGE ? 3_600_000 : 300_000;

/**
 * The Chromium judgement of one generated page: every request named by a finding, and judged
 * against the policy as the corpus oracle judges it.
 */
export async function expectChromiumAgrees(opened: OpenedPage, origin: string, policy: Policy, html: string): Promise<void> {
  expect(unnamedRequests(opened, origin), html).toEqual([]);
  if ('refused' in opened.outcome) return;
  const judged = { verified: opened.outcome.verified, policy, mode: compilePolicy(policy).route(opened.path).mode };
  expect(browserSawMore(opened.seen, judged), html).toEqual([]);
}

/**
 * Runs `check` over every page (ORACLE_RUNS=all) or over a fast-check sample of `defaultRuns`
 * (ORACLE_RUNS overrides; replay a failure with ORACLE_SEED and ORACLE_PATH).
 */
export async function overSpace<T>(pages: readonly T[], defaultRuns: number, check: (page: T) => Promise<void>): Promise<void> {
  if (EVERY_PAGE) {
    for (const page of pages) await check(page);
    return;
  }
  const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...pages), check), {
    numRuns: Number(process.env.ORACLE_RUNS ?? defaultRuns),
    ...(seed === undefined ? {} : { seed }),
    ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}),
  });
}
