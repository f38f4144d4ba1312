/**
 * The oracle's judgement: what Chromium made live or tried on a page, held against the
 * verifier's findings for the same bytes. Every returned line is a disagreement where the
 * browser saw more than the verifier (the verifier seeing more is allowed: over-approximation).
 */
import { createHash } from 'node:crypto';
import { matchAllow, matchInlineHash } from '../../src/policy/allow.js';
import type { AllowKind, Policy, RouteMode } from '../../src/policy/model.js';
import type { Finding, VerifiedDocument } from '../../src/verify/types.js';
import type { CorpusCase } from './cases.js';
import { SITE_TOKEN } from './cases.js';
import { withoutFragment, type BrowserObservation, type LiveTarget, type ObservedRequest } from './chromium-probe.js';

/** What the oracle instructions in the case file claim about Chromium, checked. */
export function checkInstructions(c: CorpusCase, seen: BrowserObservation, site: string): string[] {
  const problems: string[] = [];
  const o = c.oracle;
  const here = (s: string): string => s.split(SITE_TOKEN).join(site);
  const requested = (url: string): boolean => seen.requests.some((r) => withoutFragment(r.url) === withoutFragment(here(url)));
  for (const url of o.loads ?? []) {
    if (!requested(url)) problems.push(`Chromium did not request ${url}`);
  }
  for (const group of o.loadsOneOf ?? []) {
    if (!group.some(requested)) problems.push(`Chromium requested none of ${group.join(', ')}`);
  }
  for (const source of o.runs ?? []) {
    if (!seen.code.some((code) => code.source === source)) problems.push(`Chromium did not run ${JSON.stringify(source)}`);
  }
  for (const source of o.doesNotRun ?? []) {
    if (seen.code.some((code) => code.source === source)) problems.push(`Chromium ran ${JSON.stringify(source)}`);
  }
  if (o.submitsTo !== undefined) {
    const got = seen.submission ? originAndPath(seen.submission.url) : 'nowhere';
    if (got !== here(o.submitsTo)) problems.push(`the submission went to ${got}, the case says ${here(o.submitsTo)}`);
  }
  if (o.characterSet !== undefined && seen.characterSet.toLowerCase() !== o.characterSet.toLowerCase()) {
    problems.push(`Chromium decoded as ${seen.characterSet}, the case says ${o.characterSet}`);
  }
  return problems;
}

export interface Judged {
  readonly verified: VerifiedDocument;
  readonly policy: Policy;
  readonly mode: RouteMode;
}

/** Every place the browser saw more than the verifier. */
export function browserSawMore(seen: BrowserObservation, { verified, policy, mode }: Judged, generatedByCode: readonly string[] = []): string[] {
  const problems: string[] = [];
  const generated = new Set(generatedByCode.map(withoutFragment));
  const findings = verified.findings;
  if (verified.encodingSource !== 'default' && seen.characterSet.toLowerCase() !== verified.encoding.toLowerCase()) {
    problems.push(`encoding: Chromium decoded as ${seen.characterSet}, the verifier as ${verified.encoding} (from ${verified.encodingSource})`);
  }
  for (const target of seen.targets) {
    if (!generated.has(withoutFragment(target.url))) problems.push(...judgeTarget(target, findings, policy));
  }
  for (const request of requestsToJudge(seen)) {
    if (!generated.has(withoutFragment(request.url))) problems.push(...judgeRequest(request, findings, policy));
  }
  for (const code of seen.code) {
    const hash = `sha256-${createHash('sha256').update(code.source, 'utf8').digest('base64')}`;
    const matching = findings.filter((f) => f.hashes?.includes(hash) || isJavascriptUrlOf(f, code.source) || (code.url !== '' && f.url === code.url));
    const what = `Chromium ran ${JSON.stringify(code.source.slice(0, 80))}${code.url.startsWith('data:') ? ` from ${code.url.slice(0, 60)}` : ''}`;
    if (matching.length === 0) {
      problems.push(`${what}; the verifier has no finding for it`);
      continue;
    }
    const allowedByPolicy = !code.url.startsWith('data:') && matchInlineHash(policy, [hash]) !== undefined;
    if (!allowedByPolicy && mode !== 'report' && !matching.some((f) => !f.allowed)) {
      problems.push(`${what}; not in allow.inline, yet the verifier allowed it`);
    }
  }
  return problems;
}

const LIST_OF_TARGET: Record<LiveTarget['kind'], Exclude<AllowKind, 'inline'>> = {
  form: 'form',
  formaction: 'form',
  script: 'script',
  frame: 'frame',
  object: 'frame',
  embed: 'frame',
};

function judgeTarget(target: LiveTarget, findings: readonly Finding[], policy: Policy): string[] {
  const formLike = target.kind === 'form' || target.kind === 'formaction';
  const matching = findings.filter((f) => f.url !== undefined && sameTarget(f.url, target.url, formLike));
  const what = `Chromium made ${target.kind} ${target.url} live${target.root === 'document' ? '' : ` (in ${target.root})`}`;
  if (matching.length === 0) return [`${what}; the verifier has no finding with that ${formLike ? 'origin and path' : 'URL'}`];
  if (!allowedBy(policy, [LIST_OF_TARGET[target.kind]], target.url) && !matching.some((f) => !f.allowed)) {
    return [`${what}; not in allow.${LIST_OF_TARGET[target.kind]}, yet the verifier allowed it`];
  }
  return [];
}

/**
 * The requests that say something about the page's own markup and headers: scripts, frame
 * documents and top-level navigations after the page itself. Requests a script made
 * (initiator "script") are the consequence of code, which is judged as code.
 */
function requestsToJudge(seen: BrowserObservation): ObservedRequest[] {
  const pageRequest = seen.requests.findIndex((r) => r.type === 'Document' && r.mainFrame);
  return seen.requests.filter(
    (r, i) => i !== pageRequest && r.initiator !== 'script' && (r.type === 'Script' || r.type === 'Document'),
  );
}

function judgeRequest(request: ObservedRequest, findings: readonly Finding[], policy: Policy): string[] {
  const matching = findings.filter((f) => f.url !== undefined && (sameTarget(f.url, request.url, false) || (f.list === 'form' && sameTarget(f.url, request.url, true))));
  const where = request.type === 'Script' ? 'script' : request.mainFrame ? 'navigation' : 'frame document';
  const what = `Chromium requested ${request.method} ${request.url.slice(0, 120)} (${where}, initiator ${request.initiator})`;
  if (matching.length === 0) return [`${what}; the verifier has no finding with that URL`];
  const lists: Exclude<AllowKind, 'inline'>[] =
    request.type === 'Script' ? ['script'] : request.mainFrame ? ['navigate', 'form'] : ['frame'];
  if (!allowedBy(policy, lists, request.url) && !matching.some((f) => !f.allowed)) {
    return [`${what}; not in allow.${lists.join('/allow.')}, yet the verifier allowed it`];
  }
  return [];
}

function allowedBy(policy: Policy, lists: readonly Exclude<AllowKind, 'inline'>[], url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return lists.some((list) => matchAllow(policy, list, parsed) !== undefined);
}

/**
 * Same URL as the server sees it, or for forms the same origin and path (a GET submission adds a
 * query). A fragment never reaches a server, and Chromium strips user info from the request URL
 * (it would travel as Authorization), so a finding for https://gw@evil.example/x is the request
 * Chromium logs as https://evil.example/x.
 */
function sameTarget(a: string, b: string, originAndPathOnly: boolean): boolean {
  if (!originAndPathOnly) return asRequested(a) === asRequested(b);
  return originAndPath(a) === originAndPath(b);
}

export function asRequested(url: string): string {
  try {
    const u = new URL(withoutFragment(url));
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return withoutFragment(url);
  }
}

function originAndPath(url: string): string {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? withoutFragment(u.href) : u.origin + u.pathname;
  } catch {
    return url;
  }
}

/** V8 compiles a javascript: URL's percent-decoded body (HTML §7.4.2.3 "evaluate a javascript: URL"). */
function isJavascriptUrlOf(f: Finding, source: string): boolean {
  if (!f.url?.toLowerCase().startsWith('javascript:')) return false;
  try {
    return decodeURIComponent(f.url.slice('javascript:'.length)) === source;
  } catch {
    return false;
  }
}
