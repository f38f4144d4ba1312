/**
 * The layout is the architecture (docs/architecture.md), checked over the import graph of src/:
 * no cycles, the proxy's stage folders import only their own or earlier stages, the verifier stays
 * pure, and the policy knows nothing of the proxy. Type-only imports count: a type pulled from a
 * later stage is as much a dependency on it as a function.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** The proxy's stages in pipeline order; a file may import its own stage or an earlier one. */
const PROXY_STAGES = ['ports.ts', 'http', 'workers', 'verdict', 'learning', 'browser', 'document', 'passthrough', 'options.ts', 'payguard.ts', 'index.ts'];

interface SourceFile {
  readonly path: string;
  readonly imports: readonly string[];
}

function sourceFiles(dir: string, out: SourceFile[] = []): SourceFile[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (path.endsWith('.ts')) out.push({ path: relative(ROOT, path), imports: importsOf(path) });
  }
  return out;
}

/** Every module specifier a file imports or re-exports (relative ones resolved to src/… paths). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms)].map((m) => m[1]!);
  specifiers.push(...[...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!));
  return specifiers.map((s) => (s.startsWith('.') ? relative(ROOT, normalize(join(dirname(file), s.replace(/\.js$/, '.ts')))) : s));
}

const FILES = sourceFiles(SRC);

function stageOf(path: string): number {
  const inProxy = relative('src/proxy', path);
  const first = inProxy.split('/')[0]!;
  return PROXY_STAGES.indexOf(first);
}

describe('the import graph of src/', () => {
  it('reads every file (the check is not vacuous)', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(FILES.filter((f) => f.path.startsWith('src/proxy/')).every((f) => stageOf(f.path) >= 0)).toBe(true);
  });

  it('has no cycles', () => {
    const graph = new Map(FILES.map((f) => [f.path, f.imports.filter((i) => i.startsWith('src/'))]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (node: string, stack: string[]): void => {
      state.set(node, 'open');
      stack.push(node);
      for (const next of graph.get(node) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next, stack);
      }
      stack.pop();
      state.set(node, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('has no proxy file importing a later stage', () => {
    const backwards: string[] = [];
    for (const file of FILES.filter((f) => f.path.startsWith('src/proxy/'))) {
      for (const target of file.imports.filter((i) => i.startsWith('src/proxy/'))) {
        if (stageOf(target) > stageOf(file.path)) backwards.push(`${file.path} → ${target}`);
      }
    }
    expect(backwards).toEqual([]);
  });

  it('keeps the verifier pure: no I/O, no HTTP, no proxy, no observation', () => {
    const impure = FILES.filter((f) => f.path.startsWith('src/verify/')).flatMap((f) =>
      f.imports
        .filter((i) => /^(node:(fs|http|https|net|worker_threads|child_process|os)|undici|http-proxy-3|prom-client)/.test(i) || /^src\/(proxy|observe|cli|evidence|inventory)\//.test(i))
        .map((i) => `${f.path} → ${i}`),
    );
    expect(impure).toEqual([]);
  });

  it('keeps the policy ignorant of the proxy, the verifier and HTTP', () => {
    const leaks = FILES.filter((f) => f.path.startsWith('src/policy/')).flatMap((f) =>
      f.imports.filter((i) => /^src\/(proxy|verify|observe|cli)\//.test(i) || /^(node:http|undici|http-proxy-3)/.test(i)).map((i) => `${f.path} → ${i}`),
    );
    expect(leaks).toEqual([]);
  });
});
