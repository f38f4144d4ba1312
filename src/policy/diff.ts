/**
 * What a release changes in a policy, for the person who reviews it before signing. Additions
 * and removals are listed, and every change that makes the allowlist accept more than before is
 * called out as "loosened": those are the changes an intruder who got a policy edit past review
 * would make (PCI DSS 6.4.3: each script authorised; 11.6.1: unauthorised changes detected).
 */
import { templateLabel } from './inline-template.js';
import { ALLOW_KINDS, type AllowEntry, type AllowKind, type FirstPartyManifest, type Policy, type RouteMode } from './model.js';

export type PolicyChangeKind = 'added' | 'removed' | 'changed' | 'loosened';

export interface PolicyChange {
  readonly change: PolicyChangeKind;
  /** `allow.script`, `routes`, `site`, `charset`. */
  readonly where: string;
  /** What the change is about: an origin, URL, hash or route pattern. */
  readonly subject: string;
  /** A sentence for the reviewer. */
  readonly detail: string;
}

export function diffPolicies(old: Policy, next: Policy): PolicyChange[] {
  return [
    ...diffHeader(old, next),
    ...diffRoutes(old, next),
    ...ALLOW_KINDS.flatMap((kind) => diffAllowList(kind, old.allow[kind], next.allow[kind])),
    ...diffFirstParty(old.firstParty, next.firstParty),
  ];
}

/**
 * The release manifest (issue 17, class 3). New files and new bytes are a release's ordinary
 * changes; what loosens it is the manifest removed (every same-origin script allowed again), a
 * base dropped (unlisted code under it no longer refused) or a script now generated per request
 * (served without a hash).
 */
function diffFirstParty(old: FirstPartyManifest | undefined, next: FirstPartyManifest | undefined): PolicyChange[] {
  if (!old && !next) return [];
  if (!next) return [{ change: 'loosened', where: 'firstParty', subject: '(manifest)', detail: "release manifest removed: every script on the site's origin is allowed again, unverified" }];
  if (!old) return [{ change: 'added', where: 'firstParty', subject: '(manifest)', detail: `release manifest added: ${Object.keys(next.scripts).length} scripts, ${Object.keys(next.data).length} data files` }];
  const changes: PolicyChange[] = [];
  for (const base of old.base) {
    if (!next.base.some((b) => b.key === base.key)) changes.push({ change: 'loosened', where: 'firstParty.base', subject: base.path, detail: 'base removed: unlisted code files under it are no longer refused' });
  }
  for (const base of next.base) {
    if (!old.base.some((b) => b.key === base.key)) changes.push({ change: 'added', where: 'firstParty.base', subject: base.path, detail: 'base added' });
  }
  for (const list of ['scripts', 'data'] as const) {
    const where = `firstParty.${list}`;
    for (const [key, file] of Object.entries(next[list])) {
      const before = Object.hasOwn(old[list], key) ? old[list][key] : undefined;
      if (!before) changes.push({ change: 'added', where, subject: file.path, detail: `${file.path} added` });
      else if (before.integrity.join(' ') !== file.integrity.join(' ')) changes.push({ change: 'changed', where, subject: file.path, detail: `new bytes approved: ${file.integrity.join(' ')}` });
    }
    for (const [key, file] of Object.entries(old[list])) {
      if (!Object.hasOwn(next[list], key)) changes.push({ change: 'removed', where, subject: file.path, detail: `${file.path} removed` });
    }
  }
  for (const [key, script] of Object.entries(next.generated)) {
    if (!Object.hasOwn(old.generated, key)) changes.push({ change: 'loosened', where: 'firstParty.generated', subject: script.path, detail: `now served without integrity, as generated per request: "${script.why}"` });
  }
  for (const [key, script] of Object.entries(old.generated)) {
    if (!Object.hasOwn(next.generated, key)) changes.push({ change: 'removed', where: 'firstParty.generated', subject: script.path, detail: 'no longer generated per request' });
  }
  return changes;
}

function diffHeader(old: Policy, next: Policy): PolicyChange[] {
  const changes: PolicyChange[] = [];
  if (old.site !== next.site) {
    changes.push({ change: 'loosened', where: 'site', subject: next.site, detail: `the site origin (always allowed) changed from ${old.site} to ${next.site}` });
  }
  if (old.defaultCharset !== next.defaultCharset) {
    changes.push({ change: 'changed', where: 'charset', subject: next.defaultCharset, detail: `default charset changed from ${old.defaultCharset} to ${next.defaultCharset}` });
  }
  return changes;
}

/** block enforces most; a move towards report is a loosening. */
const MODE_STRENGTH: Record<RouteMode, number> = { report: 0, rewrite: 1, block: 2 };

function diffRoutes(old: Policy, next: Policy): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const nextByPath = new Map(next.routes.map((r) => [r.path, r]));
  const oldByPath = new Map(old.routes.map((r) => [r.path, r]));
  for (const route of old.routes) {
    const now = nextByPath.get(route.path);
    if (!now) {
      // Paths the route covered now fall to a later route or to report mode.
      changes.push({ change: 'loosened', where: 'routes', subject: route.path, detail: `route removed (was ${route.mode}); its paths fall through to a later route or report mode` });
    } else if (MODE_STRENGTH[now.mode] < MODE_STRENGTH[route.mode]) {
      changes.push({ change: 'loosened', where: 'routes', subject: route.path, detail: `mode weakened from ${route.mode} to ${now.mode}` });
    } else if (now.mode !== route.mode) {
      changes.push({ change: 'changed', where: 'routes', subject: route.path, detail: `mode strengthened from ${route.mode} to ${now.mode}` });
    }
    if (now && now.scriptEval === true && route.scriptEval !== true) {
      changes.push({ change: 'loosened', where: 'routes', subject: route.path, detail: "scriptEval turned on: the browser now runs eval and new Function on this route ('unsafe-eval')" });
    }
    if (now && now.strictDynamic === true && route.strictDynamic !== true) {
      changes.push({ change: 'loosened', where: 'routes', subject: route.path, detail: "strictDynamic turned on: scripts an allowed script loads are trusted too ('strict-dynamic')" });
    }
  }
  for (const route of next.routes) {
    if (!oldByPath.has(route.path)) changes.push({ change: 'added', where: 'routes', subject: route.path, detail: `route added (${route.mode})` });
  }
  // First match wins, so moving a report route above a block route weakens the block route.
  const order = (p: Policy) => p.routes.map((r) => r.path).filter((path) => oldByPath.has(path) && nextByPath.has(path));
  if (order(old).join('\n') !== order(next).join('\n')) {
    changes.push({ change: 'changed', where: 'routes', subject: '(order)', detail: 'routes were reordered; first match wins, check which route each path now takes' });
  }
  return changes;
}

function entryKey(entry: AllowEntry): string {
  if (entry.type === 'origin') return entry.origin;
  if (entry.type === 'url') return entry.url;
  if (entry.type === 'template') return `template ${templateLabel(entry.template)}`;
  return entry.hash;
}

function diffAllowList(kind: AllowKind, oldEntries: readonly AllowEntry[], nextEntries: readonly AllowEntry[]): PolicyChange[] {
  const where = `allow.${kind}`;
  const changes: PolicyChange[] = [];
  const oldByKey = new Map(oldEntries.map((e) => [entryKey(e), e]));
  const nextByKey = new Map(nextEntries.map((e) => [entryKey(e), e]));
  for (const [key, entry] of nextByKey) {
    const before = oldByKey.get(key);
    if (!before) {
      changes.push(addedEntry(where, key, entry, oldEntries));
      continue;
    }
    changes.push(...changedEntry(where, key, before, entry));
  }
  for (const [key, entry] of oldByKey) {
    if (!nextByKey.has(key)) changes.push({ change: 'removed', where, subject: key, detail: `${describe(entry)} removed` });
  }
  return changes;
}

/** An added entry is a loosening when it covers URLs that narrower old entries named one by one. */
function addedEntry(where: string, key: string, entry: AllowEntry, oldEntries: readonly AllowEntry[]): PolicyChange {
  const covered = oldEntries.filter((old) => old.type === 'url' && covers(entry, old.url));
  if (covered.length > 0) {
    const names = covered.map(entryKey).join(', ');
    return { change: 'loosened', where, subject: key, detail: `${describe(entry)} added; it widens the url entries ${names} to everything it covers` };
  }
  return { change: 'added', where, subject: key, detail: `${describe(entry)} added: "${entry.why}"` };
}

function covers(entry: AllowEntry, url: string): boolean {
  if (entry.type === 'origin') return URL.canParse(url) && new URL(url).origin === entry.origin;
  if (entry.type === 'url') return entry.prefix && url.startsWith(entry.url) && url !== entry.url;
  return false;
}

function changedEntry(where: string, key: string, before: AllowEntry, after: AllowEntry): PolicyChange[] {
  const changes: PolicyChange[] = [];
  if (before.type === 'template' && after.type === 'template' && JSON.stringify(before.slots) !== JSON.stringify(after.slots)) {
    // A slot's type, charset or length is what keeps a rendering's values data: a reviewer reads each change.
    changes.push({ change: 'changed', where, subject: key, detail: `slots now ${JSON.stringify(after.slots)} (were ${JSON.stringify(before.slots)})` });
  }
  if ((before.type === 'origin' || before.type === 'url') && (after.type === 'origin' || after.type === 'url')) {
    const was = before.integrity ?? [];
    const now = after.integrity ?? [];
    if (was.length > 0 && now.length === 0) {
      changes.push({ change: 'loosened', where, subject: key, detail: 'integrity dropped: any body from this address is now accepted' });
    } else if (now.some((h) => !was.includes(h))) {
      // A new hash is a new script body approved (a library upgrade, or a swapped file).
      const added = now.filter((h) => !was.includes(h));
      changes.push({ change: 'changed', where, subject: key, detail: `integrity now accepts ${added.join(' ')}` });
    } else if (was.some((h) => !now.includes(h))) {
      changes.push({ change: 'changed', where, subject: key, detail: `integrity no longer accepts ${was.filter((h) => !now.includes(h)).join(' ')}` });
    }
  }
  if (before.why !== after.why) changes.push({ change: 'changed', where, subject: key, detail: `justification changed from "${before.why}" to "${after.why}"` });
  return changes;
}

function describe(entry: AllowEntry): string {
  if (entry.type === 'origin') return `origin ${entry.origin}${entry.integrity ? ' (with integrity)' : ''}`;
  if (entry.type === 'url') return `${entry.prefix ? 'url prefix' : 'url'} ${entry.url}${entry.integrity ? ' (with integrity)' : ''}`;
  if (entry.type === 'template') return `inline template ${templateLabel(entry.template)} (${Object.keys(entry.slots).length} slots)`;
  return `inline hash ${entry.hash}`;
}
