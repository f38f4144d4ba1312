/**
 * An inventory against the policy in force: what is new (seen, not allowed), what is gone
 * (allowed, not seen on any crawled page), and which pinned scripts changed hash.
 */
import { matchAllow, matchInlineHash } from '../policy/allow.js';
import { ALLOW_KINDS, type AllowEntry, type AllowKind, type Policy } from '../policy/model.js';
import { namingEntry } from '../policy/allow.js';
import type { InventoryItem } from './inventory.js';

export interface InventoryDiff {
  readonly new: readonly InventoryItem[];
  readonly gone: readonly { readonly list: AllowKind; readonly entry: AllowEntry }[];
  readonly changedHash: readonly { readonly item: InventoryItem; readonly expected: readonly string[] }[];
}

export function compareWithPolicy(items: readonly InventoryItem[], policy: Policy): InventoryDiff {
  const used = new Set<AllowEntry>();
  const fresh: InventoryItem[] = [];
  const changedHash: { item: InventoryItem; expected: readonly string[] }[] = [];
  for (const item of items) {
    if (item.self) continue;
    const entry = entryFor(policy, item);
    if (!entry) {
      fresh.push(item);
      continue;
    }
    used.add(entry);
    if ((entry.type === 'origin' || entry.type === 'url') && entry.integrity && item.sri !== undefined && !entry.integrity.includes(item.sri)) {
      changedHash.push({ item, expected: entry.integrity });
    }
  }
  const gone = ALLOW_KINDS.flatMap((list) => policy.allow[list].filter((e) => !used.has(e)).map((entry) => ({ list, entry })));
  return { new: fresh, gone, changedHash };
}

function entryFor(policy: Policy, item: InventoryItem): AllowEntry | undefined {
  if (item.list === 'inline') return matchInlineHash(policy, item.hashes ?? [item.address]);
  if (!URL.canParse(item.address)) return undefined;
  const url = new URL(item.address);
  const entry = matchAllow(policy, item.list, url);
  if (entry || !item.kinds.every((k) => k === 'preconnect' || k === 'carried-url')) return entry;
  // A URL carried as data is allowed by any entry on its origin, URL entries included (carried-urls.ts).
  if (item.kinds.every((k) => k === 'carried-url')) return namingEntry(policy, url.origin);
  // A preconnect (passive-judge.ts) is allowed by an origin any list names, so it is new only when none does.
  for (const list of ALLOW_KINDS) {
    const other = list === 'inline' ? undefined : matchAllow(policy, list, url);
    if (other) return other;
  }
  return undefined;
}
