/**
 * `payguard pin DIR --base /static/` (issue 17, class 3): the release manifest of a build, through
 * the real CLI and in-process over generated build trees. The invariant: every file of the build
 * that a page can name is found, by the lookup the proxy and the verifier share, under the integrity
 * of its bytes as the browser's SRI check hashes them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pinDirectory } from '../../src/cli/commands/pin.js';
import { firstPartyRequest } from '../../src/policy/first-party.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { buildCliAsync, runPayguard } from '../helpers/cli.js';

const HEAD = 'schema: 1\nserial: 7\nsite: https://shop.example\nroutes:\n  - { path: /checkout/**, mode: block }\nallow: {}\n';
const sri = (bytes: Buffer | string, alg = 'sha384'): string => `${alg}-${createHash(alg).update(bytes).digest('base64')}`;

const dirs: string[] = [];
function buildDir(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'payguard-pin-'));
  dirs.push(dir);
  for (const [path, body] of Object.entries(files)) {
    const file = join(dir, ...path.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await buildCliAsync();
}, 600_000);

describe('payguard pin (the CLI)', () => {
  it('prints the firstParty section of a build: scripts and JSON by served path, other files left out', async () => {
    const dir = buildDir({
      'app.3f9a1c.js': 'app()',
      'chunks/checkout.mjs': 'export {}',
      'legacy.CJS': 'module.exports = 1',
      'asset-manifest.json': '{}',
      'app.3f9a1c.js.map': '{"version":3}',
      'site.css': 'body{}',
      'a b.js': 'spaced()',
      'ü.js': 'umlaut()',
    });
    const result = await runPayguard(['pin', dir, '--base', '/static/']);
    expect(result.code, result.stderr).toBe(0);
    const policy = parsePolicyText(HEAD + result.stdout, 'policy.yaml');
    const manifest = policy.firstParty!;
    expect(manifest.base.map((b) => b.path)).toEqual(['/static/']);
    expect(Object.values(manifest.scripts).map((f) => f.path).sort()).toEqual(['/static/%C3%BC.js', '/static/a%20b.js', '/static/app.3f9a1c.js', '/static/chunks/checkout.mjs', '/static/legacy.CJS']);
    expect(Object.values(manifest.data).map((f) => f.path)).toEqual(['/static/asset-manifest.json']);
    expect(manifest.scripts['/static/app.3f9a1c.js']!.integrity).toEqual([sri('app()')]);
    expect(result.stdout).not.toContain('.map');
    expect(result.stdout).not.toContain('site.css');
  });

  it('writes JSON with --out FILE.json and takes --algorithm', async () => {
    const dir = buildDir({ 'app.js': 'app()' });
    const out = join(dir, 'manifest.json');
    const result = await runPayguard(['pin', dir, '--base', '/assets/', '--algorithm', 'sha512', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { firstParty: Record<string, unknown> };
    // No JSON in the build: no `data` key (an empty mapping does not validate).
    expect(written.firstParty).toEqual({ base: ['/assets/'], scripts: { '/assets/app.js': sri('app()', 'sha512') } });
    expect(parsePolicyText(`${HEAD}firstParty: ${JSON.stringify(written.firstParty)}\n`, 'p.yaml').firstParty!.scripts['/assets/app.js']).toBeDefined();
  });

  it('puts the manifest into a policy in place: files under the base replaced, other bases and generated scripts kept, serial raised, comments kept', async () => {
    const dir = buildDir({ 'app.js': 'new release', 'config.json': '{"v":2}' });
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(
      policyFile,
      `${HEAD}# reviewed by the security team\nfirstParty:\n  base: [/static/]\n  scripts:\n    /static/old.js: ${sri('old')}\n    /vendor/lib.js: ${sri('lib')}\n  generated:\n    - { path: /api/settings.js, why: per-session settings }\n`,
    );
    const result = await runPayguard(['pin', dir, '--base', '/static/', '--policy', policyFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/serial raised to 8; sign it next/);
    const text = readFileSync(policyFile, 'utf8');
    expect(text).toContain('# reviewed by the security team');
    const policy = parsePolicyText(text, policyFile);
    expect(policy.serial).toBe(8);
    expect(Object.values(policy.firstParty!.scripts).map((f) => f.path).sort()).toEqual(['/static/app.js', '/vendor/lib.js']);
    expect(policy.firstParty!.data['/static/config.json']!.integrity).toEqual([sri('{"v":2}')]);
    expect(policy.firstParty!.generated['/api/settings.js']!.why).toBe('per-session settings');
  });

  it.each([
    ['no --base', ['pin', 'DIR'], 2, /--base is required/],
    ['a base that is not a directory', ['pin', 'DIR', '--base', '/static'], 2, /starting and ending with "\/"/],
    ['a base with a query', ['pin', 'DIR', '--base', '/static/?v=1/'], 2, /without query/],
    ['an unknown algorithm', ['pin', 'DIR', '--base', '/static/', '--algorithm', 'md5'], 2, /one of sha256, sha384, sha512/],
    ['--out and --policy together', ['pin', 'DIR', '--base', '/s/', '--out', 'a', '--policy', 'b'], 2, /not both/],
    ['a directory that does not exist', ['pin', '/nonexistent/build', '--base', '/static/'], 1, /nonexistent/],
    ['a directory without scripts', ['pin', 'EMPTY', '--base', '/static/'], 1, /no \.js, \.mjs or \.cjs file under it; is it the build output\?/],
  ])('refuses %s, saying what to do', async (_name, args, code, message) => {
    const dir = buildDir({ 'app.js': 'x' });
    const empty = buildDir({ 'data.json': '{}', 'logo.png': 'png' });
    const result = await runPayguard(args.map((a) => (a === 'DIR' ? dir : a === 'EMPTY' ? empty : a)));
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });

  it('refuses two files a case-folding server would serve as one, and a ";" in a name', async () => {
    const clash = await runPayguard(['pin', buildDir({ 'App.js': 'a', 'app.js': 'b' }), '--base', '/static/']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/same path to a server that ignores case; rename one/);
    const params = await runPayguard(['pin', buildDir({ 'app;v=1.js': 'a' }), '--base', '/static/']);
    expect(params.code).toBe(1);
    expect(params.stderr).toMatch(/cannot be pinned/);
  });

  it('does not follow symbolic links, and says so', async () => {
    const dir = buildDir({ 'app.js': 'app()' });
    const outside = buildDir({ 'secret.js': 'not part of the build' });
    symlinkSync(join(outside, 'secret.js'), join(dir, 'linked.js'));
    const result = await runPayguard(['pin', dir, '--base', '/static/']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('linked.js');
    expect(result.stderr).toMatch(/skipped .*linked\.js \(a symbolic link/);
  });
});

/** File names a build may hold: hashed bundles, nested chunks, and characters a URL must escape. */
const NAME = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9 _.~!$&'()+,=@%#?\u00e9\u4e2d-]{1,12}$/), fc.constantFrom('.js', '.mjs', '.cjs', '.json'))
  .map(([stem, ext]) => stem.replace(/^\.+/, 'x') + ext)
  .filter((name) => !name.includes('..'));
const TREE = fc.uniqueArray(fc.tuple(fc.array(fc.stringMatching(/^[a-z0-9_-]{1,6}$/), { maxLength: 2 }), NAME), {
  minLength: 1,
  maxLength: 6,
  // Unique by case-folded path: pin refuses a case clash (tested above).
  selector: ([dirs, name]) => [...dirs, name].join('/').toLowerCase(),
}).filter((tree) => tree.some(([, name]) => !name.endsWith('.json')));

describe('pinDirectory over generated builds', () => {
  it('lists every file so that the URL a page names it by (any query) finds it under the integrity of its bytes', async () => {
    await fc.assert(
      fc.asyncProperty(TREE, fc.constantFrom('/static/', '/assets/v2/', '/'), async (tree, base) => {
        const files = Object.fromEntries(tree.map(([segments, name], i) => [[...segments, name].join('/'), `/* ${i} */ ${name}`]));
        const dir = buildDir(files);
        const { release } = await pinDirectory(dir, base);
        const manifest = parsePolicyText(HEAD + `firstParty: ${JSON.stringify({ base: release.base, scripts: release.scripts, ...(Object.keys(release.data).length > 0 ? { data: release.data } : {}) })}\n`, 'p.yaml').firstParty!;
        for (const [relative, body] of Object.entries(files)) {
          // What a page writes: the path with the characters the URL syntax reserves escaped.
          const written = relative.split('/').map((s) => s.replace(/%/g, '%25').replace(/#/g, '%23').replace(/\?/g, '%3F')).join('/');
          const url = new URL(`${base}${written}?v=1`, 'https://shop.example/');
          const found = firstPartyRequest(manifest, url.pathname + url.search, 'code');
          expect(found, relative).toMatchObject({ kind: 'listed', list: relative.endsWith('.json') ? 'data' : 'scripts', file: { integrity: [sri(body)] } });
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 150 },
    );
  });
});
