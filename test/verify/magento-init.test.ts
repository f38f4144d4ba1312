/**
 * Magento's loader data as data (issue 18 item 2; docs/vectors.md S-18). `text/x-magento-init`
 * blocks and `data-mage-init` attributes are JSON Magento's code parses and never evaluates, so a
 * real checkout, whose blocks carry per-request values, verifies clean without a hash per block;
 * what the JSON asks RequireJS to load, and the strings Magento evaluates, are judged instead.
 * Every spelling of a foreign component, in every place Magento loads one from and every JSON
 * escaping, is caught, on both parser paths, and a rewrite route neutralises it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/pages/random.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import type { Policy, RouteMode } from '../../src/policy/model.js';
import { isPropertyPathTemplate, moduleIdReadings, readMagentoInit } from '../../src/verify/finders/magento-init.js';
import { cspHashes, rewriteDocument, verifyDocument } from '../../src/verify/index.js';
import type { Finding, VerifiedDocument } from '../../src/verify/types.js';
import { bothPaths, htmlPage } from './fast-compare.js';
import { ESCAPINGS, magentoCheckout, POSITIONS, SPELLINGS, type Expected } from './magento-pages.js';
import { htmlInput, SITE, testPolicy, verifyHtml, withInline } from './policy.js';

const summary = (findings: readonly Finding[]) => findings.map((f) => `${f.kind}:${f.allowed ? 'ok' : f.reason}${f.url ? ` ${f.url}` : ''}`);

/** A release manifest that lists one same-site script, so the site's other paths are nobody's release. */
const MANIFEST_POLICY: Policy = parsePolicyText(
  `schema: 1\nserial: 1\nsite: ${SITE}\nroutes:\n  - { path: /checkout/**, mode: block }\nallow: {}\n` +
    `firstParty:\n  base: [/static/]\n  scripts:\n    /x.js: sha384-${'A'.repeat(64)}\n`,
  'policy.yaml',
);

function verify(html: string, options: { policy?: Policy; mode?: RouteMode } = {}): VerifiedDocument {
  return verifyDocument(htmlInput(html, options));
}

describe('how RequireJS reads a dependency name (require.js req.jsExtRegExp, splitPrefix)', () => {
  it.each([
    'Magento_Ui/js/core/app', 'mage/url', 'checkoutLoader', 'jquery/jquery.cookie', 'Magento_Checkout/js/view/payment', 'uiComponent',
    '../lib/x', 'x.JS', 'domReady!', 'text!Magento_Checkout/template/onepage.html',
  ])('%s is a module id under the static base', (name) => {
    expect(moduleIdReadings(name).every((r) => r.as === 'module')).toBe(true);
  });

  it.each([
    ['https://evil.example/x.js', 'https://evil.example/x.js'],
    ['//evil.example/x', '//evil.example/x'],
    ['/x', '/x'],
    ['x.js', 'x.js'],
    ['a:b', 'a:b'],
    ['x?y', 'x?y'],
    ['https://evil.example/p.js!mage/url', 'https://evil.example/p.js'],
    ['text!//evil.example/t.html', '//evil.example/t.html'],
  ])('%s is a URL (%s)', (name, address) => {
    expect(moduleIdReadings(name)).toContainEqual({ as: 'url', address });
  });

  it.each([' //evil.example/x', 'mage/url ', 'a\\b', 'a b', 'mage//url', '!x', 'mage/%2e', 'モジュール', '#x', 'a{b}'])('%j is unreadable', (name) => {
    expect(moduleIdReadings(name)).toContainEqual({ as: 'unreadable' });
  });

  it('an empty name loads nothing', () => {
    expect(moduleIdReadings('')).toEqual([]);
  });
});

describe('uiElement templates (mage/utils/template.js evaluates `${…}` with eval)', () => {
  it.each([
    '${ $.provider }:${ $.parentScope }.country_id',
    '${ $.provider }:data.reset',
    '${ $.ns }.${ $.ns }.comment_details.select_post',
    '${$.name}_input',
    'price: ${ $.$data.x }',
    'no template at all',
  ])('%s reads properties only', (value) => {
    expect(isPropertyPathTemplate(value)).toBe(true);
  });

  it.each([
    '${ alert(1) }',
    '${ $.a() }',
    '${ $["constructor"] }',
    '${ $.x }`+alert(1)+`',
    '\\${ $.x }',
    // Pieces that assemble a new `${…}` on the next round of rendering.
    '${ $.a }${ $.b }',
    '$${ $.b }',
    '${ $.a }{alert(1)}',
    '${ $.a ',
    '${ $.a + 1 }',
  ])('%s is code', (value) => {
    expect(isPropertyPathTemplate(value)).toBe(false);
  });
});

describe('the shape Magento reads', () => {
  it('components of every selector, mixins, and uiComponent `component`s at any depth, in document order', () => {
    const reading = readMagentoInit(
      { '*': { a: { mixins: ['m1', 'm2'] } }, '#x': { b: { components: { c: { component: 'c1', config: { component: 'c2' }, children: { d: { component: 'c3' } } } } } } },
      'selectors',
    );
    expect(reading.dependencies.map((d) => d.name)).toEqual(['a', 'm1', 'm2', 'b', 'c1', 'c2', 'c3']);
  });

  it('scripts.js concatenates a single mixin into a list: a string is a name too; anything else is unreadable', () => {
    expect(readMagentoInit({ a: { mixins: 'm' } }, 'components').dependencies).toEqual([{ name: 'a', readable: true }, { name: 'm', readable: true }]);
    expect(readMagentoInit({ a: { mixins: [1, null] } }, 'components').dependencies.filter((d) => !d.readable).map((d) => d.name)).toEqual(['1', 'null']);
  });

  it.each([
    [[{ '*': {} }], 'selectors'],
    ['x', 'selectors'],
    [{ '*': 'Magento_Ui/js/core/app' }, 'selectors'],
    [{ '*': ['https://evil.example/x.js'] }, 'selectors'],
    [null, 'components'],
    [['https://evil.example/x.js'], 'components'],
  ] as const)('%j is not shaped as %s', (json, level) => {
    expect(readMagentoInit(json, level).shapeProblem).toBeDefined();
  });
});

describe('a real checkout is clean (S-18: no hash per block)', () => {
  it('whatever its per-request values (form key, quote and customer ids, static version, cookie domain)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const html = magentoCheckout(seededRandom(seed));
        const v = verify(html);
        expect(summary(v.violations), html).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('it names no component at all: every one is a bare module id', () => {
    const v = verify(magentoCheckout(seededRandom(1)));
    expect(v.findings.filter((f) => f.kind === 'component' || f.kind === 'config-code' || f.kind === 'data-block')).toEqual([]);
  });

  it('and takes the fast path, with the full path’s findings', () => {
    const paths = bothPaths(htmlPage('magento checkout', magentoCheckout(seededRandom(7))));
    expect(paths.bail).toBeUndefined();
    expect(paths.auto).toEqual(paths.full);
  });

  it('under a release manifest too (bare ids are judged when the page loads them, not in the markup)', () => {
    // That policy names no other origin, so the gateway and image URLs the page carries are its only violations.
    const v = verify(magentoCheckout(seededRandom(3)), { policy: MANIFEST_POLICY });
    expect(summary(v.violations.filter((f) => f.kind !== 'carried-url'))).toEqual([]);
  });
});

/** Every spelling in every position and every escaping (the class, closed). */
const VARIANTS = SPELLINGS.flatMap((spelling) =>
  POSITIONS.flatMap((position) =>
    ESCAPINGS.map((escaping) => ({
      label: `${JSON.stringify(spelling.name)} · ${position.label} · ${escaping.label}`,
      markup: position.markup(escaping.write(spelling.name)),
      expect: spelling.expect,
    })),
  ),
);

function componentFindings(v: VerifiedDocument): Finding[] {
  return v.findings.filter((f) => f.kind === 'component');
}

function expectCaught(v: VerifiedDocument, expected: Expected, label: string): void {
  const found = componentFindings(v);
  if (expected.reason === 'unreadable-component') {
    expect(found.map((f) => f.reason), label).toContain('unreadable-component');
    return;
  }
  if (expected.reason === 'same-site') {
    expect(found.map((f) => [f.url, f.allowed]), label).toContainEqual([expected.url, true]);
    return;
  }
  expect(found.filter((f) => !f.allowed).map((f) => [f.reason, f.url]), label).toContainEqual([expected.reason, expected.url]);
}

describe('every spelling of a component, in every place Magento loads one from, is judged', () => {
  it(`${VARIANTS.length} variants inserted into the checkout: each caught (a same-site URL allowed as the site's)`, () => {
    const page = magentoCheckout(seededRandom(11), {});
    for (const variant of VARIANTS) {
      const html = page.replace('</body>', `${variant.markup}\n</body>`);
      expectCaught(verify(html), variant.expect, variant.label);
    }
  });

  it('a same-site URL is judged by the release manifest: listed is allowed, anything else is nobody’s release', () => {
    const listed = verify('<script type="text/x-magento-init">{"*": {"/x.js": {}}}</script>', { policy: MANIFEST_POLICY });
    expect(summary(listed.findings)).toEqual([`component:ok ${SITE}/x.js`]);
    for (const variant of VARIANTS.filter((v) => v.expect.reason === 'same-site' && v.expect.url !== `${SITE}/x.js`)) {
      const v = verify(variant.markup, { policy: MANIFEST_POLICY });
      expect(summary(v.violations), variant.label).toContain(`component:unlisted-first-party-script ${(variant.expect as { url: string }).url}`);
    }
  });

  it('an allowed script origin is allowed as a component URL (the finding names the entry)', () => {
    const v = verify('<script type="text/x-magento-init">{"*": {"https://js.gateway.example/v3.js": {}}}</script>');
    expect(v.violations).toEqual([]);
    expect(v.findings[0]).toMatchObject({ kind: 'component', allowed: true, entry: { why: 'gateway tokenisation library' } });
  });

  it('never reports clean when a foreign component is inserted where Magento loads it, on either parser path', () => {
    const foreign = SPELLINGS.filter((s) => s.expect.reason !== 'same-site');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom(...foreign),
        fc.constantFrom(...POSITIONS),
        fc.constantFrom(...ESCAPINGS),
        fc.constantFrom('head', 'body'),
        (seed, spelling, position, escaping, where) => {
          const markup = position.markup(escaping.write(spelling.name));
          const html = magentoCheckout(seededRandom(seed), where === 'head' && !markup.startsWith('<script') ? { body: markup } : { [where]: markup });
          const v = verify(html);
          expect(v.violations.length).toBeGreaterThan(0);
          expectCaught(v, spelling.expect, `${spelling.name} ${position.label} ${escaping.label}`);
          const paths = bothPaths(htmlPage('variant', html));
          expect(paths.auto).toEqual(paths.full);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a rewrite route neutralises every variant: the rewritten page verifies clean', () => {
    for (const variant of VARIANTS.filter((v) => v.expect.reason !== 'same-site')) {
      const input = htmlInput(`<!doctype html><body>${variant.markup}<p>ok</p>`, { mode: 'rewrite' });
      const verified = verifyDocument(input);
      expect(verified.violations.length, variant.label).toBeGreaterThan(0);
      const rewritten = rewriteDocument(input, verified, { sinkPath: '/_payguard/sink' });
      expect(summary(rewritten.verified.violations), variant.label).toEqual([]);
    }
  });

  it('an SVG <script type="text/x-magento-init"> (Magento’s selector matches it) is read the same way', async () => {
    const v = await verifyHtml('<svg><script type="text/x-magento-init">{"*": {"//evil.example/x": {}}}</script></svg>');
    expect(summary(v.violations)).toEqual(['component:foreign-script https://evil.example/x']);
  });

  it('a MathML <script type="text/x-magento-init"> is a block too: Magento’s type selector names no namespace', async () => {
    const v = await verifyHtml('<math><script type="text/x-magento-init">{"*": {"https://evil.example/x.js": {}}}</script></math>');
    expect(v.violations.map((f) => [f.kind, f.element, f.reason, f.url])).toEqual([['component', 'math:script', 'foreign-script', 'https://evil.example/x.js']]);
    // Other MathML script types do nothing anywhere: not judged.
    expect((await verifyHtml('<math><script>alert(1)</script></math>')).findings).toEqual([]);
  });

  it('an SVG block with an element inside is refused: Magento reads its textContent, the parser gives it children', async () => {
    // textContent here is {"*":{"mage/url":{},"//evil.example/x":{}}}; the text children alone are clean JSON.
    const v = await verifyHtml('<svg><script type="text/x-magento-init">{"*":{"mage/url":{}<a>,"//evil.example/x":{}</a>}}</script></svg>');
    expect(summary(v.violations)).toEqual(['data-block:invalid-data-block']);
  });
});

describe('data, and what is not data', () => {
  it('invalid JSON is invalid-data-block, on a block and on an attribute', async () => {
    const v = await verifyHtml('<script type="text/x-magento-init">{"*": {"mage/url": {}}</script><div data-mage-init="{checkoutLoader: {}}"></div>');
    expect(summary(v.violations)).toEqual(['data-block:invalid-data-block', 'data-block:invalid-data-block']);
    expect(v.violations[1]).toMatchObject({ element: 'div', attribute: 'data-mage-init' });
  });

  it('JSON not shaped as Magento reads it is invalid-data-block', async () => {
    const v = await verifyHtml('<script type="text/x-magento-init">[{"*": {}}]</script><script type="text/x-magento-init">{"*": "mage/url"}</script>');
    expect(summary(v.violations)).toEqual(['data-block:invalid-data-block', 'data-block:invalid-data-block']);
  });

  it('an empty block asks for nothing', async () => {
    expect((await verifyHtml('<script type="text/x-magento-init">\n</script>')).findings).toEqual([]);
  });

  it('a URL carried in a config is judged by the carried-URL rules, JSON escapes decoded (issue 17 class 4)', async () => {
    const block = (url: string) => `<script type="text/x-magento-init">{"*": {"mage/redirect-url": {"url": ${url}}}}</script>`;
    const v = await verifyHtml(block('"https:\\/\\/evil.example\\/pay"') + block('"\\u0068ttps://evil.example/pay2"') + `<div data-mage-init='{"redirectUrl": {"url": "https:\\/\\/evil.example\\/pay3"}}'></div>`);
    expect(summary(v.violations)).toEqual([
      'carried-url:unlisted-url https://evil.example/pay',
      'carried-url:unlisted-url https://evil.example/pay2',
      'carried-url:unlisted-url https://evil.example/pay3',
    ]);
    // The gateway the policy names, and the site itself, are no new destination.
    const clean = await verifyHtml(block('"https:\\/\\/pay.gateway.example\\/charge"') + block(`"${SITE}/checkout/cart/"`));
    expect(clean.violations).toEqual([]);
  });

  it('a uiComponent template that is code is inline code: allowed by its hash, listed in report mode', async () => {
    const code = '${ alert(document.cookie) }';
    const html = `<script type="text/x-magento-init">{"#checkout": {"Magento_Ui/js/core/app": {"components": {"x": {"component": "uiComponent", "label": ${JSON.stringify(code)}}}}}}</script>`;
    const blocked = await verifyHtml(html);
    expect(summary(blocked.violations)).toEqual(['config-code:inline-code']);
    expect(blocked.violations[0]!.hashes).toEqual(cspHashes(code));
    const allowed = await verifyHtml(html, { policy: withInline(testPolicy(), [{ type: 'hash', hash: cspHashes(code)[0]!, why: 'vendor widget label' }]) });
    expect(allowed.violations).toEqual([]);
    const reported = await verifyHtml(html, { mode: 'report' });
    expect(reported.violations).toEqual([]);
    expect(reported.findings.map((f) => [f.kind, f.allowed, f.hashes?.length])).toContainEqual(['config-code', true, 3]);
  });

  it('template keys, assembled templates and underscore templates are code too', async () => {
    const v = await verifyHtml(
      `<script type="text/x-magento-init">{"*": {"Magento_Ui/js/core/app": {"components": {"x": {"listens": {"\${ alert(1) }": "x"}, "a": "$", "b": "{alert(2)}", "c": "\${ $.a }\${ $.b }"}}}}}</script>` +
        `<div data-mage-init='{"priceBox": {"priceTemplate": "<span><%= alert(3) %></span>"}}'></div>`,
    );
    expect(v.violations.map((f) => [f.kind, f.reason, f.raw])).toEqual([
      ['config-code', 'inline-code', '${ alert(1) }'],
      ['config-code', 'inline-code', '${ $.a }${ $.b }'],
      ['config-code', 'inline-code', '<span><%= alert(3) %></span>'],
    ]);
  });

  it('a src on a Magento block is still judged as a script URL (regression: S-02 page)', async () => {
    const v = await verifyHtml('<script type="text/x-magento-init" src=//evil.example/g.js>{"*": {"mage/url": {}}}</script>');
    expect(summary(v.violations)).toEqual(['script:foreign-script https://evil.example/g.js']);
  });

  it('a block no longer needs a hash: the same block with a changed form key stays clean (before: inline-code)', async () => {
    for (const formKey of ['a1B2c3D4e5F6g7H8', 'ZZZZZZZZZZZZZZZZ']) {
      const v = await verifyHtml(`<script type="text/x-magento-init">{"*": {"Magento_PageCache/js/form-key-provider": {"formKey": "${formKey}"}}}</script>`);
      expect(v.findings).toEqual([]);
    }
  });
});
