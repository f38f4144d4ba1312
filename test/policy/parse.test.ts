/**
 * parsePolicyText: every schema error path reports file, line, column and field, and the issue's
 * policy is accepted exactly as written. In each failing case `▶` marks where the error must point
 * (it is removed before parsing), so the expected position is visible in the case itself.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { findPlaceholderHashes, findTodoJustifications } from '../../src/policy/lint.js';
import { parsePolicyText } from '../../src/policy/parse.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');

/** A valid policy with one line replaced: `HEAD` + the case's lines + `TAIL` keeps cases short. */
const HEAD = 'schema: 1\nserial: 3\nsite: https://shop.example\nroutes:\n  - path: /checkout/**\n    mode: block\n';
const ALLOW = 'allow:\n  form:\n    - origin: https://pay.gateway.example\n      why: card payment gateway\n';

interface ErrorCase {
  readonly name: string;
  readonly text: string;
  readonly field: string | undefined;
  readonly message: RegExp;
  readonly file?: string;
}

const MARK = '▶';

function expectPolicyErrorAtMark({ text, field, message, file = 'policy.yaml' }: ErrorCase): void {
  const at = text.indexOf(MARK);
  expect(at, 'the case marks where the error points').toBeGreaterThanOrEqual(0);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  let caught: unknown;
  try {
    parsePolicyText(text.replace(MARK, ''), file);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PolicyError);
  const error = caught as PolicyError;
  expect(error.code).toBe('PG_POLICY_INVALID');
  expect({ file: error.file, line: error.line, column: error.column, field: error.field }).toEqual({ file, line, column, field });
  expect(error.message).toMatch(message);
  expect(error.message.startsWith(`${file}:${line}:${column}`)).toBe(true);
}

const UNKNOWN_KEYS: ErrorCase[] = [
  { name: 'top level', text: HEAD + ALLOW + `${MARK}alow: {}\n`, field: 'alow', message: /unknown key "alow"; allowed here: .*allow/ },
  { name: 'route', text: HEAD.replace('    mode: block\n', `    mode: block\n    ${MARK}methods: [GET]\n`) + ALLOW, field: 'routes[0].methods', message: /unknown key "methods"/ },
  { name: 'allow', text: HEAD + ALLOW + `  ${MARK}forms:\n    - origin: https://x.example\n      why: typo\n`, field: 'allow.forms', message: /unknown key "forms"; allowed here: form, script, frame, navigate, connect, image, style, font, media, manifest, inline/ },
  { name: 'form entry', text: HEAD + ALLOW + `  frame:\n    - { origin: https://x.example, why: w, ${MARK}note: n }\n`, field: 'allow.frame[0].note', message: /unknown key "note"; allowed here: origin, url, why/ },
  { name: 'integrity on a form entry (it would check nothing)', text: HEAD + ALLOW.replace('      why:', `      ${MARK}integrity: sha256-x\n      why:`), field: 'allow.form[0].integrity', message: /unknown key "integrity"/ },
  { name: 'script entry', text: HEAD + ALLOW + `  script:\n    - url: https://cdn.example/a.js\n      ${MARK}integrty: sha384-abc\n      why: w\n`, field: 'allow.script[0].integrty', message: /unknown key "integrty"; allowed here: origin, url, integrity, why/ },
  { name: 'inline entry', text: HEAD + ALLOW + `  inline:\n    - { hash: "sha256-djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c=", why: w, ${MARK}origin: https://x.example }\n`, field: 'allow.inline[0].origin', message: /unknown key "origin"; allowed here: hash, template, slots, why/ },
];

const WRONG_TYPES: ErrorCase[] = [
  { name: 'serial as a string', text: HEAD.replace('serial: 3', `serial: ${MARK}"3"`) + ALLOW, field: 'serial', message: /must be an integer, not string "3"/ },
  { name: 'serial fractional', text: HEAD.replace('serial: 3', `serial: ${MARK}3.5`) + ALLOW, field: 'serial', message: /must be an integer/ },
  { name: 'serial zero', text: HEAD.replace('serial: 3', `serial: ${MARK}0`) + ALLOW, field: 'serial', message: /positive integer/ },
  { name: 'serial beyond 2^53', text: HEAD.replace('serial: 3', `serial: ${MARK}9007199254740993`) + ALLOW, field: 'serial', message: /positive integer no larger than 9007199254740991/ },
  { name: 'schema version', text: HEAD.replace('schema: 1', `schema: ${MARK}2`) + ALLOW, field: 'schema', message: /must be 1/ },
  { name: 'site as a number', text: HEAD.replace('site: https://shop.example', `site: ${MARK}5`) + ALLOW, field: 'site', message: /must be a string, not number 5/ },
  { name: 'routes as a mapping', text: 'schema: 1\nserial: 3\nsite: https://shop.example\nroutes: ' + MARK + '{ path: /x, mode: block }\n' + ALLOW, field: 'routes', message: /must be a list, not a mapping/ },
  { name: 'allow list as a string', text: HEAD + `allow:\n  form: ${MARK}https://pay.gateway.example\n`, field: 'allow.form', message: /must be a list, not string/ },
  { name: 'why as a number', text: HEAD + ALLOW.replace('why: card payment gateway', `why: ${MARK}42`), field: 'allow.form[0].why', message: /must be a string, not number 42/ },
  { name: 'why empty (null)', text: HEAD + ALLOW.replace('why: card payment gateway', `why:${MARK}`), field: 'allow.form[0].why', message: /must be a string, not null/ },
  { name: 'the document is a list', text: `${MARK}- schema: 1\n`, field: undefined, message: /must be a mapping, not a list/ },
  { name: 'the document is empty', text: `${MARK}`, field: undefined, message: /must be a mapping, not null/ },
];

const REQUIRED_AND_EMPTY: ErrorCase[] = [
  { name: 'missing why', text: HEAD + `allow:\n  form:\n    - ${MARK}origin: https://pay.gateway.example\n`, field: 'allow.form[0].why', message: /"why" is required \(the written justification PCI DSS 6\.4\.3 asks for\)/ },
  { name: 'missing why on a hash', text: HEAD + ALLOW + `  inline:\n    - ${MARK}{ hash: "sha256-djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c=" }\n`, field: 'allow.inline[0].why', message: /"why" is required/ },
  { name: 'empty why', text: HEAD + ALLOW.replace('why: card payment gateway', `why: ${MARK}""`), field: 'allow.form[0].why', message: /must not be blank/ },
  { name: 'blank why', text: HEAD + ALLOW.replace('why: card payment gateway', `why: ${MARK}"   "`), field: 'allow.form[0].why', message: /must not be blank/ },
  { name: 'empty allow list', text: HEAD + ALLOW + `  script: ${MARK}[]\n`, field: 'allow.script', message: /must not be an empty list/ },
  { name: 'empty routes', text: 'schema: 1\nserial: 3\nsite: https://shop.example\nroutes: ' + MARK + '[]\n' + ALLOW, field: 'routes', message: /must not be an empty list/ },
  { name: 'missing site', text: `${MARK}schema: 1\nserial: 3\nroutes:\n  - { path: /x, mode: block }\n` + ALLOW, field: 'site', message: /"site" is required/ },
  { name: 'missing route mode', text: 'schema: 1\nserial: 3\nsite: https://shop.example\nroutes:\n  - ' + MARK + 'path: /x\n' + ALLOW, field: 'routes[0].mode', message: /"mode" is required/ },
  { name: 'neither origin nor url', text: HEAD + `allow:\n  form:\n    - ${MARK}why: nowhere\n`, field: 'allow.form[0]', message: /needs "origin" or "url"/ },
  { name: 'both origin and url', text: HEAD + `allow:\n  form:\n    - ${MARK}origin: https://a.example\n      url: https://b.example/pay\n      why: both\n`, field: 'allow.form[0]', message: /either "origin" or "url", not both/ },
];

const SEMANTIC: ErrorCase[] = [
  { name: 'bad origin', text: HEAD + ALLOW.replace('origin: https://pay.gateway.example', `origin: ${MARK}pay.gateway.example`), field: 'allow.form[0].origin', message: /not an absolute URL/ },
  { name: 'origin with a path', text: HEAD + ALLOW.replace('origin: https://pay.gateway.example', `origin: ${MARK}https://pay.gateway.example/checkout`), field: 'allow.form[0].origin', message: /not a bare origin/ },
  { name: 'origin with credentials', text: HEAD + ALLOW.replace('origin: https://pay.gateway.example', `origin: ${MARK}https://user@pay.gateway.example`), field: 'allow.form[0].origin', message: /not a bare origin/ },
  { name: 'origin with a wildcard', text: HEAD + ALLOW.replace('origin: https://pay.gateway.example', `origin: ${MARK}https://*.gateway.example`), field: 'allow.form[0].origin', message: /wildcards are not supported/ },
  { name: 'non-network scheme', text: HEAD + ALLOW.replace('origin: https://pay.gateway.example', `origin: ${MARK}"javascript:alert(1)"`), field: 'allow.form[0].origin', message: /only http: and https:/ },
  { name: 'site with a path', text: HEAD.replace('site: https://shop.example', `site: ${MARK}https://shop.example/jp`) + ALLOW, field: 'site', message: /not a bare origin/ },
  { name: 'url with a fragment', text: HEAD + `allow:\n  script:\n    - url: ${MARK}"https://cdn.example/a.js#x"\n      why: w\n`, field: 'allow.script[0].url', message: /fragment/ },
  { name: 'bad integrity algorithm', text: HEAD + `allow:\n  script:\n    - url: https://cdn.example/a.js\n      integrity: ${MARK}md5-1B2M2Y8AsgTpgAmY7PhCfg==\n      why: w\n`, field: 'allow.script[0].integrity', message: /integrity "md5-1B2M2Y8AsgTpgAmY7PhCfg==": must be sha256-, sha384- or sha512-/ },
  { name: 'integrity of the wrong length', text: HEAD + `allow:\n  script:\n    - url: https://cdn.example/a.js\n      integrity: ${MARK}"sha384-djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c="\n      why: w\n`, field: 'allow.script[0].integrity', message: /a sha384 digest is 48 bytes, this one is 32/ },
  { name: 'integrity not base64', text: HEAD + `allow:\n  script:\n    - url: https://cdn.example/a.js\n      integrity: ${MARK}"sha256-not*base64"\n      why: w\n`, field: 'allow.script[0].integrity', message: /not base64/ },
  { name: 'bad hash', text: HEAD + ALLOW + `  inline:\n    - hash: ${MARK}sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=\n      why: w\n`, field: 'allow.inline[0].hash', message: /must be sha256-, sha384- or sha512-/ },
  { name: 'bad route mode', text: HEAD.replace('mode: block', `mode: ${MARK}blok`) + ALLOW, field: 'routes[0].mode', message: /must be one of block, rewrite, report, not "blok"/ },
  { name: 'route path without a leading slash', text: HEAD.replace('path: /checkout/**', `path: ${MARK}checkout/**`) + ALLOW, field: 'routes[0].path', message: /must match \^\// },
  { name: 'route path with ** inside a segment', text: HEAD.replace('path: /checkout/**', `path: ${MARK}/checkout**`) + ALLOW, field: 'routes[0].path', message: /\*\* must be a whole path segment/ },
  { name: 'route path with ***', text: HEAD.replace('path: /checkout/**', `path: ${MARK}/checkout/***`) + ALLOW, field: 'routes[0].path', message: /\*\*\* is not a wildcard/ },
  { name: 'route path with a regex', text: HEAD.replace('path: /checkout/**', `path: ${MARK}"/checkout/(step1|step2)"`) + ALLOW, field: 'routes[0].path', message: /only \* and \*\* are wildcards/ },
  { name: 'route path with a query', text: HEAD.replace('path: /checkout/**', `path: ${MARK}"/checkout?step=1"`) + ALLOW, field: 'routes[0].path', message: /query or fragment/ },
  { name: 'unknown charset', text: HEAD + `charset: ${MARK}latin-9000\n` + ALLOW, field: 'charset', message: /not an encoding label/ },
];

const SYNTAX: ErrorCase[] = [
  { name: 'duplicate top-level key', text: HEAD + `${MARK}serial: 4\n` + ALLOW, field: 'serial', message: /duplicate key/ },
  { name: 'duplicate why', text: HEAD + ALLOW + `      ${MARK}why: second thoughts\n`, field: 'allow.form[0].why', message: /duplicate key/ },
  // At the end of the text no field contains the error: the position alone says where.
  { name: 'invalid YAML (unclosed flow list)', text: HEAD + `allow:\n  form: [{ origin: https://x.example, why: w }\n${MARK}`, field: undefined, message: /invalid YAML/ },
  { name: 'invalid YAML (tab indentation)', text: HEAD + `allow:\n  form:\n    - origin: https://x.example\n${MARK}\t  why: w\n`, field: undefined, message: /invalid YAML: Tabs are not allowed as indentation/ },
  { name: 'invalid JSON (missing brace)', file: 'policy.json', text: `{"schema": 1, "serial": 3${MARK}`, field: undefined, message: /invalid JSON: expected ',' or '}'/ },
  { name: 'invalid JSON (trailing comma)', file: 'policy.json', text: `{"schema": 1, "serial": 3,${MARK}}`, field: undefined, message: /invalid JSON: trailing comma/ },
  { name: 'JSON with a YAML comment', file: 'policy.json', text: `{"schema": 1,\n ${MARK}# raise every release\n "serial": 3}`, field: undefined, message: /JSON has no comments/ },
  { name: 'JSON with an unquoted YAML string', file: 'policy.json', text: `{"schema": 1, "site": ${MARK}https://shop.example}`, field: 'site', message: /unquoted strings are YAML syntax/ },
  { name: 'JSON with single quotes', file: 'policy.json', text: `{"schema": 1, "site": ${MARK}'https://shop.example'}`, field: 'site', message: /double quotes/ },
  { name: 'JSON written as YAML block style', file: 'policy.json', text: `${MARK}schema: 1\nserial: 3\n`, field: 'schema', message: /invalid JSON/ },
  { name: 'duplicate key in JSON', file: 'policy.json', text: `{"schema": 1, "serial": 3, ${MARK}"serial": 4}`, field: 'serial', message: /duplicate key/ },
];

describe('parsePolicyText reports every schema problem with file, line, column and field', () => {
  describe('unknown keys, at every level', () => {
    it.each(UNKNOWN_KEYS.map((c) => [c.name, c] as const))('%s', (_, c) => expectPolicyErrorAtMark(c));
  });
  describe('wrong types and values', () => {
    it.each(WRONG_TYPES.map((c) => [c.name, c] as const))('%s', (_, c) => expectPolicyErrorAtMark(c));
  });
  describe('required fields and empty lists', () => {
    it.each(REQUIRED_AND_EMPTY.map((c) => [c.name, c] as const))('%s', (_, c) => expectPolicyErrorAtMark(c));
  });
  describe('origins, URLs, hashes, routes, charset', () => {
    it.each(SEMANTIC.map((c) => [c.name, c] as const))('%s', (_, c) => expectPolicyErrorAtMark(c));
  });
  describe('syntax: duplicate keys, invalid YAML, invalid JSON, YAML in a .json file', () => {
    it.each(SYNTAX.map((c) => [c.name, c] as const))('%s', (_, c) => expectPolicyErrorAtMark(c));
  });

  it('lists every problem, not only the first', () => {
    const text = HEAD.replace('mode: block', 'mode: blok') + 'allow:\n  form:\n    - origin: https://x.example\n  frame: []\n';
    expect(() => parsePolicyText(text, 'p.yaml')).toThrow(/p\.yaml:6:11 \(routes\[0\]\.mode\).*\n  p\.yaml:9:7 \(allow\.form\[0\]\.why\).*\n  p\.yaml:10:10 \(allow\.frame\)/);
  });

  it('refuses a file name that does not say its format', () => {
    expect(() => parsePolicyText(HEAD + ALLOW, 'policy.txt')).toThrow(/must end in \.yaml, \.yml or \.json/);
  });
});

describe('parsePolicyText accepts', () => {
  it("the issue's YAML exactly as written", () => {
    const policy = parsePolicyText(fixture('issue-example.yaml'), 'issue-example.yaml');
    expect(policy.serial).toBe(7);
    expect(policy.site).toBe('https://shop.example');
    expect(policy.routes).toEqual([
      { path: '/checkout/**', mode: 'block' },
      { path: '/**', mode: 'rewrite' },
    ]);
    expect(policy.allow.script[1]).toEqual({
      type: 'url',
      url: 'https://js.gateway.example/v3/token.js',
      prefix: false,
      integrity: ['sha384-...'],
      why: 'tokenizer',
    });
    expect(policy.allow.inline).toEqual([{ type: 'hash', hash: 'sha256-...', why: 'consent banner bootstrap' }]);
    expect(policy.defaultCharset).toBe('windows-1252');
  });

  it('the JSON equivalent, to the same Policy', () => {
    expect(parsePolicyText(fixture('issue-example.json'), 'issue-example.json')).toEqual(
      parsePolicyText(fixture('issue-example.yaml'), 'issue-example.yaml'),
    );
  });

  it('policies/example.yaml, with nothing left to finish', () => {
    const path = fileURLToPath(new URL('../../policies/example.yaml', import.meta.url));
    const policy = parsePolicyText(readFileSync(path, 'utf8'), path);
    expect(findTodoJustifications(policy)).toEqual([]);
    expect(findPlaceholderHashes(policy)).toEqual([]);
  });

  it('origins as the WHATWG URL parser serialises them (case, default port, IDNA)', () => {
    const text = HEAD.replace('https://shop.example', 'HTTPS://Shop.Example:443/') +
      'allow:\n  form:\n    - { origin: "HTTPS://Pay.Gateway.Example:443", why: a }\n    - { origin: "https://bücher.example", why: b }\n    - { origin: "http://pay.gateway.example:8080", why: c }\n';
    const policy = parsePolicyText(text, 'p.yaml');
    expect(policy.site).toBe('https://shop.example');
    expect(policy.allow.form.map((e) => (e.type === 'origin' ? e.origin : ''))).toEqual([
      'https://pay.gateway.example',
      'https://xn--bcher-kva.example',
      'http://pay.gateway.example:8080',
    ]);
  });

  it('URLs as exact or prefix entries, serialised by the URL parser', () => {
    const text = HEAD + 'allow:\n  script:\n    - { url: "HTTPS://CDN.example:443/a/../b.js", why: exact }\n    - { url: "https://cdn.example/tenant-1/", why: prefix }\n';
    const policy = parsePolicyText(text, 'p.yaml');
    expect(policy.allow.script).toEqual([
      { type: 'url', url: 'https://cdn.example/b.js', prefix: false, why: 'exact' },
      { type: 'url', url: 'https://cdn.example/tenant-1/', prefix: true, why: 'prefix' },
    ]);
  });

  it('hashes quoted as in CSP and in base64url, in one spelling; integrity as space-separated tokens', () => {
    const sha256 = 'djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c=';
    const sha384 = 'bCKitpaBM/N8yqGreOQ+qy6asjbU5e79jy4n3L/eAZERbhaUE+pfdAHxFh9G+Vd5';
    const text = HEAD + ALLOW +
      `  inline:\n    - { hash: "'sha256-${sha256}'", why: quoted }\n    - { hash: "SHA256-${sha256.replace(/\//g, '_').replace('=', '')}", why: base64url }\n` +
      `  script:\n    - { url: https://cdn.example/a.js, integrity: "sha384-${sha384}  sha256-${sha256}", why: two }\n`;
    const policy = parsePolicyText(text, 'p.yaml');
    expect(policy.allow.inline.map((e) => (e.type === 'hash' ? e.hash : ''))).toEqual([`sha256-${sha256}`, `sha256-${sha256}`]);
    expect(policy.allow.script[0]).toMatchObject({ integrity: [`sha384-${sha384}`, `sha256-${sha256}`] });
  });

  it('charset as the encoding name a browser would use for the label', () => {
    expect(parsePolicyText(HEAD + 'charset: sjis\n' + ALLOW, 'p.yaml').defaultCharset).toBe('shift_jis');
    expect(parsePolicyText(HEAD + 'charset: EUC-JP\n' + ALLOW, 'p.yaml').defaultCharset).toBe('euc-jp');
  });

  it('YAML 1.2 scalars: `why: yes` stays the string "yes"', () => {
    const policy = parsePolicyText(HEAD + ALLOW.replace('why: card payment gateway', 'why: yes'), 'p.yaml');
    expect(policy.allow.form[0]!.why).toBe('yes');
  });

  it('an editor $schema hint in JSON', () => {
    const json = JSON.parse(fixture('issue-example.json')) as Record<string, unknown>;
    const text = JSON.stringify({ $schema: '../policies/policy.schema.json', ...json });
    expect(parsePolicyText(text, 'p.json').serial).toBe(7);
  });
});

describe('the Policy it returns', () => {
  it('is deep-frozen: nothing downstream can widen it', () => {
    const policy = parsePolicyText(fixture('issue-example.yaml'), 'issue-example.yaml');
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.allow.form)).toBe(true);
    expect(Object.isFrozen(policy.allow.form[0])).toBe(true);
    expect(() => (policy.allow.form as unknown as unknown[]).push({})).toThrow(TypeError);
  });

  it('names unfinished entries: why TODO (any case) and sha384-... placeholders', () => {
    const text = HEAD + 'allow:\n  form:\n    - { origin: https://a.example, why: todo }\n    - { origin: https://b.example, why: " TODO: ask the PSP" }\n    - { origin: https://c.example, why: Todoist integration }\n';
    const policy = parsePolicyText(text, 'p.yaml');
    expect(findTodoJustifications(policy)).toEqual(['allow.form[0].why', 'allow.form[1].why']);
    const issue = parsePolicyText(fixture('issue-example.yaml'), 'issue-example.yaml');
    expect(findPlaceholderHashes(issue)).toEqual(['allow.script[1].integrity', 'allow.inline[0].hash']);
  });
});
