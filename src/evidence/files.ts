/**
 * Where the evidence log lives in the state dir: `evidence/current.ndjson` plus rotated files
 * named by the seq of their first record, so a plain `ls` sorts them in chain order.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const EVIDENCE_DIR = 'evidence';
export const CURRENT_FILE = 'current.ndjson';

export function evidenceDir(stateDir: string): string {
  return join(stateDir, EVIDENCE_DIR);
}

export function rotatedName(firstSeq: number): string {
  return `evidence-${String(firstSeq).padStart(12, '0')}.ndjson`;
}

/** Every log file, oldest first (rotated ones by name, then the current one). */
export async function listLogFiles(stateDir: string): Promise<string[]> {
  const dir = evidenceDir(stateDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rotated = names.filter((n) => /^evidence-\d{12}\.ndjson$/.test(n)).sort();
  const files = rotated.map((n) => join(dir, n));
  if (names.includes(CURRENT_FILE)) files.push(join(dir, CURRENT_FILE));
  return files;
}
