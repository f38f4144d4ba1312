/**
 * Turning a place the page sends, loads or navigates into a Finding: which allowlist decides it,
 * and why it is not allowed. One place, so every finder applies the same rules.
 */
import { matchAllow, matchInlineHash, namedOrigins, namingEntry } from '../policy/allow.js';
import type { CodeGoal } from '../policy/inline-template.js';
import { firstPartyScript } from '../policy/first-party.js';
import type { AllowEntry, AllowKind, Policy, RouteMode, TemplateEntry } from '../policy/model.js';
import { matchTemplates, templateEntries, type SlotTarget } from './inline-templates.js';
import type { ViolationReason } from '../reasons.js';
import { cspHashes } from './hash.js';
import type { Finding, FindingKind } from './types.js';

/** Where a finding sits (everything except the judgement). */
export interface Place {
  readonly kind: FindingKind;
  readonly list: AllowKind;
  readonly element: string;
  readonly attribute?: string;
  readonly raw?: string;
  readonly line: number;
  readonly col: number;
  readonly offset?: number;
  readonly context?: string;
}

/**
 * What the policy says of one place: allowed (by which entry) or not (and why). A judgement is per
 * place; the verdict is per response (what payguard did with it: src/proxy/ports.ts ResponseVerdict).
 */
export interface Judgement {
  readonly allowed: boolean;
  readonly entry?: AllowEntry;
  readonly reason?: ViolationReason;
  readonly url?: string;
  readonly origin?: string;
  readonly hashes?: readonly string[];
  /**
   * Code a template accepted: its string slots' values, for the check of the stream they may be
   * pieces of (template-streams.ts). Never copied into a finding.
   */
  readonly pieces?: readonly string[];
}

const RAW_LIMIT = 256;

export function truncateRaw(raw: string): string {
  return raw.length > RAW_LIMIT ? `${raw.slice(0, RAW_LIMIT)}…` : raw;
}

export function makeFinding(place: Place, judgement: Judgement): Finding {
  const finding: Record<string, unknown> = { kind: place.kind, list: place.list };
  if (place.raw !== undefined) finding['raw'] = truncateRaw(place.raw);
  if (judgement.url !== undefined) finding['url'] = judgement.url;
  if (judgement.origin !== undefined) finding['origin'] = judgement.origin;
  if (judgement.hashes !== undefined) finding['hashes'] = judgement.hashes;
  finding['element'] = place.element;
  if (place.attribute !== undefined) finding['attribute'] = place.attribute;
  finding['line'] = place.line;
  finding['col'] = place.col;
  if (place.offset !== undefined) finding['offset'] = place.offset;
  if (place.context !== undefined) finding['context'] = place.context;
  finding['allowed'] = judgement.allowed;
  if (judgement.entry !== undefined) finding['entry'] = judgement.entry;
  if (judgement.reason !== undefined) finding['reason'] = judgement.reason;
  return finding as unknown as Finding;
}

/** WHATWG URL parse; undefined for failure (the browser then does nothing with it). */
export function resolveUrl(value: string, base: string | URL): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

/**
 * Inline code (a script's text, an on* handler, a javascript: URL) is allowed by its CSP hash in
 * allow.inline. Issue 3: unknown inline code is a violation only on routes in block or rewrite mode;
 * in report mode it is still listed, with its hashes and no entry, so the inventory shows it.
 */
export function judgeInline(policy: Policy, mode: RouteMode, text: string, reason: ViolationReason, goal?: CodeGoal): Judgement {
  const hashes = cspHashes(text);
  const entry = matchInlineHash(policy, hashes);
  if (entry) return { allowed: true, entry, hashes };
  // Issue 18: an exact hash wins; a template is tried only on a miss, and only for code the
  // browser compiles as a script or handler (a javascript: URL stays hash-only).
  const templates = goal === undefined ? [] : templateEntries(policy);
  if (templates.length > 0) {
    const match = matchTemplates(templates, text, goal!, policy.site);
    if (match.matched) return judgeTemplateMatch(policy, mode, match.entry, match.targets, hashes, match.pieces);
  }
  if (mode === 'report') return { allowed: true, hashes };
  return { allowed: false, reason, hashes };
}

/**
 * Code a template matched is allowed when every place its slots name is the site or named by some
 * allow list (a slot's value is data the template's code may send, load or navigate to). A slot
 * never holds code: a javascript: URL, or a data: URL other than an image, is refused.
 */
function judgeTemplateMatch(policy: Policy, mode: RouteMode, entry: TemplateEntry, targets: readonly SlotTarget[], hashes: readonly string[], pieces: readonly string[]): Judgement {
  for (const target of targets) {
    if (slotPlaceAllowed(policy, target)) continue;
    if (mode === 'report') continue;
    return { allowed: false, entry, reason: 'inline-template-slot', url: target.url.href, origin: target.url.origin, hashes };
  }
  return { allowed: true, entry, hashes, ...(pieces.length > 0 ? { pieces } : {}) };
}

/** A place a slot names is the site or named by some list; `https://shop.exam` cut at a piece's end may be the start of `https://shop.example/…`. */
export function slotPlaceAllowed(policy: Policy, place: { readonly url: URL; readonly cutAtEnd?: string | undefined }): boolean {
  if (slotTargetAllowed(policy, place.url)) return true;
  return place.cutAtEnd !== undefined && namedOrigins(policy).some((origin) => origin.startsWith(place.cutAtEnd!) && origin !== place.cutAtEnd);
}

function slotTargetAllowed(policy: Policy, url: URL): boolean {
  switch (url.protocol) {
    case 'http:':
    case 'https:':
    case 'ws:':
    case 'wss:': {
      const origin = url.protocol === 'ws:' || url.protocol === 'wss:' ? new URL(url.href.replace(/^ws/, 'http')).origin : url.origin;
      return origin === policy.site || namingEntry(policy, origin) !== undefined;
    }
    case 'javascript:':
    case 'vbscript:':
    case 'blob:':
      return false;
    case 'data:':
      return /^data:image\/(?:png|gif|jpeg|webp|avif)[;,]/i.test(url.href);
    default:
      // mailto:, tel: and other schemes hand over to another application; they load nothing here.
      return true;
  }
}

/**
 * A resolved URL against one allowlist. javascript: is code (judged by hash of the attribute value,
 * as CSP 'unsafe-hashes' does for navigations to javascript: URLs); data: and blob: documents and
 * scripts are never allowed; about: (about:blank, about:srcdoc) loads nothing from the network.
 */
export function judgeUrl(
  policy: Policy,
  mode: RouteMode,
  list: Exclude<AllowKind, 'inline'>,
  url: URL | undefined,
  raw: string,
  foreignReason: ViolationReason,
): Judgement {
  if (!url) {
    // The browser ignores a URL it cannot parse; on a protected page that is still not normal markup.
    return mode === 'report' ? { allowed: true } : { allowed: false, reason: 'unparsable-url' };
  }
  const located = { url: url.href, origin: url.origin };
  if (url.protocol === 'javascript:') return { ...judgeInline(policy, mode, raw, 'javascript-url'), ...located };
  if (url.protocol === 'data:' || url.protocol === 'blob:') return { allowed: false, reason: 'data-url-code', ...located };
  if (url.protocol === 'about:') return { allowed: true, ...located };
  // With a release manifest the site's origin no longer vouches for its scripts: each is listed (first-party.ts).
  if (list === 'script' && policy.firstParty && url.origin === policy.site) return { ...judgeFirstPartyScript(policy, url), ...located };
  const entry = matchAllow(policy, list, url);
  if (entry) return { allowed: true, entry, ...located };
  return { allowed: false, reason: foreignReason, ...located };
}

/**
 * A same-origin script under a release manifest (issue 17, class 3: the British Airways pattern, a
 * skimmed copy of the bundle under a new file name). Allowed when the manifest lists it (any
 * spelling: the proxy verifies the bytes that spelling returns) or names it as generated, or when an
 * allow.script url entry pins it with integrity (verified by the proxy too). Anything else on the
 * site is code nobody released.
 */
function judgeFirstPartyScript(policy: Policy, url: URL): Judgement {
  const listed = firstPartyScript(policy.firstParty!, url.pathname);
  if (listed) {
    // No integrity on the entry: the proxy verifies the manifest's files itself (pinned-script.ts),
    // so the page is not rewritten with SRI attributes (sri-attributes.ts) and a clean page stays byte for byte.
    const entry: AllowEntry = 'integrity' in listed
      ? { type: 'url', url: new URL(listed.path, policy.site).href, prefix: false, why: 'first-party release manifest' }
      : { type: 'url', url: new URL(listed.path, policy.site).href, prefix: false, why: `generated first-party script: ${listed.why}` };
    return { allowed: true, entry };
  }
  const href = url.hash ? url.href.slice(0, url.href.length - url.hash.length) : url.href;
  const pinned = policy.allow.script.find((e) => e.type === 'url' && (e.integrity?.length ?? 0) > 0 && (e.prefix ? href.startsWith(e.url) : href === e.url));
  if (pinned) return { allowed: true, entry: pinned };
  return { allowed: false, reason: 'unlisted-first-party-script' };
}
