/**
 * A first policy from an inventory. Every entry gets `why: TODO`, which `payguard sign` refuses:
 * the draft saves the typing, a person still has to justify each entry (PCI DSS 6.4.3).
 * Scripts and form targets are pinned by exact URL (scripts also by integrity), because an
 * origin entry on a shared host trusts every tenant; frames, navigation and connection targets
 * by origin, since their paths often carry per-order tokens; so are images, stylesheets, fonts,
 * media and manifests (issue 17 class 2), whose paths change with every release of a theme.
 * The site's own scripts go into a draft release manifest (`firstParty`).
 */
import { Document, isSeq } from 'yaml';
import { compileRoutePattern, normaliseRequestPath } from '../policy/allow.js';
import type { AllowKind } from '../policy/model.js';
import type { InventoryItem } from './inventory.js';
import type { LearnedInline } from './templates.js';

/** Path words that mark a payment page: guessed routes in block mode. */
const PAYMENT_WORDS = /checkout|payment|cart/i;

export function draftPolicyYaml(items: readonly InventoryItem[], site: string, pages: readonly string[], learned?: readonly LearnedInline[], writtenBy = '"payguard inventory"', evalPages: readonly string[] = []): string {
  const allow: Partial<Record<AllowKind, object[]>> = {};
  const notes = new Map<object, string>();
  const add = (list: AllowKind, entry: object, key: string, seen: Set<string>, note?: string): void => {
    if (seen.has(`${list} ${key}`)) return;
    seen.add(`${list} ${key}`);
    (allow[list] ??= []).push(entry);
    if (note) notes.set(entry, note);
  };
  const seen = new Set<string>();
  // A preconnect or dns-prefetch is allowed by an origin in any list (passive-judge.ts): drafting a
  // connect entry for an origin the draft already names elsewhere would widen connect-src for nothing.
  const namedElsewhere = new Set(items.filter((i) => !i.self && !isOnlyPreconnect(i) && i.list !== 'inline').map((i) => i.origin));
  for (const item of items) {
    if (item.self) continue;
    if (isOnlyPreconnect(item) && namedElsewhere.has(item.origin)) continue;
    if (item.list === 'inline') {
      if (!learned) add('inline', { hash: item.address, why: 'TODO' }, item.address, seen);
    }
    else if (!/^https?:/.test(item.address)) continue; // javascript:, data:: never allowable
    else if (item.reports) add(item.list, reportedEntry(item), item.list === 'script' || item.list === 'form' ? item.address : item.origin!, seen, reportNote(item));
    else if (item.list === 'script') add('script', { url: item.address, integrity: item.sri ?? 'sha384-...', why: 'TODO' }, item.address, seen);
    else if (item.list === 'form') add('form', { url: item.address, why: 'TODO' }, item.address, seen);
    else if (item.origin !== undefined) add(item.list, { origin: item.origin, why: 'TODO' }, item.origin, seen);
  }
  for (const entry of learned ?? []) {
    if (entry.kind === 'hash') add('inline', { hash: entry.hash, why: 'TODO' }, entry.hash, seen);
    else add('inline', { template: entry.template, slots: entry.slots, why: 'TODO' }, entry.template, seen);
  }
  const firstParty = draftFirstParty(items);
  const routes = withScriptEval(guessRoutes(pages), evalPages);
  const doc = new Document({ schema: 1, serial: 1, site, routes, allow, ...(firstParty ? { firstParty } : {}) });
  routes.forEach((route, i) => {
    if (!route.scriptEval) return;
    const node = doc.getIn(['routes', i], true) as { commentBefore?: string } | undefined;
    if (node) node.commentBefore = ' Browsers reported eval / new Function on pages of this route: the shop\'s code compiles strings\n (Knockout, underscore templates). scriptEval adds \'unsafe-eval\' here; remove it if that code is gone.';
  });
  for (const [list, entries] of Object.entries(allow)) {
    const seq = doc.getIn(['allow', list], true);
    if (!isSeq(seq)) continue;
    entries.forEach((entry, i) => {
      const note = notes.get(entry);
      if (note) (seq.items[i] as { commentBefore?: string }).commentBefore = note;
    });
  }
  doc.commentBefore = [
    ` Draft written by ${writtenBy}. Before signing:`,
    ' - replace every "why: TODO" with the business or technical reason (PCI DSS 6.4.3);',
    ' - check the guessed routes (paths with checkout/payment/cart are in block mode);',
    ...(learned?.some((e) => e.kind === 'template')
      ? [' - read each inline template: its slots are the literals that differed between renderings; narrow a', '   slot (charset, length) where you know more, and make sure no slot holds what should be fixed;']
      : []),
    ...(firstParty ? [' - firstParty lists only the shop scripts the crawl saw: replace it with "payguard pin BUILD --base PATH",', '   and name scripts built per request under firstParty.generated with their why;'] : []),
    ' - run "payguard policy lint" on it.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

/**
 * A load only browsers reported (a script the vendor bundle injects at run time): by exact URL
 * (origin and path; reports never give the query), and without integrity, because markup payguard
 * could pin does not name it. A person confirms it is the vendor's before signing.
 */
function reportedEntry(item: InventoryItem): object {
  if (item.list === 'script' || item.list === 'form') return { url: item.address, why: 'TODO' };
  return { origin: item.origin, why: 'TODO' };
}

function reportNote(item: InventoryItem): string {
  const { count, clients } = item.reports!;
  return ` Seen only in browsers' CSP reports (${count} report(s) from ${clients} client(s)), on ${item.pages.length} page(s).\n Anyone can post a report: confirm this is the shop's or its vendor's before signing.`;
}

/**
 * The release manifest drafted from the shop's own scripts the crawl saw (issue 17, class 3), by
 * path (the manifest ignores the query) and the SRI hash of the body fetched. Only what the crawled
 * pages name: `payguard pin` over the build output lists every file and adds the base. A script the
 * shop builds per request belongs under `generated`, with its why, instead.
 */
function draftFirstParty(items: readonly InventoryItem[]): { scripts: Record<string, string> } | undefined {
  const scripts: Record<string, string> = {};
  for (const item of items) {
    if (!item.self || item.list !== 'script' || !/^https?:/.test(item.address)) continue;
    scripts[new URL(item.address).pathname] ??= item.sri ?? 'sha384-...';
  }
  return Object.keys(scripts).length > 0 ? { scripts } : undefined;
}

/**
 * Seen only where any list naming the origin allows it: a preconnect (passive-judge.ts), or a URL
 * the page carries as data (issue 17 class 4, finders/carried-urls.ts: a schema.org context, a
 * social link, an og:image), drafted into its own list only when no other entry names the origin.
 */
function isOnlyPreconnect(item: InventoryItem): boolean {
  return item.kinds.length > 0 && item.kinds.every((k) => k === 'preconnect' || k === 'carried-url');
}

/** Block routes with a page whose code the browser reported calling eval get `scriptEval: true`: without it the checkout breaks. */
function withScriptEval(routes: { path: string; mode: 'block' | 'report' }[], evalPages: readonly string[]): { path: string; mode: 'block' | 'report'; scriptEval?: true }[] {
  if (evalPages.length === 0) return routes;
  const paths = evalPages.map((p) => (URL.canParse(p) ? new URL(p).pathname : p));
  return routes.map((route) => {
    if (route.mode !== 'block') return route;
    const pattern = compileRoutePattern(route.path);
    return paths.some((path) => pattern.test(normaliseRequestPath(path))) ? { ...route, scriptEval: true as const } : route;
  });
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
