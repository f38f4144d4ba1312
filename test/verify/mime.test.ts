import { describe, expect, it } from 'vitest';
import { extractMimeType, sniffHtml } from '../../src/verify/index.js';

const ct = (...values: string[]) => values.map((v) => ['content-type', v] as const);

describe('Content-Type as the browser reads it (M-01, M-02)', () => {
  it('the last valid type across all lines wins (text/plain then text/html renders as HTML)', () => {
    expect(extractMimeType(ct('text/plain', 'text/html'))?.essence).toBe('text/html');
    expect(extractMimeType(ct('text/plain; x=x, text/html, foobar'))?.essence).toBe('text/html');
  });

  it('the charset is carried forward when the essence repeats', () => {
    expect(extractMimeType(ct('text/html; charset=shift_jis', 'text/html'))?.charset).toBe('shift_jis');
    expect(extractMimeType(ct('text/html; charset=shift_jis', 'text/plain', 'text/html'))?.charset).toBeUndefined();
  });

  it('commas inside quoted parameters do not split', () => {
    const mime = extractMimeType(ct('text/html; charset="euc-jp,x"'));
    expect([mime?.essence, mime?.charset]).toEqual(['text/html', 'euc-jp,x']);
  });

  it('*/* and unparsable values are skipped; nothing valid is undefined', () => {
    expect(extractMimeType(ct('text/html', '*/*'))?.essence).toBe('text/html');
    expect(extractMimeType(ct('text/html xxx'))).toBeUndefined();
    expect(extractMimeType(ct('text/html(xxx'))).toBeUndefined();
    expect(extractMimeType([])).toBeUndefined();
  });

  it('parameters: first wins, names case-insensitive, quoted strings unescaped', () => {
    const mime = extractMimeType(ct('Text/HTML; Charset="u\\tf-8"; charset=x'));
    expect([mime?.essence, mime?.charset]).toEqual(['text/html', 'utf-8']);
  });

  it('sniffs the HTML patterns after whitespace, each followed by a tag-terminating byte', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const yes of ['<!DOCTYPE html>', ' \n<HTML>', '<script src=x>', '<a href=x>', '<!-- x', '<p>', '<body ']) expect(sniffHtml(enc(yes)), yes).toBe(true);
    for (const no of ['<abbr>', '<pre>', 'hello <html>', '<html', '%PDF-1.7', '<?xml version="1.0"?>']) expect(sniffHtml(enc(no)), no).toBe(false);
  });
});
