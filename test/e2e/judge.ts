/**
 * What a case run means. Pure functions over what the forward proxy recorded, so the rules the
 * suite enforces read in one place:
 * - an attack works (the run without payguard) when its proof shows up at an attacker host;
 * - an attack is prevented (the runs with payguard) when no request reached any host outside the
 *   policy and the card number reached no such host;
 * - a legitimate page is intact when nothing of it was blocked, its allowed scripts ran and the
 *   requests it must make (the card to the gateway) happened.
 */
import type { AttackCase, LegitCase } from './cases.js';
import type { RecordedRequest } from './forward-proxy.js';
import type { CaseRun } from './shopper.js';
import { carriesCard } from './virtual-hosts.js';
import { ATTACKER_HOSTS, EVIL_HOST, POLICY_HOSTS, SHOP_HOST } from './world.js';

const carries = (r: RecordedRequest): boolean => carriesCard(r.path) || carriesCard(r.body);
const pathOnly = (r: RecordedRequest): string => r.path.split('?')[0] ?? r.path;

/** Requests that reached a host the policy does not name. */
export function outsidePolicy(run: CaseRun): RecordedRequest[] {
  return run.requests.filter((r) => !POLICY_HOSTS.includes(r.host));
}

/** The shop responses payguard blocked (its block page is a 502; the storefront never sends one). */
export function blockedResponses(run: CaseRun): RecordedRequest[] {
  return run.requests.filter((r) => r.host === SHOP_HOST && r.status === 502);
}

/** Why the attack counts as working in this run, or undefined when it did not work. */
export function attackEvidence(c: AttackCase, run: CaseRun): string | undefined {
  const atAttacker = run.requests.filter((r) => ATTACKER_HOSTS.includes(r.host));
  const hit =
    c.proof === 'card'
      ? atAttacker.find(carries)
      : c.proof === 'script-ran'
        ? atAttacker.find((r) => r.host === EVIL_HOST && pathOnly(r) === '/ran')
        : atAttacker[0];
  return hit ? `${hit.method} ${hit.host}${pathOnly(hit)}${carries(hit) ? ' (with the card number)' : ''}` : undefined;
}

/** Every way payguard failed to prevent the attack in this run (empty: prevented). */
export function attackLeaks(run: CaseRun): string[] {
  return outsidePolicy(run).map((r) => `${r.method} ${r.host}${pathOnly(r)}${carries(r) ? ' carrying the card number' : ''}`);
}

/** Every way a legitimate page was harmed in this run (empty: intact). */
export function legitDamage(c: LegitCase, run: CaseRun): string[] {
  const damage: string[] = [];
  for (const r of blockedResponses(run)) damage.push(`blocked: ${r.method} ${pathOnly(r)}`);
  for (const marker of c.markers) if (!run.markers.includes(marker)) damage.push(`allowed script did not run: marker ${marker} missing`);
  for (const expected of c.reaches) {
    const found = run.requests.some(
      (r) =>
        r.host === expected.host &&
        pathOnly(r) === expected.path &&
        (expected.method === undefined || r.method === expected.method) &&
        (!expected.card || carries(r)),
    );
    if (!found) damage.push(`missing request: ${expected.method ?? ''} ${expected.host}${expected.path}${expected.card ? ' with the card number' : ''}`);
  }
  return damage;
}

/** A run in a few lines, for the message of a failed expectation. */
export function describeRun(run: CaseRun): string {
  const requests = run.requests.map((r) => `  ${r.method} ${r.host}${pathOnly(r)} → ${r.status ?? '…'}${carries(r) ? ' (card)' : ''}`);
  return [`filled: ${run.filled.join(' ') || 'nothing'}; submitted: ${run.submitted}; markers: ${run.markers.join(' ') || 'none'}`, ...requests].join('\n');
}
