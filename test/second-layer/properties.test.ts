/**
 * Properties, with the invariant in each name (fast-check; the seed is printed on failure so a
 * case replays).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchAllow } from '../../src/policy/allow.js';
import { compilePolicy } from '../../src/policy/compiled.js';
import { cspDirectives } from '../../src/policy/csp.js';
import { addScriptIntegrity } from '../../src/verify/sri-attributes.js';
import { verifyDocument } from '../../src/verify/index.js';
import { BASE_POLICY, policyFrom } from './policy.js';

const host = fc.stringMatching(/^[a-z]{1,8}\.example$/);
const origin = fc.tuple(fc.constantFrom('https', 'http'), host, fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }))
  .map(([scheme, h, port]) => `${scheme}://${h}${port ? `:${port}` : ''}`);

describe('cspDirectives', () => {
  it('every origin the policy allows for forms, frames, connections and passive loads is in its directive, and no wildcard or self ever is', () => {
    fc.assert(
      fc.property(fc.uniqueArray(origin, { minLength: 1, maxLength: 6 }), fc.constantFrom('form', 'frame', 'connect', 'image', 'style', 'font', 'media', 'manifest'), (origins, kind) => {
        const list = origins.map((o) => `    - { origin: "${o}", why: test }`).join('\n');
        const yaml = `schema: 1\nserial: 1\nsite: https://shop.example\nroutes: [{ path: /**, mode: block }]\nallow:\n  ${kind}:\n${list}\n`;
        const policy = policyFrom(yaml);
        const name = { form: 'form-action', frame: 'frame-src', connect: 'connect-src', image: 'img-src', style: 'style-src', font: 'font-src', media: 'media-src', manifest: 'manifest-src' }[kind];
        const directives = cspDirectives(policy, compilePolicy(policy).route('/').route, 'https://shop.example/r');
        const sources = directives.find((d) => d.startsWith(`${name} `))!.split(' ').slice(1);
        for (const o of origins) expect(sources).toContain(new URL(o).origin);
        for (const d of directives) {
          if (d.startsWith('base-uri')) continue;
          // style-src keeps 'unsafe-inline' for inline styles; every fetch CSS makes is governed elsewhere (csp.ts).
          expect(d.startsWith('style-src ') ? d.replace(/ 'unsafe-inline'$/, '') : d).not.toMatch(/'self'|'unsafe-inline'|'unsafe-eval'|(^| )\*( |$)|(^| )https?:( |$)/);
        }
      }),
    );
  });
});

describe('addScriptIntegrity', () => {
  const policy = policyFrom(BASE_POLICY);
  const PINNED = 'https://js.gateway.example/v3/token.js';
  const filler = fc.constantFrom('', '<p>café ☕</p>', '<!-- <script src=x> -->', '<div title="<script">', '\n', '<template><script src="https://js.gateway.example/v3/token.js"></script></template>');
  const attrs = fc.subarray(['defer', 'async', 'integrity="sha384-wrong"', 'crossorigin="use-credentials"', 'data-x="<script src=y>"', "type='text/javascript'"]);
  const tag = fc.tuple(attrs, fc.constantFrom(' ', '\n', '\t'), fc.constantFrom('script', 'SCRIPT', 'Script')).map(
    ([a, space, name]) => `<${name}${space}${[...a, `src="${PINNED}"`].join(' ')}></${name}>`,
  );

  it('changes no byte outside the inserted attributes, and every pinned tag ends up with the policy integrity first', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(filler, tag), { maxLength: 8 }), (parts) => {
        const html = `<!DOCTYPE html><meta charset=utf-8>${parts.join('')}`;
        const input = { bytes: Buffer.from(html), url: 'https://shop.example/checkout', headers: [['content-type', 'text/html']] as const, policy, mode: 'report' as const };
        const verified = verifyDocument(input);
        const out = addScriptIntegrity(input, verified);
        const pinnedTags = verified.findings.filter((f) => f.kind === 'script' && f.url === PINNED && f.context !== 'srcdoc').length;
        if (pinnedTags === 0) {
          expect(out).toBeUndefined();
          return;
        }
        const inserted = ` integrity="${(matchAllow(policy, 'script', new URL(PINNED)) as { integrity?: readonly string[] }).integrity!.join(' ')}" crossorigin="anonymous"`;
        const text = Buffer.from(out!).toString('utf8');
        expect(text.split(inserted).length - 1).toBe(pinnedTags);
        expect(text.split(inserted).join('')).toBe(html);
      }),
    );
  });
});
