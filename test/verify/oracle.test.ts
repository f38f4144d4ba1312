/**
 * The browser is the judge. Every corpus page is served with its exact bytes and headers from
 * 127.0.0.1 and opened in a real Chromium (Debian's, through playwright-core). Everything
 * Chromium made live (form targets, submitters, scripts, frames, objects, embeds, in shadow
 * roots and srcdoc documents too), every script, frame and navigation it requested, and every
 * piece of inline code V8 compiled must appear among the verifier's findings for the same bytes,
 * and as a violation where the policy does not allow it. Where the browser sees more, the test
 * fails and names the page and what was missed.
 *
 * One browser for the file, a fresh context per page, a small pool of pages at a time (2 shared
 * cores). Nothing leaves the machine: foreign requests are answered inside the browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/policy/model.js';
import { loadCorpus, SITE_TOKEN, type CorpusCase } from '../corpus/cases.js';
import { probeCase, type BrowserObservation } from '../corpus/chromium-probe.js';
import { browserSawMore, checkInstructions } from '../corpus/compare.js';
import { corpusPolicy } from '../corpus/policy.js';
import { verifyCase, type Outcome } from '../corpus/run-verifier.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';

/** ORACLE_ONLY=forms/f07 runs only the cases whose name contains it (the §14 checks are then skipped). */
const ONLY = process.env.ORACLE_ONLY;
const corpus = loadCorpus().filter((c) => ONLY === undefined || c.name.includes(ONLY));
const POOL_SIZE = 3;
/** Served a second time under this prefix with the case's headers untouched (no charset pin). */
const UNPINNED = '/unpinned';

let server: StaticServer;
let browser: Browser;
let policy: Policy;
const outcomes = new Map<string, Outcome>();
const observations = new Map<string, BrowserObservation>();

beforeAll(async () => {
  server = await startStaticServer();
  policy = corpusPolicy(server.origin);
  for (const c of corpus) {
    const outcome = verifyCase(c, policy);
    outcomes.set(c.name, outcome);
    server.set(c.path, { status: c.status, headers: servedHeaders(c, outcome), body: c.bytes });
    server.set(UNPINNED + c.path, { status: c.status, headers: c.headers, body: c.bytes });
  }
  browser = await launchChromium();
  const jobs: (() => Promise<void>)[] = corpus.map((c) => async () => {
    observations.set(c.name, await probeCase(browser, server.origin + c.path, c.oracle));
  });
  for (const name of ['encoding/e06-meta-charset-after-1024-bytes', 'encoding/e03-iso-2022-jp-undeclared']) {
    const c = corpus.find((k) => k.name === name);
    if (c) jobs.push(async () => void observations.set(UNPINNED + name, await probeCase(browser, server.origin + UNPINNED + c.path, {})));
  }
  await runPool(jobs, POOL_SIZE);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * What the proxy sends: when the verifier fell back to the policy's default encoding it pins that
 * encoding in Content-Type (issue 3, "Decoding"), so the browser cannot pick another one. The
 * unpinned behaviour is checked separately below (open question E-03/E-06).
 */
function servedHeaders(c: CorpusCase, outcome: Outcome): readonly (readonly [string, string])[] {
  if (!('verified' in outcome) || outcome.verified.encodingSource !== 'default') return c.headers;
  const pinned = `text/html; charset=${outcome.verified.encoding}`;
  return [...c.headers.filter(([name]) => name !== 'content-type'), ['content-type', pinned]];
}

async function runPool(jobs: readonly (() => Promise<void>)[], size: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (job) await job();
    }
  };
  await Promise.all(Array.from({ length: size }, worker));
}

function observed(name: string): BrowserObservation {
  const seen = observations.get(name);
  if (!seen) throw new Error(`no Chromium observation for ${name}`);
  return seen;
}

describe.each(corpus.map((c) => [c.name, c] as const))('oracle %s', (name, c) => {
  it('Chromium does what the case says it does', () => {
    expect(checkInstructions(c, observed(name), server.origin), `${name}: the case's claims about Chromium`).toEqual([]);
  });

  it('the verifier sees everything Chromium made live or requested', () => {
    const outcome = outcomes.get(name);
    if (!outcome || 'refused' in outcome) return; // refused = blocked whole: nothing reaches the browser
    const judged = { verified: outcome.verified, policy, mode: compilePolicy(policy).route(c.path).mode };
    const generated = (c.oracle.generatedByCode ?? []).map((u) => u.split(SITE_TOKEN).join(server.origin));
    expect(browserSawMore(observed(name), judged, generated), `${name}: Chromium saw more than the verifier`).toEqual([]);
  });
});

/** evasion-vectors.md §14: the questions the research could not answer without a browser. */
describe.skipIf(ONLY !== undefined)('open questions from evasion-vectors §14, asked of Chromium', () => {
  it('P-01: relaxed <select> parsing is live: an iframe inside <select> loads, an img onerror inside it runs', () => {
    expect(observed('parser/p01-select-iframe').requests.some((r) => r.url === 'https://evil.example/pay' && r.type === 'Document')).toBe(true);
    expect(observed('parser/p01-select-img-onerror').code.map((x) => x.source)).toContain("document.body.dataset.sel='1'");
  });

  it('P-01/P-02: <select><svg></p><style><a id="</style><img onerror>"> runs the handler', () => {
    expect(observed('parser/p02-select-svg-p-style').code.map((x) => x.source)).toContain("document.body.dataset.sx='1'");
  });

  it('P-01: a <button formaction> inside <select> is a live element with its formaction', () => {
    const targets = observed('parser/p01-select-button-formaction').targets;
    expect(targets).toContainEqual(expect.objectContaining({ kind: 'formaction', url: 'https://evil.example/collect' }));
  });

  it('P-03: a parser-inserted script inside a declarative shadow root runs (its src is fetched)', () => {
    expect(observed('parser/p03-dsd-script').requests.some((r) => r.url === 'https://evil.example/skim.js' && r.type === 'Script')).toBe(true);
  });

  it('P-03: a form in a closed declarative shadow root is live', () => {
    const targets = observed('parser/p03-dsd-form-closed').targets;
    expect(targets).toContainEqual(expect.objectContaining({ kind: 'form', url: 'https://evil.example/collect', root: 'closed' }));
  });

  it('P-10: behind 600 nested <div>s, an <img onerror> inside a <template> runs (the depth cap re-parents it)', () => {
    expect(observed('parser/p10-depth-600-template').code.map((x) => x.source)).toContain("document.body.dataset.deep='1'");
  });

  it('E-03: with no charset declared, Chromium does not auto-detect ISO-2022-JP for the quote-swallowing bytes', () => {
    const seen = observed(UNPINNED + 'encoding/e03-iso-2022-jp-undeclared');
    expect(seen.characterSet.toLowerCase()).not.toBe('iso-2022-jp');
    expect(seen.targets.filter((t) => t.url.startsWith('https://evil.example'))).toEqual([]);
  });

  it('E-06: unpinned, Chromium honours a <meta charset> beyond the 1024-byte prescan window (so the charset must be pinned)', () => {
    const unpinned = observed(UNPINNED + 'encoding/e06-meta-charset-after-1024-bytes');
    expect(unpinned.characterSet).toBe('ISO-2022-JP');
    expect(unpinned.targets).toContainEqual(expect.objectContaining({ kind: 'form', url: 'https://evil.example/collect' }));
    const pinned = observed('encoding/e06-meta-charset-after-1024-bytes');
    expect(pinned.targets.filter((t) => t.url.startsWith('https://evil.example'))).toEqual([]);
  });

  it('E-06: a <meta charset> inside <body> (within 1024 bytes) is honoured too', () => {
    expect(observed('encoding/e06-meta-charset-in-body').characterSet).toBe('ISO-2022-JP');
  });

  it('F-03: a whitespace-only action posts to the document URL, "&#1;" to the (foreign) base URL', () => {
    expect(observed('forms/f03-whitespace-action-foreign-base').submission?.url).toBe(`${server.origin}/checkout/f03-whitespace-action-foreign-base`);
    expect(observed('forms/f03-control-char-action-foreign-base').submission?.url).toBe('https://evil.example/');
  });

  it('F-05: implicit submission (Enter) uses the first submit button in tree order, even one moved off-screen', () => {
    expect(observed('forms/f05-hidden-default-button').submission?.url).toBe('https://evil.example/collect');
  });
});
