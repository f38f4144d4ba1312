/**
 * CSP hash sources (CSP3 "does element match source list for type and source", hash-source): the digest of
 * the UTF-8 encoding of the element's source text (the DOM text, newlines already normalised by
 * the parser), base64, prefixed with the algorithm.
 */
import { createHash } from 'node:crypto';

const ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;

export function cspHashes(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  return ALGORITHMS.map((algorithm) => `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`);
}
