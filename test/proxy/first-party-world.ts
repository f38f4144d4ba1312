/**
 * The world of the first-party tests (issue 17, class 3): a shop's build output on disk, served by a
 * real static file server on 127.0.0.1, and the policy whose release manifest `payguard pin` made
 * from that build before an intruder changed it.
 *
 * The static server reads a request path as the common static servers do (send/serve-static,
 * nginx's `try_files`, Caddy's file_server): the query is dropped, the path percent-decoded as a
 * whole (`%2F` included, which send turns into a separator), dot segments resolved, and a path that
 * climbs out of the root refused. Names are case-sensitive (a Linux file system) unless asked
 * otherwise (macOS and Windows file systems fold case). The tests compare what payguard serves with
 * what this server serves for the same spelling, so which spellings reach which file is decided by
 * a real server, not by the test.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { listenOnLoopback } from '../helpers/upstreams.js';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

/** A request the static server received: the target as sent, and the Sec-Fetch-Dest it carried. */
export interface StaticRequest {
  readonly target: string;
  readonly dest: string | undefined;
}

export interface BuildServer {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: URL;
  /** The directory it serves. */
  readonly root: string;
  /** Writes (or overwrites) a file under the root. */
  write(path: string, body: string | Buffer): void;
  /** The file a request target reaches on this server, or undefined (the server answers 400, 403 or 404). */
  resolve(target: string): string | undefined;
  /** Every request received so far. */
  readonly requests: StaticRequest[];
  /** Dynamic answers by exact path (a script generated per request). */
  readonly dynamic: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  close(): Promise<void>;
}

export async function startBuildServer(options: { caseInsensitive?: boolean } = {}): Promise<BuildServer> {
  const root = mkdtempSync(join(tmpdir(), 'payguard-build-'));
  const requests: StaticRequest[] = [];
  const dynamic = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

  const resolve = (target: string): string | undefined => {
    const rawPath = target.split(/[?#]/, 1)[0]!;
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    // send: normalize('.' + sep + path), then refuse anything that climbs above the root.
    const normal = posix.normalize('/' + decoded);
    if (normal.split('/').includes('..')) return undefined;
    let file = root;
    for (const segment of normal.split('/').filter(Boolean)) {
      let names: string[];
      try {
        names = readdirSync(file);
      } catch {
        return undefined;
      }
      const name = names.find((n) => (options.caseInsensitive ? n.toLowerCase() === segment.toLowerCase() : n === segment));
      if (name === undefined) return undefined;
      file = join(file, name);
    }
    try {
      return statSync(file).isFile() ? file : undefined;
    } catch {
      return undefined;
    }
  };

  const server: Server = createServer((req, res) => {
    const target = req.url ?? '/';
    const dest = req.headers['sec-fetch-dest'];
    requests.push({ target, dest: typeof dest === 'string' ? dest : undefined });
    const handler = dynamic.get(target.split('?', 1)[0]!);
    if (handler) return handler(req, res);
    const file = resolve(target);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = readFileSync(file);
    const type = TYPES[posix.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, etag: '"build"' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const origin = new URL(await listenOnLoopback(server));
  return {
    origin,
    root,
    requests,
    dynamic,
    write(path, body) {
      const file = join(root, ...path.split('/').filter(Boolean));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, body);
    },
    resolve,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A policy around a release manifest: `release` is what `payguard pin` produced (YAML is a superset
 * of JSON, so the manifest goes in as JSON), plus the generated scripts and the routes given.
 */
export function policyWithManifest(site: string, release: object, routes: string, extra = ''): string {
  return `schema: 1
serial: 1
site: ${site}
routes:
${routes}
allow:
  form: [{ origin: https://pay.gateway.example, why: card payment gateway }]
firstParty: ${JSON.stringify(Object.fromEntries(Object.entries(release).filter(([, v]) => !isEmptyMapping(v))))}
${extra}`;
}

/** An empty mapping does not validate (a typo or a check disabled): a build without JSON has no `data`. */
function isEmptyMapping(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** GET through payguard with the exact target given (node:http sends it byte for byte) and the Sec-Fetch-Dest given. */
export async function getExact(base: string, target: string, dest: string | undefined): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const { request } = await import('node:http');
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: target, method: 'GET', headers: dest === undefined ? {} : { 'sec-fetch-dest': dest } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads a file of the build as served. */
export function builtFile(server: BuildServer, path: string): Buffer {
  return readFileSync(join(server.root, ...path.split('/').filter(Boolean)));
}
