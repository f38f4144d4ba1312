/**
 * The Dockerfile and .dockerignore, checked without a Docker engine: parsed by dockerfile-ast (the
 * parser behind VS Code's Dockerfile support), then the properties the image promises are read off
 * its instructions. The container health probe (deploy/docker/healthcheck.mjs) runs for real
 * against HTTP servers on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { DockerfileParser, ModifiableInstruction, type Flag, type Instruction } from 'dockerfile-ast';
import { afterEach, describe, expect, it } from 'vitest';
import { readRepoText, repoFileExists, repoPath } from './helpers/repo.js';

const run = promisify(execFile);
const RUNTIME_BASE = 'node:24-bookworm-slim';

interface Stage {
  readonly name: string | undefined;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/** The Dockerfile's stages, with `${ARG}` in FROM resolved from the global ARGs' defaults. */
function stages(): Stage[] {
  const dockerfile = DockerfileParser.parse(readRepoText('Dockerfile'));
  const globalArgs = new Map<string, string>();
  const result: Array<{ name: string | undefined; image: string; instructions: Instruction[] }> = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'ARG' && result.length === 0) {
      const [name, value = ''] = instruction.getArgumentsContent()!.split('=');
      globalArgs.set(name!, value);
    } else if (keyword === 'FROM') {
      const [image = '', , name] = instruction.getArguments().map((a) => a.getValue());
      const resolved = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, arg: string) => globalArgs.get(arg) ?? '');
      result.push({ name, image: resolved, instructions: [] });
    } else {
      result.at(-1)?.instructions.push(instruction);
    }
  }
  return result;
}

function only(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** COPY/ADD as [--from stage or undefined, sources, destination]. */
function copies(stage: Stage): Array<{ from: string | undefined; sources: string[]; keyword: string }> {
  return stage.instructions
    .filter((i) => i.getKeyword() === 'COPY' || i.getKeyword() === 'ADD')
    .map((i) => {
      const args = i.getArguments().map((a) => a.getValue());
      const from = flags(i).find((f) => f.getName() === 'from')?.getValue() ?? undefined;
      return { from: from ?? undefined, sources: args.slice(0, -1), keyword: i.getKeyword() };
    });
}

/** `--from=…`, `--interval=…`: only instructions that take flags have them. */
function flags(instruction: Instruction): Flag[] {
  return instruction instanceof ModifiableInstruction ? instruction.getFlags() : [];
}

function execForm(instruction: Instruction, prefix = ''): string[] {
  const content = instruction.getArgumentsContent()!.trim();
  return JSON.parse(content.slice(prefix.length).trim()) as string[];
}

describe('Dockerfile', () => {
  const all = stages();
  const runtime = all.at(-1)!;

  it('is multi-stage, every stage on Node 24 LTS (bookworm-slim)', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.image, stage.name).toBe(RUNTIME_BASE);
  });

  it('the runtime stage gets production dependencies only, from a stage that ran npm ci --omit=dev', () => {
    const modules = copies(runtime).find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    expect(modules?.from).toBeDefined();
    const depsStage = all.find((s) => s.name === modules!.from)!;
    const commands = only(depsStage, 'RUN').map((r) => r.getArgumentsContent()!);
    expect(commands.some((c) => /npm ci\b.*--omit=dev/.test(c))).toBe(true);
    // The build stage (devDependencies: TypeScript, vitest, playwright-core) gives only compiled JS.
    for (const copy of copies(runtime).filter((c) => c.from !== undefined && c.from !== modules!.from)) {
      for (const source of copy.sources) expect(source).toMatch(/\/dist(\/|$)/);
    }
  });

  it('copies nothing key-like and only what it needs from the build context', () => {
    for (const stage of all) {
      for (const copy of copies(stage)) {
        expect(copy.keyword, 'ADD can fetch URLs and unpack archives; COPY only').toBe('COPY');
        for (const source of copy.sources) {
          expect(source, `${stage.name}: COPY ${source}`).not.toMatch(/\.(key|sec|pem|minisig|pub)$|secret|private|\.env$/i);
          if (copy.from === undefined) expect(repoFileExists(source), `COPY ${source} exists`).toBe(true);
        }
      }
      for (const instruction of [...only(stage, 'ENV'), ...only(stage, 'ARG')]) {
        expect(instruction.getArgumentsContent(), stage.name).not.toMatch(/PASSWORD|SECRET|PRIVATE|TOKEN|_KEY=/i);
      }
    }
  });

  it('runs as the non-root uid 10001, which it creates', () => {
    const users = only(runtime, 'USER').map((u) => u.getArgumentsContent()!.trim());
    expect(users.at(-1)).toBe('10001:10001');
    const runs = only(runtime, 'RUN').map((r) => r.getArgumentsContent()!).join('\n');
    expect(runs).toMatch(/useradd[^\n]*--uid 10001/);
  });

  it('writes only to its state volume: /var/lib/payguard is a VOLUME owned by 10001', () => {
    const volumes = only(runtime, 'VOLUME').flatMap((v) => execForm(v));
    expect(volumes).toEqual(['/var/lib/payguard']);
    const runs = only(runtime, 'RUN').map((r) => r.getArgumentsContent()!).join('\n');
    expect(runs).toMatch(/chown 10001:10001 [^\n]*\/var\/lib\/payguard/);
    const env = only(runtime, 'ENV').map((e) => e.getArgumentsContent()!).join(' ');
    expect(env).toMatch(/PAYGUARD_STATE_DIR=\/var\/lib\/payguard/);
  });

  it('has a HEALTHCHECK that probes /healthz with node itself, with the script copied in', () => {
    const [healthcheck] = only(runtime, 'HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const command = execForm(healthcheck!, 'CMD');
    const interval = flags(healthcheck!).find((f) => f.getName() === 'interval');
    expect(interval?.getValue()).toMatch(/^\d+s$/);
    expect(command[0]).toBe('node');
    const script = command[1]!;
    const copied = copies(runtime).find((c) => c.sources.includes('deploy/docker/healthcheck.mjs'));
    expect(copied).toBeDefined();
    expect(script).toBe('/app/deploy/docker/healthcheck.mjs');
    expect(readRepoText('deploy/docker/healthcheck.mjs')).toContain('/healthz');
  });

  it('runs payguard under tini from Debian (PID 1 signal handling), serve by default', () => {
    const [entrypoint] = only(runtime, 'ENTRYPOINT');
    expect(execForm(entrypoint!)).toEqual(['/usr/bin/tini', '--', 'node', '/app/bin/payguard.js']);
    expect(execForm(only(runtime, 'CMD')[0]!)).toEqual(['serve']);
    const runs = only(runtime, 'RUN').map((r) => r.getArgumentsContent()!).join('\n');
    expect(runs).toMatch(/apt-get install[^\n]*\btini\b/);
    expect(runs).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('exposes the public port 8080 and the admin port 9464', () => {
    const ports = only(runtime, 'EXPOSE').flatMap((e) => e.getArguments().map((a) => a.getValue()));
    expect(ports.sort()).toEqual(['8080', '9464']);
  });
});

/**
 * .dockerignore as Docker reads it (moby/patternmatcher): patterns relative to the context root,
 * `*` within one path segment, `**` across segments, a matched directory excludes all beneath it,
 * `!` re-includes, the last matching pattern wins.
 */
function dockerignored(patterns: readonly string[], path: string): boolean {
  let excluded = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const source = pattern
      .split('')
      .map((ch, i, chars) => {
        if (ch === '*' && chars[i + 1] === '*') return '';
        if (ch === '*' && chars[i - 1] === '*') return '.*';
        if (ch === '*') return '[^/]*';
        if (ch === '?') return '[^/]';
        return ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('')
      .replace(/\.\*\//g, '(?:.*/)?');
    const matcher = new RegExp(`^${source}(?:/.*)?$`);
    if (matcher.test(path)) excluded = !negated;
  }
  return excluded;
}

describe('.dockerignore', () => {
  const patterns = readRepoText('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps keys, node_modules, dist and .git out of the build context', () => {
    for (const path of [
      'minisign.key',
      'payguard.key',
      'keys/release.key',
      'deploy/kubernetes/policy/payguard.key',
      'secrets/signing.sec',
      '.env',
      'node_modules/parse5/package.json',
      'src/node_modules/x.js',
      'dist/src/cli/main.js',
      '.git/HEAD',
      '.git',
    ]) {
      expect(dockerignored(patterns, path), path).toBe(true);
    }
  });

  it('keeps what the Dockerfile copies from the context', () => {
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/cli/main.ts', 'src/policy/model.ts', 'bin/payguard.js', 'deploy/docker/healthcheck.mjs']) {
      expect(dockerignored(patterns, path), path).toBe(false);
    }
  });

  it('the matcher follows Docker\'s rules (a top-level *.key does not reach subdirectories)', () => {
    expect(dockerignored(['*.key'], 'a.key')).toBe(true);
    expect(dockerignored(['*.key'], 'keys/a.key')).toBe(false);
    expect(dockerignored(['**/*.key'], 'keys/deep/a.key')).toBe(true);
    expect(dockerignored(['dist'], 'dist/a/b.js')).toBe(true);
    expect(dockerignored(['*', '!src'], 'src/a.ts')).toBe(false);
  });
});

describe('deploy/docker/healthcheck.mjs (the HEALTHCHECK probe) over real HTTP', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function serve(status: number, seen: string[] = []): Promise<number> {
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end('x');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async function probe(args: string[], env: Record<string, string> = {}): Promise<number> {
    try {
      await run(process.execPath, [repoPath('deploy/docker/healthcheck.mjs'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it('exits 0 for 200 and 1 for 503 or a closed port', async () => {
    const ok = await serve(200);
    const unavailable = await serve(503);
    expect(await probe([`http://127.0.0.1:${ok}/healthz`])).toBe(0);
    expect(await probe([`http://127.0.0.1:${unavailable}/healthz`])).toBe(1);
    const closed = await serve(200);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await probe([`http://127.0.0.1:${closed}/healthz`])).toBe(1);
  });

  it('without a URL, probes /healthz on the admin address in PAYGUARD_ADMIN, a wildcard bind on loopback', async () => {
    const seen: string[] = [];
    const port = await serve(200, seen);
    expect(await probe([], { PAYGUARD_ADMIN: `0.0.0.0:${port}` })).toBe(0);
    expect(seen).toEqual(['/healthz']);
  });
});
