/** Reading the repository's deploy files the way their tools do (YAML 1.2 with merge keys, like Compose). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export function repoPath(relative: string): string {
  return join(REPO, relative);
}

export function repoFileExists(relative: string): boolean {
  return existsSync(repoPath(relative));
}

export function readRepoText(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/** One YAML document; `<<` merge keys resolved as Docker Compose resolves them. */
export function readRepoYaml(relative: string): unknown {
  return parse(readRepoText(relative), { merge: true, prettyErrors: true });
}

/** Every document of a multi-document YAML file (`---` separated), as kubectl reads them. */
export function readRepoYamlDocuments(relative: string): unknown[] {
  return parseAllDocuments(readRepoText(relative), { merge: true, prettyErrors: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as unknown;
  });
}

/** Narrowing for YAML/JSON values: a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what} is not a mapping`);
  return value;
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
}
