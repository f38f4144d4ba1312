/**
 * A URL cut across the pieces of one stream (src/verify/template-streams.ts). A Next.js App Router
 * page pushes its flight payload in several `self.__next_f.push([1,"…"])` scripts, cut wherever the
 * stream was flushed, and React reads their concatenation. Each piece alone is read for places; a
 * foreign URL cut between two pieces, at every position of every spelling, is caught by reading
 * the pieces joined, on both parser paths. The site's own and allowed URLs cut the same way stay
 * clean, and in report mode nothing is refused.
 */
import { describe, expect, it } from 'vitest';
import { verifyDocument, type VerifyOptions } from '../../src/verify/document.js';
import type { Policy, RouteMode } from '../../src/policy/model.js';
import { cspHashes } from '../../src/verify/index.js';
import { parsedPolicyWith } from '../helpers/policies.js';

const SITE = 'https://shop.example';
const policy: Policy = parsedPolicyWith({
  site: SITE,
  routes: [{ path: '/**', mode: 'block' }],
  allow: {
    image: [{ origin: 'https://images.cdn.example', why: 'product images' }],
    inline: [
      { hash: cspHashes('(self.__next_f=self.__next_f||[]).push([0])')[0]!, why: 'flight stream start' },
      { template: 'self.__next_f.push([1,$slot$chunk])', slots: { chunk: { type: 'string', charset: 'text', length: [1, 1_048_576] } }, why: 'flight stream pieces' },
    ],
  },
});

/** JSON-in-JS string literal of a piece, as Next.js writes it (`JSON.stringify`, then `<` escaped). */
const literal = (piece: string) => JSON.stringify(piece).replace(/</g, '\\u003c');

function page(pieces: readonly string[]): string {
  const pushes = pieces.map((p) => `<script>self.__next_f.push([1,${literal(p)}])</script>`).join('');
  return `<!DOCTYPE html><html><head><script>(self.__next_f=self.__next_f||[]).push([0])</script></head><body><main>Cart</main>${pushes}</body></html>`;
}

function violations(html: string, mode: RouteMode = 'block', options: VerifyOptions = {}) {
  return verifyDocument({ bytes: new TextEncoder().encode(html), url: `${SITE}/cart`, headers: [['content-type', 'text/html; charset=utf-8']], policy, mode }, options).violations;
}

/** The payload around the URL: a flight row with a link, as a product card carries one. */
const row = (url: string) => `5:["$","a",null,{"href":"${url}","children":"Buy"}]\n6:["$","p",null,{"children":"In stock"}]\n`;

const FOREIGN = ['https://evil.example/skim.js', '//evil.example/x', 'http://evil.example:8080/c?x=1', 'https://shop.example.evil.example/'];
const ALLOWED = ['https://shop.example/product/12', 'https://images.cdn.example/p/12.webp', '/checkout', 'https://shop.example'];

function cutEverywhere(url: string): string[][] {
  const text = row(url);
  const at = text.indexOf(url);
  return Array.from({ length: url.length + 1 }, (_, k) => [text.slice(0, at + k), text.slice(at + k)].filter((p) => p !== ''));
}

describe('a URL cut across the pieces of a flight stream', () => {
  for (const parser of ['fast', 'full'] as const) {
    const options: VerifyOptions = parser === 'full' ? { parser: 'full' } : {};
    it(`a foreign URL cut at every position is caught (${parser} parser)`, () => {
      for (const url of FOREIGN) {
        for (const pieces of cutEverywhere(url)) {
          const found = violations(page(['0:["$","html"]\n', ...pieces, '7:null\n']), 'block', options);
          // A piece that ends inside the host (`https://e`) already names a foreign place on its own.
          const where = `${url} cut as ${JSON.stringify(pieces)}`;
          expect(found.length, where).toBeGreaterThan(0);
          for (const f of found) expect(f, where).toMatchObject({ kind: 'inline-script', reason: 'inline-template-slot' });
        }
      }
    });

    it(`the site's own and allowed URLs cut at every position stay clean (${parser} parser)`, () => {
      for (const url of ALLOWED) {
        for (const pieces of cutEverywhere(url)) expect(violations(page(pieces), 'block', options), `${url} cut as ${JSON.stringify(pieces)}`).toEqual([]);
      }
    });
  }

  it('in report mode nothing is refused', () => {
    expect(violations(page(cutEverywhere(FOREIGN[0]!)[9]!), 'report')).toEqual([]);
  });

  it('a foreign URL whole in one piece is still caught by that piece, and only once', () => {
    const found = violations(page(['0:["$","html"]\n', row(FOREIGN[0]!), '7:null\n']));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ reason: 'inline-template-slot', origin: 'https://evil.example' });
  });
});
