/**
 * The fast path against parse5, page by page: whenever the fast scanner does not bail, every
 * finding (kind, list, url, origin, element, attribute, offset, line, col, context, allowed,
 * reason, entry, hashes) and every rewrite edit must equal the full path's, in the same order; a
 * refusal must be the same refusal. Real pages first, then generated and mutated ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bothPaths, demoPages, filePages, htmlPage, type Page } from './fast-compare.js';
import { testPolicy } from './policy.js';

function expectSamePaths(page: Page): string | undefined {
  const { auto, full, bail } = bothPaths(page);
  expect(auto, page.name).toEqual(full);
  return bail;
}

describe('fast path: real pages give the full path’s findings and edits exactly', () => {
  const pages = filePages();

  it.each(pages.map((p) => [p.name, p] as const))('%s', (_name, page) => {
    expectSamePaths(page);
  });

  it('the realistic bench checkout pages take the fast path', () => {
    for (const page of pages.filter((p) => p.name.startsWith('bench/'))) {
      expect(bothPaths(page).bail, page.name).toBeUndefined();
    }
  });

  it('a report-mode policy and an inline allowlist change nothing between the paths', () => {
    for (const page of pages.filter((p) => p.name.startsWith('bench/checkout') || p.name.startsWith('verify/'))) {
      expectSamePaths({ ...page, mode: 'report' });
      expectSamePaths({ ...page, policy: testPolicy({ site: 'https://other.example' }) });
    }
  });

  it('the demo storefront pages, clean and tampered, as its server sends them', async () => {
    const demo = await demoPages();
    expect(demo.length).toBeGreaterThan(5);
    let fast = 0;
    for (const page of demo) if (expectSamePaths(page) === undefined) fast++;
    expect(fast).toBeGreaterThan(0);
  });
});

/** Pieces of markup chosen to hit the tokenizer and tree-builder rules the scanner models or bails on. */
const TAGS = ['div', 'p', 'span', 'a', 'b', 'i', 'form', 'input', 'button', 'table', 'tbody', 'tr', 'td', 'th', 'select', 'option', 'optgroup',
  'script', 'iframe', 'li', 'ul', 'h1', 'h2', 'textarea', 'title', 'style', 'template', 'svg', 'math', 'noscript', 'base', 'meta', 'link',
  'object', 'embed', 'param', 'frame', 'img', 'image', 'hr', 'body', 'head', 'html', 'xmp', 'dd', 'dt', 'nobr', 'caption', 'pre', 'label',
  'section', 'FORM', 'Script', 'x-widget', 'rt', 'area', 'source'];
const ATTR_NAMES = ['action', 'formaction', 'onclick', 'ONLOAD', 'src', 'href', 'srcdoc', 'type', 'rel', 'as', 'http-equiv', 'content', 'ping',
  'name', 'value', 'data', 'shadowrootmode', 'xlink:href', 'attributeName', 'id', 'a<b', '"q', '=x', 'on'];
const ATTR_VALUES = ['https://evil.example/c', '/checkout/pay', 'javascript:alert(1)', ' ', '', 'https://pay.gateway.example/charge',
  '&amp;', '&ampx', '&amp=', '&lt', '&#x6A;avascript:x', 'a\r\nb', 'java\tscript:x', 'modulepreload', 'preload', 'script', 'refresh',
  '0;url=https://evil.example/', 'module', 'importmap', 'application/ld+json', 'open', "it's", 'a"b', '>', '/', 'x y'];

const attribute = fc.tuple(fc.constantFrom(...ATTR_NAMES), fc.constantFrom(...ATTR_VALUES), fc.constantFrom('"', "'", '', 'none'), fc.constantFrom(' ', '  ', '\n', '/', ''))
  .map(([name, value, quote, sep]) => {
    if (quote === 'none') return `${sep || ' '}${name}`;
    const written = quote === '' ? value.replace(/[\s>]/g, '') || 'x' : value.split(quote).join('');
    return `${sep || ' '}${name}=${quote}${written}${quote}`;
  });
const startTag = fc.tuple(fc.constantFrom(...TAGS), fc.array(attribute, { maxLength: 3 }), fc.constantFrom('>', '/>', ' >'))
  .map(([name, attrs, close]) => `<${name}${attrs.join('')}${close}`);
const endTag = fc.constantFrom(...TAGS).map((name) => `</${name}>`);
const other = fc.constantFrom('text ', ' ', '\n', '\r\n', '&amp; ', '< ', '<!-- c -->', '<!---->', '<!-->', '<!--x--!>', '<?pi?>', '</ >', '</>',
  '<!DOCTYPE html>', '<![CDATA[x]]>', '<script>var a = 1 < 2;</script>', '<script>x="<!--"</script>', '<textarea></form></textarea>',
  '<title><b></title>', '<style>a{}</style>', '<iframe><p></iframe>', '<script src=/app.js></script>', '\u0000', '</br>', '<p/>', '<!-- <!-- -->',
  '\uFEFF', '\f', '\r', '\t', 'é', '</body>', '</html>', '</head>', '<head>', '<body onload="x()">', '<html lang=en>', '<script>a</script >', '</script>');
const fragment = fc.oneof({ arbitrary: startTag, weight: 5 }, { arbitrary: endTag, weight: 3 }, { arbitrary: other, weight: 3 });
const document = fc.tuple(fc.constantFrom('', '<!DOCTYPE html>', '<!DOCTYPE html><html><head>', '<html><body>', '<!doctype html>\n<html lang=en>\n<head><meta charset=utf-8></head>\n<body>\n'),
  fc.array(fragment, { maxLength: 40 })).map(([prefix, parts]) => prefix + parts.join(''));

describe('fast path: generated and mutated pages', () => {
  it('generated pages: whenever the fast path is taken, findings and edits equal the full path’s', () => {
    let fast = 0;
    let runs = 0;
    fc.assert(
      fc.property(document, fc.constantFrom<'block' | 'report'>('block', 'report'), (html, mode) => {
        runs++;
        if (expectSamePaths(htmlPage('generated', html, mode)) === undefined) fast++;
      }),
      { numRuns: 4000 },
    );
    // The property is not vacuous: a good share of the generated pages really took the fast path.
    expect(fast / runs).toBeGreaterThan(0.1);
  });

  it('generated pages of the tags the scanner models (nesting, implied ends, tables, selects): the paths agree', () => {
    // A small alphabet, so that the same names meet often (a in a, li in li, td in td, p around blocks).
    const MODELLED = ['div', 'p', 'a', 'b', 'nobr', 'form', 'button', 'table', 'tr', 'td', 'li', 'dd', 'h1', 'select', 'option', 'optgroup', 'span'];
    const tag = fc.tuple(fc.constantFrom(...MODELLED), fc.array(attribute, { minLength: 1, maxLength: 2 })).map(([name, attrs]) => `<${name}${attrs.join('')}>`);
    const close = fc.constantFrom(...MODELLED).map((name) => `</${name}>`);
    const page = fc.array(fc.oneof({ arbitrary: tag, weight: 4 }, { arbitrary: close, weight: 1 }, { arbitrary: fc.constantFrom('x', ' '), weight: 1 }), { maxLength: 16 })
      .map((parts) => `<!DOCTYPE html><body>${parts.join('')}`);
    let fast = 0;
    let runs = 0;
    fc.assert(fc.property(page, (html) => {
      runs++;
      if (expectSamePaths(htmlPage('modelled', html)) === undefined) fast++;
    }), { numRuns: 4000 });
    expect(fast / runs).toBeGreaterThan(0.05);
  });

  it('tag soup from the tokenizer’s own alphabet (quotes, =, /, <, >, &, references, CR): the paths agree', () => {
    const alphabet = fc.constantFrom('<', '>', '"', "'", '=', '/', ' ', '\r', '\n', '\r\n', '&', '#', ';', 'a', 'A', 'x', '1', '-', '!', '?', 'amp', 'lt', '#x41',
      'javascript:', 'https://evil.example/', '</', '<!--', '-->', 'p', 'div');
    // Attribute names that always make a finding, so a value read differently shows in the findings.
    const name = fc.constantFrom(' onclick', ' ONMOUSEOVER', ' formaction', ' ping', ' href', '/onfocus', 'on');
    const value = fc.array(alphabet, { maxLength: 6 }).map((chars) => chars.join(''));
    const attribute = fc.tuple(name, fc.constantFrom('=', ' = ', '', '==', '\r\n=\n'), fc.constantFrom('"', "'", ''), value, fc.constantFrom('"', "'", '', ' '))
      .map((parts) => parts.join(''));
    const soup = fc.array(fc.oneof({ arbitrary: alphabet, weight: 2 }, { arbitrary: attribute, weight: 2 }), { maxLength: 24 }).map((parts) => `<!DOCTYPE html><body><div ${parts.join('')}`);
    let fast = 0;
    let runs = 0;
    fc.assert(fc.property(soup, fc.constantFrom('', '>', '">', "'>", '></div>'), (html, close) => {
      runs++;
      if (expectSamePaths(htmlPage('soup', html + close)) === undefined) fast++;
    }), { numRuns: 5000 });
    expect(fast / runs).toBeGreaterThan(0.05);
  });

  it('well-formed generated pages take the fast path and agree', () => {
    const wellFormed = fc.array(fc.tuple(fc.constantFrom('div', 'p', 'span', 'a', 'b', 'form', 'section', 'label', 'li', 'td'), fc.array(attribute, { maxLength: 3 })), { maxLength: 12 })
      .map((parts) => {
        const inner = parts.map(([name, attrs]) => name === 'td'
          ? `<table><tr><td${attrs.join('')}>x</td></tr></table>`
          : name === 'li' ? `<ul><li${attrs.join('')}>x</li></ul>` : `<${name}${attrs.join('')}>x</${name}>`).join('\n');
        return `<!DOCTYPE html><html><head><title>t</title></head><body>${inner}</body></html>`;
      });
    let fast = 0;
    let runs = 0;
    fc.assert(fc.property(wellFormed, (html) => {
      runs++;
      if (expectSamePaths(htmlPage('well-formed', html)) === undefined) fast++;
    }), { numRuns: 1500 });
    expect(fast / runs).toBeGreaterThan(0.5);
  });

  it('mutated real pages: inserted, deleted and duplicated ranges never make the paths differ', () => {
    const seeds = filePages().filter((p) => p.bytes.length < 200_000);
    const texts = seeds.map((p) => new TextDecoder().decode(p.bytes));
    const mutation = fc.tuple(fc.nat(texts.length - 1), fc.nat(), fc.nat(), fc.constantFrom('insert', 'delete', 'duplicate'), fragment);
    fc.assert(
      fc.property(mutation, ([which, a, b, kind, piece]) => {
        const text = texts[which]!;
        const at = a % (text.length + 1);
        const to = Math.min(text.length, at + (b % 200));
        const mutated = kind === 'insert' ? text.slice(0, at) + piece + text.slice(at)
          : kind === 'delete' ? text.slice(0, at) + text.slice(to)
            : text.slice(0, to) + text.slice(at, to) + text.slice(to);
        expectSamePaths(htmlPage(`mutated ${seeds[which]!.name}`, mutated));
      }),
      { numRuns: 1500 },
    );
  });
});
