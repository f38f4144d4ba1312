/**
 * Policy literals for the verifier's tests (the YAML loader is built separately). Frozen, like the
 * loader's output.
 */
import type { AllowEntry, Policy, RouteMode } from '../../src/policy/model.js';
import type { DocumentInput, HeaderList } from '../../src/verify/types.js';

export const SITE = 'https://shop.example';
export const PAGE_URL = `${SITE}/checkout/`;

export function testPolicy(overrides: Partial<Policy> = {}): Policy {
  const allow: Policy['allow'] = {
    form: [{ type: 'url', url: 'https://pay.gateway.example/charge', prefix: false, why: 'card payment gateway' }],
    script: [
      { type: 'origin', origin: 'https://js.gateway.example', why: 'gateway tokenisation library' },
      { type: 'url', url: 'https://cdn.example/lib/', prefix: true, why: 'pinned library CDN path' },
    ],
    frame: [{ type: 'origin', origin: 'https://frames.gateway.example', why: 'gateway card iframe' }],
    navigate: [{ type: 'origin', origin: 'https://pay.gateway.example', why: '3-D Secure redirect' }],
    connect: [],
    image: [
      { type: 'origin', origin: 'https://img.cdn.example', why: 'product images' },
      { type: 'url', url: 'https://stats.example/pixel.gif', prefix: false, why: 'no-JS visit counter' },
    ],
    style: [{ type: 'origin', origin: 'https://fonts.example', why: 'web font stylesheet' }],
    font: [{ type: 'origin', origin: 'https://fonts.example', why: 'web fonts' }],
    media: [{ type: 'origin', origin: 'https://media.example', why: 'how-to video' }],
    manifest: [],
    inline: [],
  };
  return deepFreeze({
    schema: 1,
    serial: 1,
    site: SITE,
    routes: [{ path: '/checkout/**', mode: 'block' }],
    allow,
    defaultCharset: 'windows-1252',
    ...overrides,
  } as Policy);
}

export function withInline(policy: Policy, entries: readonly AllowEntry[]): Policy {
  return deepFreeze({ ...policy, allow: { ...policy.allow, inline: entries } });
}

export function htmlInput(
  html: string | Uint8Array,
  options: { headers?: HeaderList; policy?: Policy; mode?: RouteMode; url?: string } = {},
): DocumentInput {
  return {
    bytes: typeof html === 'string' ? new TextEncoder().encode(html) : html,
    url: options.url ?? PAGE_URL,
    headers: options.headers ?? [['content-type', 'text/html; charset=utf-8']],
    policy: options.policy ?? testPolicy(),
    mode: options.mode ?? 'block',
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Verifies an HTML string (UTF-8) and returns the verdict. */
export async function verifyHtml(html: string | Uint8Array, options: Parameters<typeof htmlInput>[1] = {}) {
  const { verifyDocument } = await import('../../src/verify/index.js');
  return verifyDocument(htmlInput(html, options));
}
