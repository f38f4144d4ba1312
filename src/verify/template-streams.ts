/**
 * Pieces of one stream (issue 18). A template can accept many scripts of a page that are pieces of
 * one text the page's code joins before reading it: Next.js App Router pages push their flight
 * (RSC) payload in 8–13 `self.__next_f.push([1,"…"])` scripts, cut wherever the stream was flushed,
 * and React reads the concatenation. Each slot is read for places on its own (inline-templates.ts);
 * a URL cut across two pieces (`"…https:/"` then `"/evil.example/x…"`, or in its scheme) is in
 * neither. So the string slots of every script one template accepted are read again joined, in
 * document order; a place the join names that no allow list names makes the first of those
 * scripts an `inline-template-slot` violation. The strings are dropped from the sightings here:
 * findings never carry them.
 */
import type { AllowEntry, Policy, RouteMode } from '../policy/model.js';
import { slotPlaceAllowed } from './judge.js';
import { namedPlaces } from './inline-templates.js';
import type { Sighting } from './scan.js';

export function checkTemplateStreams(sightings: readonly Sighting[], policy: Policy, mode: RouteMode): Sighting[] {
  let streams: Map<AllowEntry, number[]> | undefined;
  sightings.forEach((s, i) => {
    if (!s.pieces || !s.finding.entry) return;
    streams ??= new Map();
    const members = streams.get(s.finding.entry) ?? streams.set(s.finding.entry, []).get(s.finding.entry)!;
    members.push(i);
  });
  if (!streams) return sightings as Sighting[];
  const out = sightings.map((s) => (s.pieces ? { finding: s.finding, edits: s.edits } : s));
  if (mode === 'report') return out;
  for (const members of streams.values()) {
    if (members.length < 2) continue;
    members.sort((a, b) => (out[a]!.finding.offset ?? 0) - (out[b]!.finding.offset ?? 0));
    const joined = members.map((i) => sightings[i]!.pieces!.join('')).join('');
    const foreign = namedPlaces(joined, policy.site).find((place) => !slotPlaceAllowed(policy, place));
    if (!foreign) continue;
    const first = members[0]!;
    const { finding, edits } = out[first]!;
    out[first] = { finding: { ...finding, allowed: false, reason: 'inline-template-slot', url: foreign.url.href, origin: foreign.url.origin }, edits };
  }
  return out;
}
