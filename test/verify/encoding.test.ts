import { describe, expect, it } from 'vitest';
import { decodeDocument } from '../../src/verify/index.js';
import { testPolicy, verifyHtml } from './policy.js';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const bytes = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? ascii(p) : p)));
const ESC = 0x1b;
// テスト in three Japanese encodings.
const TESUTO_SJIS = [0x83, 0x65, 0x83, 0x58, 0x83, 0x67];
const TESUTO_EUCJP = [0xa5, 0xc6, 0xa5, 0xb9, 0xa5, 0xc8];
const TESUTO_JIS = [ESC, 0x24, 0x42, 0x25, 0x46, 0x25, 0x39, 0x25, 0x48, ESC, 0x28, 0x42];
const html = { headers: [['content-type', 'text/html']] as [string, string][] };

describe('decoding (E-01..E-08)', () => {
  it('BOM beats the header charset (E-01)', () => {
    const utf16le = bytes([0xff, 0xfe], Array.from(new Uint8Array(Buffer.from('<form action=//evil.example/>', 'utf16le'))));
    const decoded = decodeDocument(utf16le, [['content-type', 'text/html; charset=utf-8']], 'windows-1252');
    expect(decoded).toMatchObject({ encoding: 'UTF-16LE', source: 'bom', text: '<form action=//evil.example/>' });
  });

  it('finds the foreign action of a UTF-16LE page with a BOM', async () => {
    const page = bytes([0xff, 0xfe], Array.from(new Uint8Array(Buffer.from('<form action=//evil.example/>', 'utf16le'))));
    const v = await verifyHtml(page, { headers: [['content-type', 'text/html; charset=utf-8']] });
    expect(v.encoding).toBe('UTF-16LE');
    expect(v.violations.map((f) => f.url)).toEqual(['https://evil.example/']);
  });

  it('Shift_JIS page decodes exactly and finds the foreign action', async () => {
    const page = bytes('<p>', TESUTO_SJIS, '</p><form action="https://evil.example/', TESUTO_SJIS, '">');
    const v = await verifyHtml(page, { headers: [['content-type', 'text/html; charset=Shift_JIS']] });
    expect(v.encoding).toBe('Shift_JIS');
    expect(v.encodingSource).toBe('header');
    expect(v.violations[0]?.url).toBe('https://evil.example/%E3%83%86%E3%82%B9%E3%83%88');
  });

  it('EUC-JP from a meta decodes exactly', async () => {
    const page = bytes('<meta charset="euc-jp"><form action="/', TESUTO_EUCJP, '">');
    const v = await verifyHtml(page, html);
    expect([v.encoding, v.encodingSource]).toEqual(['EUC-JP', 'meta']);
    expect(v.findings[0]?.url).toBe('https://shop.example/%E3%83%86%E3%82%B9%E3%83%88');
  });

  it('the policy default charset applies when nothing is declared (Japanese storefronts)', async () => {
    const page = bytes('<form action="/', TESUTO_SJIS, '">');
    const v = await verifyHtml(page, { ...html, policy: testPolicy({ defaultCharset: 'shift_jis' }) });
    expect([v.encoding, v.encodingSource]).toEqual(['Shift_JIS', 'default']);
    expect(v.findings[0]?.url).toBe('https://shop.example/%E3%83%86%E3%82%B9%E3%83%88');
  });

  it('ISO-2022-JP quote swallowing (E-03) is seen', async () => {
    // Read as UTF-8 the form sits inside <b title="…">; read as ISO-2022-JP (what the meta tells
    // Chromium) the quote is swallowed by a JIS X 0208 pair and the form is live.
    const page = bytes('<meta charset=iso-2022-jp><a title="', [ESC, 0x24, 0x42], '">', [ESC, 0x28, 0x42], '<b title="><form action=https://evil.example/>">x</b>');
    const v = await verifyHtml(page, html);
    expect(v.encoding).toBe('ISO-2022-JP');
    expect(v.violations.map((f) => f.url)).toEqual(['https://evil.example/']);
    // The proxy pins ISO-2022-JP in Content-Type; a later <meta charset=utf-8> in the body changes nothing.
    const withBodyMeta = await verifyHtml(bytes(Array.from(page), '<body><meta charset=utf-8>'), html);
    expect(withBodyMeta.encoding).toBe('ISO-2022-JP');
  });

  it('ISO-2022-JP text decodes exactly', () => {
    expect(decodeDocument(bytes('<p>', TESUTO_JIS), [['content-type', 'text/html; charset=iso-2022-jp']], 'utf-8').text).toBe('<p>テスト');
  });

  it('an invalid Shift_JIS lead byte does not eat the quote that follows (E-04)', async () => {
    const page = bytes('<a title="', [0x82], '"><form action=//evil.example/>');
    const v = await verifyHtml(page, { headers: [['content-type', 'text/html; charset=shift_jis']], mode: 'report' });
    expect(v.findings.map((f) => f.url)).toEqual(['https://evil.example/']);
  });

  it('invalid bytes on a protected route are refused as undecodable-body', async () => {
    const page = bytes('<p>', [0xff, 0xfe, 0xfd], '</p>');
    await expect(verifyHtml(page, { headers: [['content-type', 'text/html; charset=utf-8']] })).rejects.toMatchObject({ reason: 'undecodable-body' });
  });

  it('a real U+FFFD in UTF-8 is not a decoding error', async () => {
    const v = await verifyHtml('<p>\uFFFD</p>');
    expect(v.violations).toEqual([]);
  });

  it('iso-2022-kr is refused, from the header and from a meta (E-05)', async () => {
    await expect(verifyHtml('<p>x', { headers: [['content-type', 'text/html; charset=iso-2022-kr']] })).rejects.toMatchObject({ reason: 'unknown-encoding' });
    await expect(verifyHtml('<meta charset="hz-gb-2312"><p>x', html)).rejects.toMatchObject({ reason: 'unknown-encoding' });
  });

  it('x-user-defined is refused from the header but means windows-1252 from a meta (E-05, E-07)', async () => {
    await expect(verifyHtml('<p>x', { headers: [['content-type', 'text/html; charset=x-user-defined']] })).rejects.toMatchObject({ reason: 'unknown-encoding' });
    expect((await verifyHtml('<meta charset=x-user-defined><p>x', html)).encoding).toBe('windows-1252');
  });

  it('UTF-16 from a meta means UTF-8 (E-07)', async () => {
    expect((await verifyHtml('<meta charset=utf-16><p>x', html)).encoding).toBe('UTF-8');
  });

  it('an unknown header label is ignored and the meta decides; latin1 means windows-1252', async () => {
    const v = await verifyHtml('<meta http-equiv="Content-Type" content="text/html; charset=latin1"><p>x', { headers: [['content-type', 'text/html; charset=no-such-thing']] });
    expect([v.encoding, v.encodingSource]).toEqual(['windows-1252', 'meta']);
  });

  it('a meta charset after the first 1024 bytes is not seen by the prescan', async () => {
    const v = await verifyHtml(`<!--${'x'.repeat(1100)}--><meta charset=shift_jis>`, html);
    expect(v.encodingSource).toBe('default');
  });

  it('a meta inside a comment is skipped by the prescan; http-equiv without content-type is ignored', async () => {
    expect((await verifyHtml('<!-- <meta charset=shift_jis> --><meta content="text/html; charset=euc-jp"><meta charset=koi8-r>', html)).encoding).toBe('KOI8-R');
  });
});
