/**
 * The learner behind `serve --learn` on its own (src/proxy/learning/traffic-learner.ts), fed pages
 * verified by the real verifier: its caps, a restart that carries the record on, reports that
 * never keep a query, and the learning of nested state objects (inventory/templates.ts) over
 * generated shapes: keys that are the same in every rendering stay written out however the values
 * inside vary; an object whose keys differ between renderings is one JSON slot.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LearningRecordError } from '../../src/errors.js';
import { draftPolicyYaml } from '../../src/inventory/draft.js';
import { recordItems } from '../../src/inventory/record.js';
import { learnInlineTemplates } from '../../src/inventory/templates.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { LIMITS } from '../../src/limits.js';
import { TrafficLearner } from '../../src/proxy/learning/traffic-learner.js';
import { verifyDocument } from '../../src/verify/index.js';
import { parsedPolicyWith } from '../helpers/policies.js';

const dir = mkdtempSync(join(tmpdir(), 'payguard-learner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SITE = 'https://shop.example';
const policy = parsedPolicyWith({ site: SITE, routes: [{ path: '/**', mode: 'report' }] });
const HEADERS: [string, string][] = [['content-type', 'text/html; charset=utf-8']];
const logger = { violation: () => undefined, event: () => undefined, error: (name: string, err: unknown) => { throw new Error(`${name}: ${String(err)}`); } };

function observe(learner: TrafficLearner, path: string, html: string): void {
  const bytes = new TextEncoder().encode(html);
  const url = SITE + path;
  learner.document({ url, site: SITE, verified: verifyDocument({ bytes, url, headers: HEADERS, policy, mode: 'report' }), headers: HEADERS, defaultCharset: 'windows-1252', bytes: async () => bytes });
}

const settle = () => new Promise((r) => setTimeout(r, 20));
const state = (token: string) => `<!DOCTYPE html><script>var s = {"token":"${token}","n":${token.length}};</script><img src="https://cdn.example/a.png?u=${token}">`;

describe('the traffic learner', () => {
  it('reads a page path\'s inline code from its first renderings only, keeps no query, and carries on after a restart', async () => {
    const file = join(dir, 'caps.json');
    const learner = await TrafficLearner.open(file, logger);
    for (let i = 0; i < LIMITS.learnRenderingsPerPage + 8; i++) observe(learner, '/checkout?step=' + i, state(randomBytes(8).toString('hex')));
    await settle();
    learner.browserReport({ directive: 'script-src-elem', blocked: 'https://js.vendor.example/v3/pay.js?key=pk_live_123', documentUrl: `${SITE}/checkout?x=1`, client: '10.0.0.1' });
    learner.browserReport({ directive: 'script-src-elem', blocked: 'https://js.vendor.example/v3/pay.js?key=pk_live_456', documentUrl: `${SITE}/checkout`, client: '10.0.0.2' });
    learner.browserReport({ directive: 'script-src-attr', blocked: 'inline', documentUrl: `${SITE}/checkout`, client: '10.0.0.2' });
    const record = learner.record();
    expect(record.documents).toBe(LIMITS.learnRenderingsPerPage + 8);
    expect(record.pages).toEqual([`${SITE}/checkout`]);
    expect(record.inline).toEqual([expect.objectContaining({ kind: 'template', renderings: LIMITS.learnRenderingsPerPage })]);
    // An image's query (here a per-request token) is never kept.
    expect(record.loads).toEqual([expect.objectContaining({ list: 'image', address: 'https://cdn.example/a.png', origin: 'https://cdn.example' })]);
    expect(JSON.stringify(record)).not.toContain('?u=');
    expect(record.reported).toEqual([{ list: 'script', address: 'https://js.vendor.example/v3/pay.js', origin: 'https://js.vendor.example', directive: 'script-src-elem', reports: 2, clients: 2, pages: [`${SITE}/checkout`] }]);
    expect(record.skipped['report-not-a-load']).toBe(1);
    expect(JSON.stringify(record)).not.toContain('pk_live');
    await learner.close();

    const again = await TrafficLearner.open(file, logger);
    observe(again, '/cart', '<!DOCTYPE html><p>cart');
    const carried = again.record();
    expect(carried.documents).toBe(LIMITS.learnRenderingsPerPage + 9);
    expect(carried.pages).toEqual([`${SITE}/cart`, `${SITE}/checkout`]);
    expect(carried.inline).toEqual(record.inline);
    expect(carried.reported[0]).toMatchObject({ reports: 2, clients: 2 });
    await again.close();
  });

  it('a page whose code the browser reports calling eval gets scriptEval on its guessed block route in the draft', async () => {
    const learner = await TrafficLearner.open(join(dir, 'eval.json'), logger);
    observe(learner, '/checkout/shipping', '<!DOCTYPE html><p>shipping');
    observe(learner, '/about', '<!DOCTYPE html><p>about');
    learner.browserReport({ directive: 'script-src', blocked: 'eval', documentUrl: `${SITE}/checkout/shipping`, client: '10.0.0.3' });
    const record = learner.record();
    await learner.close();
    expect(record.evalPages).toEqual([`${SITE}/checkout/shipping`]);
    const draft = draftPolicyYaml(recordItems(record), record.site, record.pages, record.inline, 'test', record.evalPages);
    expect(draft).toMatch(/# Browsers reported eval[^\n]*\n[^\n]*\n\s+- path: \/checkout\/\*\*\n\s+mode: block\n\s+scriptEval: true/);
    const routes = parsePolicyText(draft, 'draft.yaml').routes;
    expect(routes.map((r) => [r.path, r.scriptEval ?? false])).toEqual([['/checkout/**', true], ['/**', false]]);
  });

  it('refuses a file that is not a learning record, naming it, instead of overwriting it', async () => {
    const file = join(dir, 'not-a-record.json');
    writeFileSync(file, '{"format": 2}');
    await expect(TrafficLearner.open(file, logger)).rejects.toThrow(LearningRecordError);
    await expect(TrafficLearner.open(file, logger)).rejects.toThrow(`${file} (format): expected 1`);
  });

  it('refuses at start a record it cannot write, naming it', async () => {
    const file = join(dir, 'no-such-dir', 'learned.json');
    const quiet = { ...logger, error: () => undefined };
    await expect(TrafficLearner.open(file, quiet)).rejects.toThrow(`${file}: cannot write`);
  });
});

/** A state object of generated shape: fixed keys, values that vary per rendering, a cart of any length. */
function stateObject(seed: number, keys: readonly string[]): string {
  const cart = Array.from({ length: seed % 4 }, (_, i) => ({ sku: `S-${i}`, qty: i + 1 }));
  const values: Record<string, unknown> = {};
  for (const [i, key] of keys.entries()) values[key] = i % 3 === 0 ? randomBytes(6).toString('hex') : i % 3 === 1 ? { nested: randomBytes(3).toString('hex'), cart } : seed * 7 + i;
  return `window.state = ${JSON.stringify(values)};`;
}

describe('learning nested state (generated shapes)', () => {
  it('keeps every key that is the same in every rendering written out, whatever varies inside', () => {
    for (let shape = 0; shape < 25; shape++) {
      const keys = Array.from({ length: 2 + (shape % 5) }, (_, i) => `k${shape}_${i}`);
      const samples = Array.from({ length: 4 }, (_, r) => ({ goal: 'script' as const, text: stateObject(shape + r, keys), page: 'p' }));
      const learned = learnInlineTemplates(samples);
      expect(learned).toHaveLength(1);
      const entry = learned[0]!;
      if (entry.kind !== 'template') throw new Error('expected a template');
      for (const key of keys) expect(entry.template).toContain(`"${key}":`);
      // The learned template, signed as is, accepts a rendering it never saw and refuses a renamed key.
      const learnedPolicy = parsedPolicyWith({ site: SITE, routes: [{ path: '/**', mode: 'block' }], allow: { inline: [{ template: entry.template, slots: entry.slots, why: 'learned' }] } });
      const verify = (text: string) => verifyDocument({ bytes: new TextEncoder().encode(`<!DOCTYPE html><script>${text}</script>`), url: `${SITE}/checkout`, headers: HEADERS, policy: learnedPolicy, mode: 'block' }).violations;
      expect(verify(stateObject(shape + 11, keys))).toEqual([]);
      expect(verify(stateObject(shape + 11, keys).replace(`"${keys[0]}"`, '"renamed"'))).not.toEqual([]);
    }
  });

  it('an object whose keys differ between renderings is one JSON slot', () => {
    const samples = [stateObject(1, ['a', 'b']), stateObject(2, ['a', 'c'])].map((text) => ({ goal: 'script' as const, text, page: 'p' }));
    const [entry] = learnInlineTemplates(samples);
    expect(entry).toMatchObject({ kind: 'template', template: 'window.state = $slot$state;', slots: { state: { type: 'json' } } });
  });
});
