/**
 * The policy the verifier properties verify against: the corpus policy (test/corpus/policy.yaml,
 * parsed by payguard's own parser) for the site https://shop.example. FOREIGN_HOST is in none of
 * its lists.
 */
import type { Policy, RouteMode } from '../../../src/policy/model.js';
import type { DocumentInput, HeaderList } from '../../../src/verify/types.js';
import { corpusPolicy } from '../../corpus/policy.js';
import { PAGE_URL, SITE } from './mutators.js';

export const POLICY: Policy = corpusPolicy(SITE);

export function documentInput(bytes: Uint8Array, headers: HeaderList, mode: RouteMode, url = PAGE_URL): DocumentInput {
  return { bytes, url, headers, policy: POLICY, mode };
}

export function utf8Input(text: string, mode: RouteMode = 'block'): DocumentInput {
  return documentInput(new TextEncoder().encode(text), [['content-type', 'text/html; charset=utf-8']], mode);
}
