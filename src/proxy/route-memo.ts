/**
 * The route of a request path, remembered per policy in force. Every request (assets included)
 * needs its route for the metrics label and the mode; normalising the path (percent-decoding,
 * `;params`, repeated slashes: allow.ts) and testing every route's pattern costs more than the
 * rest of the pass-through path's own work, and a shop's requests repeat a few thousand paths.
 * Keyed by the path without its query (what routeFor reads), bounded because paths are chosen by
 * whoever sends the request; a reload brings a new frozen Policy object, hence a new memo.
 */
import { LRUCache } from 'lru-cache';
import { routeFor, type RouteMatch } from '../policy/allow.js';
import type { Policy } from '../policy/model.js';

/** Distinct paths remembered per policy: a storefront's hot set, a few hundred KB at most. */
const REMEMBERED_PATHS = 4096;
/** Longer paths are matched every time rather than held (a key is kept in memory as it came). */
const MAX_REMEMBERED_PATH = 512;

const memos = new WeakMap<Policy, LRUCache<string, RouteMatch>>();

/** routeFor(policy, path), from the memo when this path was matched under this policy before. */
export function routeOf(policy: Policy, path: string): RouteMatch {
  if (path.length > MAX_REMEMBERED_PATH) return routeFor(policy, path);
  let memo = memos.get(policy);
  if (!memo) {
    memo = new LRUCache<string, RouteMatch>({ max: REMEMBERED_PATHS });
    memos.set(policy, memo);
  }
  let match = memo.get(path);
  if (!match) {
    match = routeFor(policy, path);
    memo.set(path, match);
  }
  return match;
}
