/**
 * What a crawl found, grouped: every form target, script (with its SRI hash), frame, navigation
 * target, connection target and inline script hash, each with the pages it appears on. This is
 * the raw material of the PCI DSS 6.4.3 inventory and of a first policy.
 */
import { ALLOW_KINDS, type AllowKind } from '../policy/model.js';
import type { Finding } from '../verify/types.js';
import { isExternalScript, type CrawlResult } from './crawl.js';

export interface InventoryItem {
  readonly list: AllowKind;
  /** The finding kinds it was seen as (form-action, script, module-preload, inline-script…). */
  readonly kinds: readonly string[];
  /** The URL (no fragment) for addresses, the sha256 CSP hash source for inline code. */
  readonly address: string;
  readonly origin: string | undefined;
  /** For inline code: every CSP hash source of it (a policy may list the sha384 or sha512 one). */
  readonly hashes: readonly string[] | undefined;
  /** For scripts: the SRI sha384 of the body fetched. */
  readonly sri: string | undefined;
  /** Pages (origin + path) it appears on. */
  readonly pages: readonly string[];
  /** True when it is on the site's own origin ("self", always allowed). */
  readonly self: boolean;
  /**
   * Learned from live traffic only through browsers' CSP reports (record.ts): how many, from how
   * many clients. Anyone can post a report, so the draft marks such an entry for review.
   */
  readonly reports?: { readonly count: number; readonly clients: number };
}

export function buildInventory(result: CrawlResult, site: string): InventoryItem[] {
  const items = new Map<string, { list: AllowKind; kinds: Set<string>; address: string; origin: string | undefined; hashes: readonly string[] | undefined; pages: Set<string> }>();
  for (const page of result.pages) {
    for (const finding of page.findings) {
      const address = addressOf(finding);
      if (address === undefined) continue;
      const key = `${finding.list} ${address}`;
      let item = items.get(key);
      if (!item) {
        item = { list: finding.list, kinds: new Set(), address, origin: finding.origin, hashes: finding.list === 'inline' ? finding.hashes : undefined, pages: new Set() };
        items.set(key, item);
      }
      item.kinds.add(finding.kind);
      item.pages.add(page.page);
    }
  }
  return [...items.values()]
    .map((i) => ({
      list: i.list,
      kinds: [...i.kinds].sort(),
      address: i.address,
      origin: i.origin,
      hashes: i.hashes,
      sri: i.list === 'script' ? result.scriptHashes.get(i.address)?.sri : undefined,
      pages: [...i.pages].sort(),
      self: i.origin === site,
    }))
    .sort((a, b) => ALLOW_KINDS.indexOf(a.list) - ALLOW_KINDS.indexOf(b.list) || a.address.localeCompare(b.address));
}

/** What identifies a finding in the inventory: its URL without fragment, or its sha256 hash. */
export function addressOf(finding: Finding): string | undefined {
  if (finding.list === 'inline') return finding.hashes?.find((h) => h.startsWith('sha256-'));
  if (finding.url === undefined || !URL.canParse(finding.url)) return undefined;
  if (finding.list === 'script' && !isExternalScript(finding)) return finding.url;
  const url = new URL(finding.url);
  url.hash = '';
  return url.href;
}
