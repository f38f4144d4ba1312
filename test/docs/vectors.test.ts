/**
 * Comments lead somewhere (issue 16 item 9): every catalogue ID a comment in src/ cites
 * (`docs/vectors.md F-05`, a bare `H-09`, a range `M-01..M-07`) has its own section in
 * docs/vectors.md, and docs/vectors-ids.txt lists exactly the sections there are.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs/vectors.md'), 'utf8');
const sections = new Set([...doc.matchAll(/^### ([A-Z]{1,2}-\d{2}) /gm)].map((m) => m[1]!));

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** IDs cited in comments, ranges expanded (`H-08..H-11` cites H-08, H-09, H-10, H-11). */
function citedIds(text: string): string[] {
  const ids: string[] = [];
  for (const m of text.matchAll(/\b([A-Z]{1,2})-(\d{2})(?:\.\.(?:[A-Z]{1,2}-)?(\d{2}))?\b/g)) {
    const [, family, from, to] = m;
    for (let n = Number(from); n <= Number(to ?? from); n++) ids.push(`${family}-${String(n).padStart(2, '0')}`);
  }
  return ids;
}

const cited = new Map<string, string>();
for (const file of sources(join(ROOT, 'src'))) {
  const comments = [...readFileSync(file, 'utf8').matchAll(/\/\*[\s\S]*?\*\/|\/\/.*$/gm)].map((m) => m[0]).join('\n');
  for (const id of citedIds(comments)) if (!cited.has(id)) cited.set(id, file.slice(ROOT.length));
}

describe('docs/vectors.md', () => {
  it('is cited by the code (the check is not vacuous)', () => {
    expect(cited.size).toBeGreaterThan(40);
  });

  it.each([...cited])('explains %s (cited in %s)', (id) => {
    expect(sections.has(id)).toBe(true);
  });

  it('lists its sections in docs/vectors-ids.txt', () => {
    const listed = readFileSync(join(ROOT, 'docs/vectors-ids.txt'), 'utf8').split('\n').filter(Boolean);
    expect(listed).toEqual([...sections].sort());
  });
});
