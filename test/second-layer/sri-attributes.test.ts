/**
 * SRI attributes on pinned third-party scripts, spliced into the original bytes: the verifier's
 * own findings say where, the output is parsed again to check what the browser will see.
 */
import { readFileSync } from 'node:fs';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { describe, expect, it } from 'vitest';
import { addScriptIntegrity } from '../../src/verify/sri-attributes.js';
import { verifyDocument } from '../../src/verify/index.js';
import type { DocumentInput } from '../../src/verify/types.js';
import { BASE_POLICY, policyFrom } from './policy.js';

type Element = DefaultTreeAdapterMap['element'];
const PIN = 'sha384-bCKitpaBM/N8yqGreOQ+qy6asjbU5e79jy4n3L/eAZERbhaUE+pfdAHxFh9G+Vd5';
const policy = policyFrom(BASE_POLICY);

function input(file: string, contentType = 'text/html'): DocumentInput {
  return {
    bytes: readFileSync(new URL(`./pages/${file}`, import.meta.url)),
    url: 'https://shop.example/checkout/pay',
    headers: [['content-type', contentType]],
    policy,
    mode: 'block',
  };
}

function scripts(html: string): Element[] {
  const found: Element[] = [];
  const visit = (node: DefaultTreeAdapterMap['parentNode']): void => {
    for (const child of node.childNodes) {
      if ('tagName' in child && child.tagName === 'script') found.push(child);
      if ('childNodes' in child) visit(child);
    }
  };
  visit(parse(html));
  return found;
}

const attr = (el: Element, name: string): string | undefined => el.attrs.find((a) => a.name === name)?.value;

describe('addScriptIntegrity', () => {
  it('pins every tag of the pinned script, ahead of any integrity the page wrote, and leaves the rest', () => {
    const page = input('sri-third-party.html');
    const out = addScriptIntegrity(page, verifyDocument(page))!;
    expect(out).toBeDefined();
    const found = scripts(Buffer.from(out).toString('utf8'));
    const pinned = found.filter((s) => attr(s, 'src') === 'https://js.gateway.example/v3/token.js');
    expect(pinned).toHaveLength(3);
    for (const script of pinned) {
      expect(attr(script, 'integrity')).toBe(PIN);
      expect(attr(script, 'crossorigin')).toBe('anonymous');
    }
    const app = found.find((s) => attr(s, 'src') === 'https://cdn.shop.example/app.js')!;
    expect(attr(app, 'integrity')).toBeUndefined();
    // Nothing else changed: removing the inserted text gives back the original bytes.
    const inserted = ` integrity="${PIN}" crossorigin="anonymous"`;
    expect(Buffer.from(out).toString('utf8').split(inserted).join('')).toBe(Buffer.from(page.bytes).toString('utf8'));
    // And the page still verifies clean.
    expect(verifyDocument({ ...page, bytes: out }).violations).toEqual([]);
  });

  it('splices a Shift_JIS page byte for byte, keeping its encoding', () => {
    const page = input('sri-shift-jis.html');
    const out = addScriptIntegrity(page, verifyDocument(page))!;
    const inserted = Buffer.from(` integrity="${PIN}" crossorigin="anonymous"`, 'latin1');
    const at = Buffer.from(out).indexOf(inserted);
    expect(at).toBeGreaterThan(0);
    expect(Buffer.concat([Buffer.from(out).subarray(0, at), Buffer.from(out).subarray(at + inserted.length)])).toEqual(Buffer.from(page.bytes));
    expect(new TextDecoder('shift_jis').decode(out)).toContain('お支払い');
  });

  it('returns undefined when no script is pinned (the clean page is not copied)', () => {
    const page = { ...input('sri-third-party.html'), bytes: Buffer.from('<script src="https://cdn.shop.example/app.js"></script>') };
    expect(addScriptIntegrity(page, verifyDocument(page))).toBeUndefined();
  });
});
