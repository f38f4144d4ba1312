/**
 * Protected HTML is served as the verified bytes plus the navigation guard (first child of <head>,
 * src/proxy/browser/navigation-guard.ts). Tests that check "served byte for byte" take the guard
 * out first, and check that it was there exactly once.
 */
import { GUARD_ATTRIBUTE, GUARD_SCRIPT } from '../../src/proxy/browser/navigation-guard.js';

const OPEN = Buffer.from(`<script ${GUARD_ATTRIBUTE}="`, 'latin1');
const CLOSE = Buffer.from(`">${GUARD_SCRIPT}</script>`, 'latin1');

/** The served bytes without the guard; throws when the guard is not there exactly once. */
export function withoutGuard(served: Uint8Array): Buffer {
  const bytes = Buffer.from(served);
  const start = bytes.indexOf(OPEN);
  if (start < 0) throw new Error('the navigation guard is not in the served page');
  const end = bytes.indexOf(CLOSE, start);
  if (end < 0) throw new Error('the navigation guard is not whole in the served page');
  const rest = Buffer.concat([bytes.subarray(0, start), bytes.subarray(end + CLOSE.length)]);
  if (rest.indexOf(OPEN) >= 0) throw new Error('the navigation guard is in the served page twice');
  return rest;
}

/** Whether the served bytes carry the guard. */
export function hasGuard(served: Uint8Array): boolean {
  return Buffer.from(served).indexOf(OPEN) >= 0;
}
