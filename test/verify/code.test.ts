import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cspHashes } from '../../src/verify/index.js';
import { testPolicy, verifyHtml, withInline } from './policy.js';

const summary = (findings: readonly { kind: string; allowed: boolean; reason?: string | undefined; url?: string | undefined }[]) =>
  findings.map((f) => `${f.kind}:${f.allowed ? 'ok' : f.reason}${f.url ? ` ${f.url}` : ''}`);

describe('scripts and inline code (S-01..S-13)', () => {
  it('an allowed script is a finding with its entry; a foreign one is a violation (S-01)', async () => {
    const v = await verifyHtml('<script src="https://js.gateway.example/v3.js"></script><table><script src=//evil.example/x.js></script></table>');
    expect(summary(v.findings)).toEqual(['script:ok https://js.gateway.example/v3.js', 'script:foreign-script https://evil.example/x.js']);
  });

  it('a script after </html> is still found', async () => {
    const v = await verifyHtml('<html><body></body></html><script src=https://evil.example/late.js></script>');
    expect(summary(v.violations)).toEqual(['script:foreign-script https://evil.example/late.js']);
  });

  it('module, language=javascript and odd-cased types are code; JSON-LD and templates are data (S-02)', async () => {
    const v = await verifyHtml(
      '<script type=module src=//evil.example/m.js></script><script language=javascript src=//evil.example/l.js></script>' +
        '<script type=" Text/JavaScript " src=//evil.example/t.js></script><script type="text/x-magento-init" src=//evil.example/g.js></script>' +
        '<script type="application/ld+json">{"@type":"Product"}</script><script type="text/template"><form action=//evil.example></script>',
    );
    expect(v.violations.map((f) => f.url)).toEqual([
      'https://evil.example/m.js',
      'https://evil.example/l.js',
      'https://evil.example/t.js',
      'https://evil.example/g.js',
      // The template is data, not code; but the foreign URL it carries is unlisted (issue 17 class 4).
      'https://evil.example/',
    ]);
  });

  it('a JSON-LD block that is not JSON is a violation', async () => {
    const v = await verifyHtml('<script type="application/ld+json">{"@type": evil()}</script>');
    expect(summary(v.violations)).toEqual(['data-block:invalid-data-block']);
  });

  it('inline script not in allow.inline is a violation in block mode, allowed by its hash (S-03)', async () => {
    const html = '<script>\nalert(1)\r\n</script>';
    const blocked = await verifyHtml(html);
    expect(summary(blocked.violations)).toEqual(['inline-script:inline-code']);
    // CSP hashes the DOM text: the parser has already turned CR LF into LF.
    const hashes = cspHashes('\nalert(1)\n');
    expect(blocked.violations[0]!.hashes).toEqual(hashes);
    const policy = withInline(testPolicy(), [{ type: 'hash', hash: hashes[0]!, why: 'checkout bootstrap' }]);
    const allowed = await verifyHtml(html, { policy });
    expect(allowed.violations).toEqual([]);
    expect(allowed.findings[0]).toMatchObject({ kind: 'inline-script', allowed: true, entry: { why: 'checkout bootstrap' } });
  });

  it('in report mode unknown inline code is listed with its hashes but is not a violation', async () => {
    const v = await verifyHtml('<script>x()</script><img src=a onerror=y()>', { mode: 'report' });
    expect(v.violations).toEqual([]);
    expect(v.findings.filter((f) => f.list === 'inline').map((f) => [f.kind, f.allowed, f.entry, f.hashes?.length])).toEqual([
      ['inline-script', true, undefined, 3],
      ['event-handler', true, undefined, 3],
    ]);
  });

  it('cspHashes gives sha256/384/512 of the UTF-8 text', () => {
    expect(cspHashes('alert(1)')[0]).toBe('sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=');
    expect(cspHashes('é')[0]).toBe(`sha256-${createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('base64')}`);
  });

  it('on* handlers on any element in any namespace, and from a second <body>, are inline code (S-04)', async () => {
    const v = await verifyHtml('<body><div><body onload="a()"><svg><animate onbegin="b()"/></svg><math><mi onclick="c()"></mi></math><x onanimationstart=d()>');
    expect(v.violations.map((f) => [f.element, f.attribute])).toEqual([
      ['body', 'onload'],
      ['svg:animate', 'onbegin'],
      ['math:mi', 'onclick'],
      ['x', 'onanimationstart'],
    ]);
  });

  it('javascript: URLs in navigable attributes, however spelled, are found (S-05)', async () => {
    const v = await verifyHtml(
      '<a href="java&Tab;script&colon;x()">a</a><iframe src=" javascript:y()"></iframe><svg><a xlink:href="JAVASCRIPT:z()"><text>t</text></a></svg>' +
        '<object data="javascript:w()"></object><math href="javascript:v()"></math>',
    );
    expect(v.violations.map((f) => [f.element, f.attribute, f.reason])).toEqual([
      ['a', 'href', 'javascript-url'],
      ['iframe', 'src', 'javascript-url'],
      ['svg:a', 'xlink:href', 'javascript-url'],
      ['object', 'data', 'javascript-url'],
      ['math:math', 'href', 'javascript-url'],
    ]);
  });

  it('SVG script href and xlink:href are matched by namespace (S-06)', async () => {
    const v = await verifyHtml('<svg><script href="//evil.example/a.js"></script><script xlink:href="//evil.example/b.js"></script></svg>');
    expect(v.violations.map((f) => [f.element, f.attribute, f.url])).toEqual([
      ['svg:script', 'href', 'https://evil.example/a.js'],
      ['svg:script', 'xlink:href', 'https://evil.example/b.js'],
    ]);
  });

  it('SVG set/animate writing href or on* is a violation', async () => {
    const v = await verifyHtml('<svg><a><set attributeName=href to="javascript:1"/><animate attributeName="xlink:href" values="x"/><set attributeName=onclick to=x /><animate attributeName=opacity /></a></svg>');
    expect(summary(v.violations)).toEqual(['svg-animation:svg-animation-url', 'svg-animation:svg-animation-url', 'svg-animation:svg-animation-url']);
  });

  it('data: and blob: scripts, frames and objects are data-url-code (S-07)', async () => {
    const v = await verifyHtml('<script src="data:text/javascript,alert(1)"></script><iframe src="data:text/html,<form>"></iframe><embed src="blob:https://shop.example/1">');
    expect(v.violations.map((f) => f.reason)).toEqual(['data-url-code', 'data-url-code', 'data-url-code']);
  });

  it('frames, objects, params and embeds are judged against allow.frame (S-08)', async () => {
    const v = await verifyHtml(
      '<iframe src="https://frames.gateway.example/card"></iframe><frameset><frame src=//evil.example/f></frameset>' +
        '<object data=//evil.example/o></object><object><param name=Movie value=//evil.example/p></object><embed code=//evil.example/e>',
    );
    expect(summary(v.findings)).toEqual([
      'frame:ok https://frames.gateway.example/card',
      'object:foreign-frame https://evil.example/o',
      'object:foreign-frame https://evil.example/p',
      'object:foreign-frame https://evil.example/e',
    ]);
  });

  it('import maps: every address, in imports, scopes and integrity, must be an allowed script (S-09)', async () => {
    const v = await verifyHtml('<script type=importmap>{"imports":{"/js/checkout.js":"https://evil.example/x.js","ok":"https://js.gateway.example/ok.js"},"scopes":{"/a/":{"b":"//evil.example/b.js"}}}</script>', { mode: 'report' });
    expect(summary(v.findings.filter((f) => f.kind === 'import-map'))).toEqual([
      'import-map:import-map https://evil.example/x.js',
      'import-map:ok https://js.gateway.example/ok.js',
      'import-map:import-map https://evil.example/b.js',
    ]);
  });

  it('modulepreload and preload as=script are script loads; stylesheets, preconnects and image preloads are judged by their own lists (S-10)', async () => {
    const v = await verifyHtml(
      '<link rel="ModulePreload" href=//evil.example/m.js><link rel="preload" as="SCRIPT" href=//evil.example/p.js>' +
        '<link rel=stylesheet href=//fonts.example/a.css><link rel=preconnect href=//fonts.example><link rel=preload as=image href=//img.example/a.png>',
    );
    expect(summary(v.findings)).toEqual([
      'module-preload:foreign-script https://evil.example/m.js',
      'module-preload:foreign-script https://evil.example/p.js',
      'stylesheet:ok https://fonts.example/a.css',
      'preconnect:ok https://fonts.example/',
      'image:foreign-image https://img.example/a.png',
    ]);
  });

  it('speculation rules list URLs are navigation targets (S-12)', async () => {
    const v = await verifyHtml('<script type=speculationrules>{"prerender":[{"source":"list","urls":["https://evil.example/p","/next"]}]}</script>', { mode: 'report' });
    expect(summary(v.findings.filter((f) => f.kind === 'speculation-rules'))).toEqual([
      'speculation-rules:speculation-rules https://evil.example/p',
      'speculation-rules:ok https://shop.example/next',
    ]);
  });

  it('a meta CSP is reported; a foreign report-uri is a violation (S-13)', async () => {
    const v = await verifyHtml('<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; report-uri https://evil.example/r">');
    expect(summary(v.findings)).toEqual(['meta-csp:meta-csp https://evil.example/r']);
  });

  it('ping and attributionsrc targets are connect findings (N-04)', async () => {
    const v = await verifyHtml('<a href=/x ping="/p https://evil.example/ping">x</a><img src=a.png attributionsrc="https://evil.example/a">');
    expect(summary(v.findings.filter((f) => f.kind === 'connect'))).toEqual(['connect:ok https://shop.example/p', 'connect:foreign-connect https://evil.example/ping', 'connect:foreign-connect https://evil.example/a']);
  });
});
