/**
 * A first policy from an inventory. Every entry gets `why: TODO`, which `payguard sign` refuses:
 * the draft saves the typing, a person still has to justify each entry (PCI DSS 6.4.3).
 * Scripts and form targets are pinned by exact URL (scripts also by integrity), because an
 * origin entry on a shared host trusts every tenant; frames, navigation and connection targets
 * by origin, since their paths often carry per-order tokens.
 */
import { Document } from 'yaml';
import type { AllowKind } from '../policy/model.js';
import type { InventoryItem } from './inventory.js';

/** Path words that mark a payment page: guessed routes in block mode. */
const PAYMENT_WORDS = /checkout|payment|cart/i;

export function draftPolicyYaml(items: readonly InventoryItem[], site: string, pages: readonly string[]): string {
  const allow: Partial<Record<AllowKind, object[]>> = {};
  const add = (list: AllowKind, entry: object, key: string, seen: Set<string>): void => {
    if (seen.has(`${list} ${key}`)) return;
    seen.add(`${list} ${key}`);
    (allow[list] ??= []).push(entry);
  };
  const seen = new Set<string>();
  for (const item of items) {
    if (item.self) continue;
    if (item.list === 'inline') add('inline', { hash: item.address, why: 'TODO' }, item.address, seen);
    else if (!/^https?:/.test(item.address)) continue; // javascript:, data:: never allowable
    else if (item.list === 'script') add('script', { url: item.address, integrity: item.sri ?? 'sha384-...', why: 'TODO' }, item.address, seen);
    else if (item.list === 'form') add('form', { url: item.address, why: 'TODO' }, item.address, seen);
    else if (item.origin !== undefined) add(item.list, { origin: item.origin, why: 'TODO' }, item.origin, seen);
  }
  const doc = new Document({ schema: 1, serial: 1, site, routes: guessRoutes(pages), allow });
  doc.commentBefore = [
    ' Draft written by "payguard inventory". Before signing:',
    ' - replace every "why: TODO" with the business or technical reason (PCI DSS 6.4.3);',
    ' - check the guessed routes (paths with checkout/payment/cart are in block mode);',
    ' - run "payguard policy lint" on it.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** `/shop/checkout/step2` → `/shop/checkout/**`: the subtree from the first segment naming payment. */
export function guessRoutes(pages: readonly string[]): { path: string; mode: 'block' | 'report' }[] {
  const patterns = new Set<string>();
  for (const page of pages) {
    const segments = new URL(page).pathname.split('/').slice(1);
    const i = segments.findIndex((s) => PAYMENT_WORDS.test(s));
    if (i >= 0) patterns.add('/' + [...segments.slice(0, i + 1), '**'].join('/'));
  }
  return [...[...patterns].sort().map((path) => ({ path, mode: 'block' as const })), { path: '/**', mode: 'report' }];
}
