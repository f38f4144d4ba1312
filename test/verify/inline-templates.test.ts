/**
 * Inline code by signed template (issue 18, item 1). Clean renderings with fresh values match their
 * template; every tamper family generated from the template's own tokens does not: code inserted
 * at any token boundary, code in place of any slot, any written-out name or key renamed, a foreign
 * place in any string a slot carries, in every spelling. The verdicts are the verifier's own
 * (verifyDocument), on a block route.
 */
import { describe, expect, it } from 'vitest';
import { codeTokens, parseCode } from '../../src/policy/inline-template.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import type { AllowEntry } from '../../src/policy/model.js';
import { templateAcceptance } from '../../src/verify/inline-templates.js';
import { cspHashes } from '../../src/verify/index.js';
import { PolicyError } from '../../src/errors.js';
import { testPolicy, verifyHtml, withInline } from './policy.js';
import { CODE_IN_SLOT, FOREIGN_PLACES, INSERTED_CODE, seeded, TEMPLATED_CODE, type TemplatedCode } from './inline-templates.js';

const SEED = Number(process.env.TEMPLATE_SEED ?? Date.now() % 2 ** 31);
const RENDERINGS = 40;

const policyOf = (entries: readonly AllowEntry[]) => withInline(testPolicy(), entries);
const ALL = policyOf(TEMPLATED_CODE.map((c) => c.entry));

/** The code on a page where the browser runs it: a script's text, or a button's handler. */
function page(code: TemplatedCode, text: string): string {
  if (code.goal === 'handler') return `<!DOCTYPE html><button onclick="${text.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">Add</button>`;
  return `<!DOCTYPE html><head><script>${text}</script></head>`;
}

async function codeFindings(code: TemplatedCode, text: string, policy = ALL) {
  const verified = await verifyHtml(page(code, text), { policy });
  return verified.findings.filter((f) => f.list === 'inline');
}

describe(`inline code by template (seed ${SEED}: TEMPLATE_SEED=${SEED} replays)`, () => {
  it.each(TEMPLATED_CODE.map((c) => [c.name, c] as const))('%s: %d fresh renderings are allowed by the template', async (_, code) => {
    const random = seeded(SEED);
    for (let i = 0; i < RENDERINGS; i++) {
      const text = code.render(code.values(random));
      const [finding] = await codeFindings(code, text);
      expect(finding, text).toMatchObject({ allowed: true, entry: code.entry });
    }
  });

  it.each(TEMPLATED_CODE.map((c) => [c.name, c] as const))('%s: without the template every rendering is inline-code', async (_, code) => {
    const text = code.render(code.values(seeded(SEED)));
    const [finding] = await codeFindings(code, text, policyOf([]));
    expect(finding).toMatchObject({ allowed: false, reason: 'inline-code' });
  });

  it.each(TEMPLATED_CODE.map((c) => [c.name, c] as const))('%s: code inserted at any token boundary is never allowed', async (_, code) => {
    const text = code.render(code.values(seeded(SEED)));
    const tokens = codeTokens(parseCode(text, code.goal)!);
    let tried = 0;
    for (const boundary of [0, ...tokens.map((t) => t.end)]) {
      for (const inserted of INSERTED_CODE) {
        const tampered = text.slice(0, boundary) + inserted + text.slice(boundary);
        const findings = await codeFindings(code, tampered);
        expect(findings.some((f) => !f.allowed), tampered).toBe(true);
        tried++;
      }
    }
    expect(tried).toBe((tokens.length + 1) * INSERTED_CODE.length);
  });

  it.each(TEMPLATED_CODE.map((c) => [c.name, c] as const))('%s: code in place of any slot is never allowed', async (_, code) => {
    const clean = code.values(seeded(SEED));
    for (const slot of Object.keys(code.entry.slots)) {
      for (const expression of CODE_IN_SLOT) {
        const tampered = code.render({ ...clean, [slot]: expression });
        const findings = await codeFindings(code, tampered);
        expect(findings.every((f) => f.allowed), `${slot} = ${expression}`).toBe(false);
      }
    }
  });

  it.each(TEMPLATED_CODE.map((c) => [c.name, c] as const))('%s: any written-out name, key or string renamed is another script', async (_, code) => {
    const values = code.values(seeded(SEED));
    const text = code.render(values);
    // Keys inside a JSON slot are the slot's data (a cart row's fields); everything outside is the template's.
    const spans = code.slotSpans(values);
    const inSlot = (offset: number) => spans.some(([start, end]) => offset >= start && offset < end);
    const renamable = codeTokens(parseCode(text, code.goal)!).filter((t) => (t.label === 'name' || t.label === 'string') && !inSlot(t.start));
    expect(renamable.length).toBeGreaterThan(0);
    for (const token of renamable) {
      const renamed = token.label === 'name' ? `${token.text}X` : `${token.text.slice(0, -1)}X${token.text.slice(-1)}`;
      const tampered = text.slice(0, token.start) + renamed + text.slice(token.end);
      const findings = await codeFindings(code, tampered);
      expect(findings.every((f) => f.allowed), tampered).toBe(false);
    }
  });

  it('a foreign place in a free-text string slot is inline-template-slot, in every spelling', async () => {
    const code = TEMPLATED_CODE.find((c) => c.name === 'shopify-st')!;
    const clean = code.values(seeded(SEED));
    for (const place of FOREIGN_PLACES) {
      const [finding] = await codeFindings(code, code.render({ ...clean, pageurl: `"${place}"` }));
      expect(finding, place).toMatchObject({ allowed: false, reason: 'inline-template-slot' });
    }
  });

  it('a foreign place anywhere in a JSON slot is inline-template-slot, in every spelling', async () => {
    for (const name of ['magento-checkout-config', 'evershop-context']) {
      const code = TEMPLATED_CODE.find((c) => c.name === name)!;
      const clean = code.values(seeded(SEED));
      const slot = Object.keys(code.entry.slots)[0]!;
      for (const place of FOREIGN_PLACES) {
        // The last string value of the JSON carries the place (deep in the structure).
        const json = clean[slot]!;
        const at = json.lastIndexOf(':"');
        const tampered = `${json.slice(0, at)}:"${place}"${json.slice(json.indexOf('"', at + 2) + 1)}`;
        const [finding] = await codeFindings(code, code.render({ ...clean, [slot]: tampered }));
        expect(finding, `${name}: ${place}`).toMatchObject({ allowed: false, reason: 'inline-template-slot' });
      }
    }
  });

  it('a place the policy names, the site, a relative path and an image data: URL are allowed in a slot', async () => {
    const code = TEMPLATED_CODE.find((c) => c.name === 'shopify-st')!;
    const clean = code.values(seeded(SEED));
    for (const place of ['https://shop.example/cart', 'https://pay.gateway.example/charge', 'img.cdn.example', '/checkout/', 'data:image/png;base64,AAAA', 'logo.png', 'mailto:help@shop.example']) {
      const [finding] = await codeFindings(code, code.render({ ...clean, pageurl: `"${place}"` }));
      expect(finding, place).toMatchObject({ allowed: true });
    }
  });

  it('a slot string cut at its end (a stream piece) may end in the start of an allowed origin, never of a foreign one', async () => {
    const code = TEMPLATED_CODE.find((c) => c.name === 'next-flight-push')!;
    const piece = (tail: string) => code.render({ payload: JSON.stringify(`1:["$","a",null,{"href":"${tail}`) });
    const [allowed] = await codeFindings(code, piece('https://shop.exam'));
    expect(allowed).toMatchObject({ allowed: true });
    for (const tail of ['https://skim.attacker.exam', 'https://shop.example.skim.attacker.example', 'https://shop.example@skim.attacker.example']) {
      const [refused] = await codeFindings(code, piece(tail));
      expect(refused, tail).toMatchObject({ allowed: false, reason: 'inline-template-slot' });
    }
  });

  it('slot constraints hold: charset, length, integer, range', async () => {
    const code = TEMPLATED_CODE.find((c) => c.name === 'woocommerce-blocks-middleware')!;
    for (const nonce of ["'7784d3df1z'", "'7784d3df1'", "'7784d3df17a'", '7784', 'true', 'null']) {
      const [finding] = await codeFindings(code, code.render({ nonce, time: "'1706789303'" }));
      expect(finding, nonce).toMatchObject({ allowed: false, reason: 'inline-code' });
    }
    const handler = TEMPLATED_CODE.find((c) => c.name === 'add-to-cart-handler')!;
    for (const qty of ['0', '100', '1.5', '-1', "'1'"]) {
      const [finding] = await codeFindings(handler, handler.render({ id: '7', qty }));
      expect(finding, qty).toMatchObject({ allowed: false, reason: 'inline-code' });
    }
  });

  it('the same tokens that parse to another tree do not match: a directive, and a line break before a negative number', async () => {
    const directive: AllowEntry = { type: 'template', template: '$slot$s;\nx = 1;', slots: { s: { type: 'string' } }, why: 't' };
    const [d] = (await verifyHtml("<script>'use strict';\nx = 1;</script>", { policy: policyOf([directive]) })).findings;
    expect(d).toMatchObject({ allowed: false, reason: 'inline-code' });
    const asi: AllowEntry = { type: 'template', template: 'x = a\n$slot$n', slots: { n: { type: 'number' } }, why: 't' };
    // `x = a\n-5` is `x = a - 5`: one statement, where the template had two.
    const [n] = (await verifyHtml('<script>x = a\n-5</script>', { policy: policyOf([asi]) })).findings;
    expect(n).toMatchObject({ allowed: false, reason: 'inline-code' });
    // A literal that is a statement of its own does nothing but can be a directive: never a slot.
    const [alone] = (await verifyHtml('<script>x = a\n5</script>', { policy: policyOf([asi]) })).findings;
    expect(alone).toMatchObject({ allowed: false, reason: 'inline-code' });
  });

  it('an exact hash wins over a template, and a template never allows a javascript: URL', async () => {
    const code = TEMPLATED_CODE[0]!;
    const text = code.render(code.values(seeded(SEED)));
    const hash: AllowEntry = { type: 'hash', hash: cspHashes(text)[0]!, why: 'this exact rendering' };
    const [finding] = (await verifyHtml(page(code, text), { policy: policyOf([code.entry, hash]) })).findings.filter((f) => f.list === 'inline');
    expect(finding?.entry).toEqual(hash);
    const js: AllowEntry = { type: 'template', template: 'javascript:go($slot$n)', slots: { n: { type: 'number' } }, why: 't' };
    const v = await verifyHtml('<a href="javascript:go(1)">x</a>', { policy: policyOf([js]) });
    expect(v.violations.map((f) => f.reason)).toEqual(['javascript-url']);
  });

  it('module scripts match templates that parse as modules', async () => {
    const entry: AllowEntry = { type: 'template', template: "import { start } from '/static/app.js';\nstart($slot$config);", slots: { config: { type: 'json' } }, why: 't' };
    const v = await verifyHtml('<script type=module>import { start } from \'/static/app.js\';\nstart({"cart":[1,2]});</script>', { policy: policyOf([entry]) });
    expect(v.findings.filter((f) => f.list === 'inline')).toMatchObject([{ allowed: true, entry }]);
  });

  it('templateAcceptance lists the sha256 of each accepted script and handler, and says a handler needs unsafe-hashes', async () => {
    const woo = TEMPLATED_CODE[0]!;
    const handler = TEMPLATED_CODE.find((c) => c.name === 'add-to-cart-handler')!;
    const script = woo.render(woo.values(seeded(SEED)));
    const onclick = handler.render(handler.values(seeded(SEED)));
    const v = await verifyHtml(`<!DOCTYPE html><script>${script}</script><button onclick="${onclick}">Add</button><script>${script}</script>`, { policy: ALL });
    const accepted = templateAcceptance(v.findings)!;
    expect(accepted.hashSources).toEqual([`'${cspHashes(script)[0]}'`, `'${cspHashes(onclick)[0]}'`]);
    expect(accepted.handlers).toBe(true);
    expect(accepted.scriptOffsets).toHaveLength(2);
    expect(templateAcceptance((await verifyHtml('<p>no code</p>', { policy: ALL })).findings)).toBeUndefined();
  });
});

describe('template entries in the policy file', () => {
  const head = 'schema: 1\nserial: 1\nsite: https://shop.example\nroutes:\n  - { path: /checkout/**, mode: block }\nallow:\n  inline:\n';
  const cases: [string, string, RegExp, string][] = [
    ['an undeclared slot', '    - template: "var a = $slot$b;"\n      slots: { c: { type: string } }\n      why: w\n', /\$slot\$b is not declared/, 'allow.inline[0].template'],
    ['an unused slot', '    - template: "var a = $slot$b;"\n      slots: { b: { type: string }, c: { type: number } }\n      why: w\n', /slot c is declared but the template never uses it/, 'allow.inline[0].template'],
    ['a slot as an object key', '    - template: "var a = { $slot$k: 1 };"\n      slots: { k: { type: string } }\n      why: w\n', /stands for an object key/, 'allow.inline[0].template'],
    ['not JavaScript', '    - template: "var a = ;"\n      slots: { b: { type: string } }\n      why: w\n', /not JavaScript/, 'allow.inline[0].template'],
    ['a charset on a number', '    - template: "var a = $slot$b;"\n      slots: { b: { type: number, charset: hex } }\n      why: w\n', /charset does not apply to a number slot/, 'allow.inline[0].slots.b'],
    ['an empty length range', '    - template: "var a = $slot$b;"\n      slots: { b: { type: string, length: [5, 2] } }\n      why: w\n', /length \[5, 2\]/, 'allow.inline[0].slots.b'],
    ['slots without a template', '    - hash: "sha256-djPdT5J1kuWFwawDhtbzz0YHt/63i3CUBG3CyUjLa4c="\n      slots: { b: { type: string } }\n      why: w\n', /belongs to a template entry/, 'allow.inline[0].slots'],
    ['a template without slots', '    - template: "var a = 1;"\n      why: w\n', /"hash" or "template"/, 'allow.inline[0]'],
    ['an unknown slot type', '    - template: "var a = $slot$b;"\n      slots: { b: { type: regexp } }\n      why: w\n', /must be one of string, number, boolean, null, json/, 'allow.inline[0].slots.b.type'],
  ];
  it.each(cases)('%s is refused with the file, line and field', (_, entry, message, field) => {
    let caught: unknown;
    try {
      parsePolicyText(head + entry, 'policy.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    expect((caught as PolicyError).message).toMatch(message);
    expect((caught as PolicyError).field).toBe(field);
    expect((caught as PolicyError).line).toBeGreaterThanOrEqual(8);
  });

  it('a valid template entry loads with its slots', () => {
    const policy = parsePolicyText(head + '    - template: |\n        var c = { n: $slot$n, t: $slot$t };\n      slots:\n        n: { type: string, charset: hex, length: [10, 10] }\n        t: { type: number, integer: true }\n      why: nonce and time\n', 'policy.yaml');
    expect(policy.allow.inline[0]).toMatchObject({ type: 'template', template: 'var c = { n: $slot$n, t: $slot$t };\n', slots: { n: { type: 'string', charset: 'hex', length: [10, 10] } } });
  });
});
