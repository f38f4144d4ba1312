/**
 * Issue 10, first bullet: verification terminates within a bounded time per KB. Measured as work,
 * not time (verify/work.ts): a page built from N copies of a pathological unit, and the same page
 * with 4N copies, must cost at most about 4 times as much in every counted loop. A quadratic loop
 * (every finding × every <base>, every attribute × every re-read of its tag, nested re-parses)
 * shows up as a ratio near 16.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyDocument } from '../../src/verify/index.js';
import { anyConstruct } from './verify/mutators.js';
import { POLICY, utf8Input } from './verify/policy.js';
import { PROPERTY_TIMEOUT_MS, propertyParameters } from './verify/run.js';
import { countWork, totalWork, type Work } from './verify/work.js';

const PREFIX = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Checkout</title></head><body><h1>Checkout</h1>\n';
const SUFFIX = '\n</body></html>\n';

/** Units whose cost could plausibly grow faster than their size (evasion-vectors §1.4, P-01, P-05, P-10). */
const PATHOLOGICAL_UNITS: readonly [string, (i: number) => string][] = [
  ['distinct <base> × relative scripts', (i) => `<base href="/b${i}/"><script src="s${i}.js"></script>\n`],
  ['distinct <base> × relative forms', (i) => `<base href="https://shop.example/b${i}/"><form action="p${i}"></form>\n`],
  ['handlers in one start tag', (i) => ` on${i}x="a${i}()"`],
  ['foreign formactions in one start tag', (i) => ` formaction="//evil${i}.example/"`],
  ['ping URLs in one attribute', (i) => ` //p${i}.example/`],
  ['relaxed select triggers', (i) => `<select><div><button formaction="//e${i}.example/">x</button></div></select>\n`],
  ['unclosed selects', (i) => `<select><p>${i}`],
  ['noscript readings', (i) => `<noscript><form action="//n${i}.example/"></form></noscript>\n`],
  ['srcdoc documents', (i) => `<iframe srcdoc="&lt;script src=//s${i}.example/&gt;&lt;/script&gt;"></iframe>\n`],
  ['shadow roots', (i) => `<div><template shadowrootmode=open><form action="//t${i}.example/"></form></template></div>\n`],
  ['misnested formatting (adoption agency)', (i) => `<a href=/${i}><b><i><p>x</a>`],
  ['open formatting elements', (i) => `<b><i><u><s>${i}`],
  ['inline scripts', (i) => `<script>var a${i}=1</script>\n`],
  ['many attributes in one tag', (i) => ` a${i}="x"`],
  ['import map addresses', (i) => `<script type=importmap>{"imports":{"m${i}":"//im${i}.example/m.js"}}</script>\n`],
  ['meta refreshes', (i) => `<meta http-equiv=refresh content="0;url=//r${i}.example/">\n`],
  ['table foster parenting', (i) => `<table><tr><td>${i}</td></tr><form action=//f${i}.example/><input></table>\n`],
  ['svg animations', (i) => `<svg><set attributeName=href to="javascript:${i}"/><animate attributeName=onclick values="a${i}"/></svg>\n`],
  ['nested templates', () => '<template>'],
  ['nested noscript', () => '<noscript><p>'],
  ['character references', (i) => `&#x${(i % 0xffff).toString(16)};&amp;&lt;&notin;`],
];

/** Units that live inside one start tag or one attribute need that tag around them. */
const ATTRIBUTE_UNITS: Readonly<Record<string, [string, string]>> = {
  'handlers in one start tag': ['<div', '>x</div>'],
  'many attributes in one tag': ['<div', '>x</div>'],
  'foreign formactions in one start tag': ['<button', '>x</button>'],
  'ping URLs in one attribute': ['<a href=/h ping="', '">x</a>'],
};

function pageOf(name: string, unit: (i: number) => string, copies: number): string {
  const [open, close] = ATTRIBUTE_UNITS[name] ?? ['', ''];
  let body = '';
  for (let i = 0; i < copies; i++) body += unit(i);
  return PREFIX + open + body + close + SUFFIX;
}

/** The number of copies that makes a page of about `bytes`. */
function copiesFor(unit: (i: number) => string, bytes: number): number {
  return Math.max(1, Math.round(bytes / unit(500).length));
}

/** Both paths: the default (the fast scanner when it can prove the page unambiguous) and parse5 alone. */
type Path = 'default' | 'full';

function workFor(html: string, path: Path): Work {
  return countWork(POLICY, (policy) => verifyDocument({ ...utf8Input(html), policy }, path === 'full' ? { parser: 'full' } : {})).work;
}

/** Linear work: 4× the copies costs at most 5× (fixed costs make the ratio smaller, never larger). */
const MAX_RATIO = 5;

function ratios(small: Work, large: Work): Record<keyof Work | 'total', number> {
  const r = (a: number, b: number): number => (a < 50 ? Math.min(b / 50, b / Math.max(a, 1)) : b / a);
  return {
    tokenizedChars: r(small.tokenizedChars, large.tokenizedChars),
    elements: r(small.elements, large.elements),
    fastTokens: r(small.fastTokens, large.fastTokens),
    searchedChars: r(small.searchedChars, large.searchedChars),
    urlParses: r(small.urlParses, large.urlParses),
    policyLookups: r(small.policyLookups, large.policyLookups),
    total: r(totalWork(small), totalWork(large)),
  };
}

function expectLinear(name: string, unit: (i: number) => string, smallBytes: number): void {
  const copies = copiesFor(unit, smallBytes);
  for (const path of ['default', 'full'] as const) {
    const small = workFor(pageOf(name, unit, copies), path);
    const large = workFor(pageOf(name, unit, copies * 4), path);
    const worst = Math.max(...Object.values(ratios(small, large)));
    expect(worst, `${name} (${path} path): ${copies} → ${copies * 4} copies, work ${JSON.stringify(small)} → ${JSON.stringify(large)}`).toBeLessThanOrEqual(MAX_RATIO);
  }
}

describe('verifier properties: work per KB', () => {
  it('counts work at all (the counters see parse5, the fast scanner, URL parses and policy look-ups)', () => {
    const page = pageOf('x', (i) => `<script src="//e${i}.example/"></script>`, 10);
    const full = workFor(page, 'full');
    expect(full.tokenizedChars).toBeGreaterThan(PREFIX.length);
    expect(full.elements).toBeGreaterThanOrEqual(10);
    expect(full.urlParses).toBeGreaterThanOrEqual(10);
    expect(full.policyLookups).toBeGreaterThanOrEqual(10);
    const fast = workFor(page, 'default');
    expect(fast.tokenizedChars + fast.fastTokens).toBeGreaterThanOrEqual(20);
  });

  for (const [name, unit] of PATHOLOGICAL_UNITS) {
    it(`verification terminates within a bounded time per KB: work is linear in the page size for ${name}`, () => {
      expectLinear(name, unit, 8 * 1024);
    });
  }

  it('verification terminates within a bounded time per KB: work is linear for random repeated units', () => {
    fc.assert(
      fc.property(anyConstruct, (construct) => {
        fc.pre(construct.markup.length > 0);
        expectLinear(`random unit ${JSON.stringify(construct.markup.slice(0, 200))}`, () => construct.markup, 8 * 1024);
      }),
      propertyParameters('linear work for random units', 40),
    );
  }, PROPERTY_TIMEOUT_MS);
});
