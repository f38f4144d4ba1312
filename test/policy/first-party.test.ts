/**
 * The release manifest (`firstParty`, issue 17 class 3): its format and errors (file, line, column,
 * field), the lookup that every stage shares (src/policy/first-party.ts) over generated spellings of
 * a path, and the script-src it gives the CSP. In each failing case `▶` marks where the error must
 * point, as in parse.test.ts.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { withSlashDotQueryFragment } from '../helpers/path-spellings.js';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { draftPolicyYaml } from '../../src/inventory/draft.js';
import type { InventoryItem } from '../../src/inventory/inventory.js';
import { cspDirectives } from '../../src/policy/csp.js';
import { firstPartyKey, firstPartyRequest, firstPartyScript, firstPartyScriptSources } from '../../src/policy/first-party.js';
import { diffPolicies } from '../../src/policy/diff.js';
import { lintAllowlist } from '../../src/policy/lint-gadgets.js';
import { findPlaceholderHashes, findTodoJustifications } from '../../src/policy/lint.js';
import type { FirstPartyManifest, Policy } from '../../src/policy/model.js';
import { parsePolicyText } from '../../src/policy/parse.js';

const sri = (body: string): string => `sha384-${createHash('sha384').update(body).digest('base64')}`;
const APP = sri('app');
const VENDOR = sri('vendor');
const DATA = sri('{}');

const HEAD = 'schema: 1\nserial: 3\nsite: https://shop.example\nroutes:\n  - { path: /checkout/**, mode: block }\nallow: {}\n';
const MANIFEST = `firstParty:
  base: [/static/]
  scripts:
    /static/app.3f9a1c.js: ${APP}
    /static/Vendor.js: "${VENDOR}"
  data:
    /static/asset-manifest.json: ${DATA}
  generated:
    - { path: /api/settings.js, why: per-session settings the shop renders }
`;

function parse(text: string): Policy {
  return parsePolicyText(text, 'policy.yaml');
}

const MARK = '▶';

function expectErrorAtMark(text: string, field: string, message: RegExp): void {
  const at = text.indexOf(MARK);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  let caught: unknown;
  try {
    parse(text.replace(MARK, ''));
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PolicyError);
  const error = caught as PolicyError;
  expect({ line: error.line, column: error.column, field: error.field }).toEqual({ line, column, field });
  expect(error.message).toMatch(message);
}

describe('the firstParty manifest in a policy', () => {
  it('parses into lookup keys, keeping each path as written', () => {
    const manifest = parse(HEAD + MANIFEST).firstParty!;
    expect(manifest.base).toEqual([{ path: '/static/', key: '/static/' }]);
    expect(manifest.scripts['/static/vendor.js']).toEqual({ path: '/static/Vendor.js', integrity: [VENDOR] });
    expect(manifest.scripts['/static/app.3f9a1c.js']!.integrity).toEqual([APP]);
    expect(manifest.data['/static/asset-manifest.json']!.path).toBe('/static/asset-manifest.json');
    expect(manifest.generated['/api/settings.js']).toEqual({ path: '/api/settings.js', why: 'per-session settings the shop renders' });
  });

  it('is optional: a policy without it has none (every same-origin script allowed, as before)', () => {
    expect(parse(HEAD).firstParty).toBeUndefined();
  });

  it('reads the same from JSON', () => {
    const json = JSON.stringify({
      schema: 1, serial: 1, site: 'https://shop.example', routes: [{ path: '/**', mode: 'block' }], allow: {},
      firstParty: { scripts: { '/static/app.js': APP } },
    });
    expect(parsePolicyText(json, 'policy.json').firstParty!.scripts['/static/app.js']!.integrity).toEqual([APP]);
  });

  it.each([
    ['a path without its leading slash', `firstParty:\n  scripts:\n    ${MARK}static/app.js: ${APP}\n`, 'firstParty.scripts.static/app.js', /starts with a single "\/"/],
    ['a scheme-relative path', `firstParty:\n  scripts:\n    ${MARK}//cdn.example/app.js: ${APP}\n`, 'firstParty.scripts.//cdn.example/app.js', /single "\/"/],
    ['a query', `firstParty:\n  scripts:\n    ${MARK}/static/app.js?v=3: ${APP}\n`, 'firstParty.scripts./static/app.js?v=3', /query and fragment are ignored/],
    ['path parameters', `firstParty:\n  scripts:\n    ${MARK}/static/app.js;v=3: ${APP}\n`, 'firstParty.scripts./static/app.js;v=3', /path parameters/],
    ['dot segments', `firstParty:\n  scripts:\n    ${MARK}/static/../app.js: ${APP}\n`, 'firstParty.scripts./static/../app.js', /sends this path as "\/app.js"/],
    ['a space', `firstParty:\n  scripts:\n    ${MARK}/static/my app.js: ${APP}\n`, 'firstParty.scripts./static/my app.js', /sends this path as "\/static\/my%20app.js"/],
    ['an encoded slash', `firstParty:\n  scripts:\n    ${MARK}/static/a%2Fb.js: ${APP}\n`, 'firstParty.scripts./static/a%2Fb.js', /encoded slash/],
    ["payguard's own path", `firstParty:\n  scripts:\n    ${MARK}/.well-known/payguard/x.js: ${APP}\n`, 'firstParty.scripts./.well-known/payguard/x.js', /payguard's own/],
    ['two spellings of one file', `firstParty:\n  scripts:\n    /static/app.js: ${APP}\n  data:\n    ${MARK}/STATIC/App.js: ${APP}\n`, 'firstParty.data./STATIC/App.js', /names the same file as "\/static\/app.js"/],
    ['a generated path that is also listed', `firstParty:\n  scripts:\n    /api/x.js: ${APP}\n  generated:\n    - path: ${MARK}/api/x.js\n      why: w\n`, 'firstParty.generated[0].path', /names the same file/],
    ['a base that is not a directory', `firstParty:\n  base: [${MARK}/static]\n  scripts:\n    /static/app.js: ${APP}\n`, 'firstParty.base[0]', /end it with "\/"/],
    ['a malformed integrity', `firstParty:\n  scripts:\n    /static/app.js: ${MARK}sha384-abc\n`, 'firstParty.scripts./static/app.js', /a sha384 digest is 48 bytes/],
    ['an unknown key', `firstParty:\n  scripts:\n    /static/app.js: ${APP}\n  ${MARK}script:\n    /static/app.js: ${APP}\n`, 'firstParty.script', /unknown key "script"; allowed here: base, scripts, data, generated/],
    ['an empty scripts mapping', `firstParty:\n  scripts: ${MARK}{}\n`, 'firstParty.scripts', /must not be an empty mapping/],
    ['a generated script without its why', `firstParty:\n  scripts:\n    /static/app.js: ${APP}\n  generated:\n    - ${MARK}{ path: /api/x.js }\n`, 'firstParty.generated[0].why', /"why" is required/],
  ])('refuses %s, naming the line, column and field', (_name, manifest, field, message) => {
    expectErrorAtMark(HEAD + manifest, field, message);
  });

  it('lets a draft parse with TODO and placeholders, which lint finds (so sign refuses them)', () => {
    const draft = parse(HEAD + `firstParty:\n  scripts:\n    /static/app.js: sha384-...\n  generated:\n    - { path: /api/x.js, why: TODO }\n`);
    expect(findPlaceholderHashes(draft)).toContain('firstParty.scripts./static/app.js');
    expect(findTodoJustifications(draft)).toContain('firstParty.generated[0].why');
  });
});

/** A manifest value for the lookup properties, through the real parser. */
const MANIFEST_POLICY = parse(HEAD + MANIFEST);
const manifest: FirstPartyManifest = MANIFEST_POLICY.firstParty!;
const LISTED = ['/static/app.3f9a1c.js', '/static/Vendor.js', '/static/asset-manifest.json'] as const;

/**
 * Spellings a browser, a client or a lenient upstream may use for one path (docs/vectors.md H-14):
 * a query, a fragment, case, percent-encoded unreserved characters, `;params`, doubled slashes and
 * dot segments. Each keeps the path naming the same file to a server that normalises as routers do.
 */
const SPELLING_CHOICES = fc.record({
  caseFlips: fc.array(fc.nat(), { maxLength: 4 }),
  encode: fc.array(fc.nat(), { maxLength: 3 }),
  param: fc.option(fc.stringMatching(/^[a-z0-9=]{1,6}$/), { nil: undefined }),
  paramSegment: fc.nat(),
  doubleSlash: fc.option(fc.nat(), { nil: undefined }),
  dotSegment: fc.option(fc.constantFrom('/./', '/x/../', '/%2e/', '/x/%2E%2E/'), { nil: undefined }),
  query: fc.option(fc.stringMatching(/^[a-z0-9=&%]{0,12}$/), { nil: undefined }),
  fragment: fc.option(fc.stringMatching(/^[a-z0-9]{0,8}$/), { nil: undefined }),
});
type SpellingChoices = typeof SPELLING_CHOICES extends fc.Arbitrary<infer T> ? T : never;

function spell(path: string, s: SpellingChoices): string {
  const chars = [...path.slice(1)];
  for (const flip of s.caseFlips) {
    const i = flip % chars.length;
    chars[i] = chars[i] === chars[i]!.toUpperCase() ? chars[i]!.toLowerCase() : chars[i]!.toUpperCase();
  }
  for (const e of s.encode) {
    const i = e % chars.length;
    if (/^[A-Za-z0-9._~-]$/.test(chars[i]!)) chars[i] = `%${chars[i]!.charCodeAt(0).toString(16).toUpperCase()}`;
  }
  let parts = chars.join('').split('/');
  if (s.param !== undefined) {
    const i = s.paramSegment % parts.length;
    parts = parts.map((p, j) => (j === i ? `${p};${s.param}` : p));
  }
  return withSlashDotQueryFragment('/' + parts.join('/'), s);
}

/** A path and one spelling of it. */
function spelt(paths: fc.Arbitrary<string>): fc.Arbitrary<[string, string]> {
  return fc.tuple(paths, SPELLING_CHOICES).map(([path, choices]): [string, string] => [path, spell(path, choices)]);
}

/** File names a release might produce and an intruder might add: hashed bundles, copies, chunks. */
const newCodeName = fc
  .tuple(fc.constantFrom('app', 'checkout', 'vendor', 'runtime', 'chunk'), fc.stringMatching(/^[0-9a-f]{4,10}$/), fc.constantFrom('.js', '.mjs', '.cjs', '.json', '.JS'))
  .map(([name, hash, ext]) => `/static/${name}.${hash}${ext}`)
  .filter((path) => !Object.hasOwn(manifest.scripts, firstPartyKey(path)) && !Object.hasOwn(manifest.data, firstPartyKey(path)));

describe('the manifest lookup (every stage asks it)', () => {
  it('finds a listed file whatever the spelling of its path (query, fragment, case, %-encoding, ;params, //, dot segments)', () => {
    fc.assert(
      fc.property(spelt(fc.constantFrom(...LISTED)), fc.constantFrom<'code' | 'other' | 'unknown'>('code', 'other', 'unknown'), ([path, spelt], use) => {
        const found = firstPartyRequest(manifest, spelt, use);
        expect(found, spelt).toMatchObject({ kind: 'listed', file: { path } });
      }),
      { numRuns: 300 },
    );
  });

  it('never lets an unlisted code file under the base through, whatever requests it and however it is spelt', () => {
    fc.assert(
      fc.property(spelt(newCodeName), fc.constantFrom<'code' | 'other' | 'unknown'>('code', 'other', 'unknown'), ([, spelt], use) => {
        expect(firstPartyRequest(manifest, spelt, use)?.kind, spelt).toBe('unlisted');
        expect(firstPartyScript(manifest, new URL(spelt, 'https://shop.example').pathname), spelt).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any unlisted path requested as code, anywhere on the site, and leaves other requests alone', () => {
    expect(firstPartyRequest(manifest, '/uploads/logo.php', 'code')).toMatchObject({ kind: 'unlisted' });
    expect(firstPartyRequest(manifest, '/api/jsonp?callback=x', 'code')).toMatchObject({ kind: 'unlisted' });
    expect(firstPartyRequest(manifest, '/checkout', 'other')).toBeUndefined();
    expect(firstPartyRequest(manifest, '/api/cart.json', 'other')).toBeUndefined();
    expect(firstPartyRequest(manifest, '/api/cart.json', 'unknown')).toBeUndefined();
    expect(firstPartyRequest(manifest, '/static/logo.png', 'other')).toBeUndefined();
    expect(firstPartyRequest(manifest, '/static/app.3f9a1c.js.map', 'other')).toBeUndefined();
    // Path info: some servers answer /static/app.js/x with app.js.
    expect(firstPartyRequest(manifest, '/static/evil.js/x.png', 'other')).toMatchObject({ kind: 'unlisted' });
  });

  it('matches a generated script by its path whatever the query, but not through another reading of the path', () => {
    expect(firstPartyRequest(manifest, '/api/settings.js?session=abc', 'code')).toMatchObject({ kind: 'generated' });
    expect(firstPartyRequest(manifest, '/API/Settings.js', 'code')).toMatchObject({ kind: 'generated' });
    expect(firstPartyRequest(manifest, '/static/x.js/..%2f..%2fapi/settings.js', 'code')).toMatchObject({ kind: 'unlisted' });
    expect(firstPartyScript(manifest, '/api/settings.js')).toMatchObject({ why: 'per-session settings the shop renders' });
  });

  it('reads sub-delimiters as a static server does, but keeps the encoded separators and ";" apart', () => {
    expect(firstPartyKey('/static/a%28b%29%2B%2c%21.js')).toBe(firstPartyKey("/static/a(b)+,!.js"));
    expect(firstPartyKey('/static/a%3Bb.js')).not.toBe(firstPartyKey('/static/a;b.js'));
    expect(firstPartyKey('/static/a%2Fb.js')).not.toBe(firstPartyKey('/static/a/b.js'));
    expect(firstPartyKey('/static/a%25b.js')).not.toBe(firstPartyKey('/static/a%b.js'));
  });

  it("leaves payguard's own paths to payguard", () => {
    expect(firstPartyRequest(manifest, '/.well-known/payguard/csp-report', 'code')).toBeUndefined();
    expect(firstPartyScript(manifest, '/.well-known/payguard/guard.js')).toBeDefined();
  });

  it('refuses a path two of whose readings name two different listed files', () => {
    const nested = parse(HEAD + `firstParty:\n  scripts:\n    /static/app.js: ${APP}\n    /static/a/app.js: ${VENDOR}\n`).firstParty!;
    // Resolving the dot segment first gives /static/app.js; decoding %2F first gives /static/a/app.js.
    expect(firstPartyRequest(nested, '/static/a%2Fx/../app.js', 'code')).toMatchObject({ kind: 'unlisted' });
  });
});

describe('script-src under a manifest', () => {
  const reportUrl = 'https://shop.example/.well-known/payguard/csp-report';
  const scriptSrc = (policy: Policy): string[] => cspDirectives(policy, policy.routes[0], reportUrl).find((d) => d.startsWith('script-src '))!.split(' ').slice(1);

  it("lists the manifest's scripts and generated paths, not the site's whole origin", () => {
    const sources = scriptSrc(MANIFEST_POLICY);
    expect(sources).toContain('https://shop.example/static/app.3f9a1c.js');
    expect(sources).toContain('https://shop.example/static/Vendor.js');
    expect(sources).toContain('https://shop.example/api/settings.js');
    expect(sources).not.toContain('https://shop.example');
    expect(sources).not.toContain('https://shop.example/static/asset-manifest.json');
  });

  it('keeps the whole origin without a manifest (the weaker mode)', () => {
    expect(scriptSrc(parse(HEAD))).toContain('https://shop.example');
  });

  it('keeps site pins of allow.script beside the manifest', () => {
    const policy = parse(
      HEAD.replace('allow: {}\n', `allow:\n  script:\n    - { url: "https://shop.example/sw.js", integrity: "${APP}", why: worker }\n`) + MANIFEST,
    );
    expect(scriptSrc(policy)).toContain('https://shop.example/sw.js');
  });

  it('folds paths under a base into the base directory past the cap, and keeps paths outside every base', () => {
    const scripts = Array.from({ length: 120 }, (_, i) => `    /static/chunk-${i}.js: ${APP}`).join('\n');
    const policy = parse(HEAD + `firstParty:\n  base: [/static/]\n  scripts:\n${scripts}\n    /sw.js: ${APP}\n`);
    const sources = firstPartyScriptSources(policy, 100)!;
    expect(sources).toEqual(['https://shop.example/static/', 'https://shop.example/sw.js']);
    expect(firstPartyScriptSources(policy, 1000)!.length).toBe(121);
  });
});

describe('the risk of generated scripts, visible in review (payguard policy lint / diff)', () => {
  it('lint warns about every generated script, with its why', () => {
    const findings = lintAllowlist(MANIFEST_POLICY).filter((f) => f.field.startsWith('firstParty'));
    expect(findings).toEqual([
      { severity: 'warning', field: 'firstParty.generated[0]', message: expect.stringMatching(/\/api\/settings\.js is first-party code generated per request and served without integrity.*per-session settings the shop renders/) },
    ]);
  });

  it('diff calls out the loosenings of a manifest: removed, a base dropped, a script made generated', () => {
    const next = parse(HEAD + MANIFEST.replace('  base: [/static/]\n', '') + '    - { path: /api/cart.js, why: cart rendered per request }\n');
    const changes = diffPolicies(MANIFEST_POLICY, next).filter((c) => c.where.startsWith('firstParty'));
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ change: 'loosened', where: 'firstParty.base', subject: '/static/' }),
        expect.objectContaining({ change: 'loosened', where: 'firstParty.generated', subject: '/api/cart.js' }),
      ]),
    );
    expect(diffPolicies(MANIFEST_POLICY, parse(HEAD))).toContainEqual(expect.objectContaining({ change: 'loosened', where: 'firstParty' }));
    const rebuilt = parse(HEAD + MANIFEST.replace(APP, sri('app v2')));
    expect(diffPolicies(MANIFEST_POLICY, rebuilt)).toEqual([expect.objectContaining({ change: 'changed', where: 'firstParty.scripts', subject: '/static/app.3f9a1c.js' })]);
  });
});

describe('the inventory drafts a manifest from the shop scripts it saw', () => {
  const item = (address: string, self: boolean, sri: string | undefined): InventoryItem => ({
    list: 'script', kinds: ['script'], address, origin: new URL(address).origin, hashes: undefined, sri, pages: ['https://shop.example/checkout/'], self,
  });

  it('lists each same-origin script by path (no query) with the hash of the body fetched, a placeholder when it could not be fetched', () => {
    const draft = parse(draftPolicyYaml([
      item('https://shop.example/static/app.js?v=3', true, APP),
      item('https://shop.example/static/vendor.js', true, undefined),
      item('https://cdn.example/lib.js', false, VENDOR),
    ], 'https://shop.example', ['https://shop.example/checkout/']));
    expect(Object.values(draft.firstParty!.scripts)).toEqual([
      { path: '/static/app.js', integrity: [APP] },
      { path: '/static/vendor.js', integrity: ['sha384-...'] },
    ]);
    // The placeholder keeps `payguard sign` from signing the draft until someone pins the file.
    expect(findPlaceholderHashes(draft)).toContain('firstParty.scripts./static/vendor.js');
  });

  it('drafts none when the pages name no script of the site', () => {
    expect(parse(draftPolicyYaml([item('https://cdn.example/lib.js', false, VENDOR)], 'https://shop.example', [])).firstParty).toBeUndefined();
  });
});
