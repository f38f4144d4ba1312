/**
 * EverShop 2.2.1 (the open-source storefront on the npm registry, `@evershop/evershop`) as a real
 * shop for payguard's storefront suite (issue 18 item 7), provisioned the way its docs say, without
 * a prompt:
 *
 *   1. `npm ci` of test/storefront/evershop/install (EverShop pinned by its lockfile) into a cache
 *      outside payguard's node_modules (`.storefront/` at the repository root, gitignored, or
 *      $PAYGUARD_STOREFRONT_CACHE), then `evershop build`. Both are kept across runs while the
 *      lockfile is the same: on the 2 cores of the dev machine the install took 30–34 s and the
 *      build 52–83 s.
 *   2. A fresh PostgreSQL cluster per run (`initdb` into a temp dir, 127.0.0.1 on a free port,
 *      never 5432), run as the `postgres` user when we are root (postgres refuses root).
 *   3. A run directory whose `.evershop/build` is a copy of the cached build (tests tamper the
 *      copy, never the cache), `evershop start` there (it migrates the fresh database), then
 *      `evershop seed --all` (the demo catalogue) and an operator's settings: one shipping zone
 *      (US) with a flat rate, and cash on delivery on.
 *
 * EverShop 2.2.1's own package misses one dependency (`concat-stream`, imported by its CMS
 * module): the install lists it beside EverShop. Its seed downloads product photos from GitHub;
 * the seed here is given photos drawn locally (the suite runs without network).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, runProcess, type CliResult } from '../../helpers/cli.js';
import { freePort } from '../../helpers/upstreams.js';

export const EVERSHOP_VERSION = '2.2.1';

const INSTALL_FILES = fileURLToPath(new URL('./install/', import.meta.url));
const CACHE_ROOT = process.env['PAYGUARD_STOREFRONT_CACHE'] ?? join(REPO_ROOT, '.storefront');
const EVERSHOP_BIN = join('node_modules', '@evershop', 'evershop', 'dist', 'bin', 'evershop.js');
/** Written last into a cache dir whose install and build both succeeded. */
const READY_FILE = 'payguard-ready.json';

/** What one step of provisioning took, in milliseconds; `cached` when the cache already held it. */
export interface EverShopTimings {
  install: number | 'cached';
  build: number | 'cached';
  postgres: number;
  firstStart: number;
  seed: number;
  /** Each later (re)start, e.g. after a test tampered with the build copy. */
  restarts: number[];
}

export interface EverShopOptions {
  /**
   * The origin shoppers use (payguard's, in front of the shop): EverShop writes it into every
   * absolute URL of its pages and its eContext (EVERSHOP_HOME_URL). Default: the shop's own origin.
   */
  readonly publicOrigin?: string;
}

export interface RunningEverShop {
  /** `http://127.0.0.1:PORT`, the shop itself. */
  readonly origin: string;
  readonly publicOrigin: string;
  /** This run's copy of the build, served at /assets/ (frontStore/, frontstore-vendor/, chunks/…) and rendered from (frontStore/server/index.js). */
  readonly buildDir: string;
  readonly timings: EverShopTimings;
  /**
   * One product of the seeded catalogue: its page and its SKU. The page's path is EverShop's:
   * `/accessories/ceramic-coffee-cup-white`, or `/ceramic-coffee-cup-white` when its event
   * subscriber built the product's URL before its category's (a race in EverShop's seed).
   */
  readonly product: { readonly path: string; readonly sku: string; readonly name: string };
  /** Rows of a SQL query against the shop's database (psql, tab-separated, no header). */
  query(sql: string): Promise<string[][]>;
  /** What EverShop wrote to stdout and stderr since it last started. */
  log(): string;
  /** Stop and start EverShop again (its server bundle is imported once per process). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The product the suite buys: the first of the demo catalogue (EverShop's seed/data/products.json). */
const PRODUCT = { sku: 'CUP-001-WHT', name: 'Ceramic Coffee Cup - White' } as const;

export async function startEverShop(options: EverShopOptions = {}): Promise<RunningEverShop> {
  const timings: EverShopTimings = { install: 'cached', build: 'cached', postgres: 0, firstStart: 0, seed: 0, restarts: [] };
  const cacheDir = await ensureInstalled(timings);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    let started = Date.now();
    const database = await startPostgres();
    cleanups.push(() => database.stop());
    timings.postgres = Date.now() - started;

    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const publicOrigin = options.publicOrigin ?? origin;
    const runDir = prepareRunDir(cacheDir, publicOrigin);
    cleanups.push(async () => rmSync(runDir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      DB_HOST: '127.0.0.1',
      DB_PORT: String(database.port),
      DB_NAME: 'evershop',
      DB_USER: 'postgres',
      DB_PASSWORD: '',
      DB_SSLMODE: 'disable',
      PORT: String(port),
      EVERSHOP_HOME_URL: publicOrigin,
      SUPPRESS_NO_CONFIG_WARNING: '1',
      // EverShop calls server.listen(PORT), every interface: the preload keeps it on 127.0.0.1.
      NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import=${join(runDir, 'loopback-only.mjs')}`.trim(),
    };

    started = Date.now();
    let shop = await startShopProcess(runDir, env, origin);
    cleanups.push(() => shop.stop());
    timings.firstStart = Date.now() - started;

    started = Date.now();
    const productPath = await seedCatalogue(runDir, env, database);
    timings.seed = Date.now() - started;

    return {
      origin,
      publicOrigin,
      buildDir: join(runDir, '.evershop', 'build'),
      timings,
      product: { ...PRODUCT, path: productPath },
      query: (sql) => database.query(sql),
      log: () => shop.log(),
      async restart() {
        await shop.stop();
        const restartedAt = Date.now();
        shop = await startShopProcess(runDir, env, origin);
        timings.restarts.push(Date.now() - restartedAt);
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The npm install and the build, cached by the lockfile's hash.

async function ensureInstalled(timings: EverShopTimings): Promise<string> {
  const lock = readFileSync(join(INSTALL_FILES, 'package-lock.json'));
  const key = createHash('sha256').update(readFileSync(join(INSTALL_FILES, 'package.json'))).update(lock).digest('hex').slice(0, 12);
  const cacheDir = join(CACHE_ROOT, `evershop-${EVERSHOP_VERSION}-${key}`);
  if (existsSync(join(cacheDir, READY_FILE))) return cacheDir;

  // Install and build in a scratch dir, renamed into place only when both succeeded: an
  // interrupted run never leaves a cache that looks ready.
  mkdirSync(CACHE_ROOT, { recursive: true });
  const scratch = mkdtempSync(join(CACHE_ROOT, `.evershop-${EVERSHOP_VERSION}-`));
  try {
    cpSync(join(INSTALL_FILES, 'package.json'), join(scratch, 'package.json'));
    cpSync(join(INSTALL_FILES, 'package-lock.json'), join(scratch, 'package-lock.json'));
    let started = Date.now();
    must(await runProcess('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: scratch, timeoutMs: 900_000 }), `npm ci of @evershop/evershop@${EVERSHOP_VERSION} in ${scratch}`);
    timings.install = Date.now() - started;
    started = Date.now();
    const env = { ...process.env, NODE_ENV: 'production', SUPPRESS_NO_CONFIG_WARNING: '1' };
    const build = await runProcess(process.execPath, [EVERSHOP_BIN, 'build'], { cwd: scratch, env, timeoutMs: 900_000 });
    // `evershop build` logs its errors and still exits 0: success is the server bundle it writes.
    if (!existsSync(join(scratch, '.evershop', 'build', 'frontStore', 'server', 'index.js'))) must({ ...build, code: build.code || 1 }, `evershop build in ${scratch}`);
    timings.build = Date.now() - started;
    writeFileSync(join(scratch, READY_FILE), JSON.stringify({ version: EVERSHOP_VERSION, key, installMs: timings.install, buildMs: timings.build, at: new Date().toISOString() }, null, 2));
    rmSync(cacheDir, { recursive: true, force: true });
    renameSync(scratch, cacheDir);
    return cacheDir;
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A run directory: EverShop's root is the process's cwd (media/, public/, config/, .evershop/build).
 * node_modules links to the cache; the build is copied, so a test can tamper with it.
 */
function prepareRunDir(cacheDir: string, publicOrigin: string): string {
  const runDir = mkdtempSync(join(tmpdir(), 'payguard-evershop-'));
  symlinkSync(join(cacheDir, 'node_modules'), join(runDir, 'node_modules'), 'dir');
  cpSync(join(cacheDir, 'package.json'), join(runDir, 'package.json'));
  cpSync(join(cacheDir, '.evershop', 'build'), join(runDir, '.evershop', 'build'), { recursive: true });
  for (const dir of ['media', 'public', 'config']) mkdirSync(join(runDir, dir));
  // What an operator writes in config/default.json (node-config): the public URL, and cash on
  // delivery on (system.cod.status; the admin's setting lives in a table EverShop caches at boot).
  writeFileSync(join(runDir, 'config', 'default.json'), JSON.stringify({ shop: { homeUrl: publicOrigin }, system: { cod: { status: 1 } } }, null, 2));
  writeFileSync(join(runDir, 'loopback-only.mjs'), LOOPBACK_ONLY);
  writeFileSync(join(runDir, 'offline-photos.mjs'), OFFLINE_PHOTOS);
  return runDir;
}

const LOOPBACK_ONLY = `// payguard's storefront suite: EverShop listens with server.listen(PORT); keep it on loopback.
import http from 'node:http';
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) args.splice(1, 0, '127.0.0.1');
  return listen.apply(this, args);
};
`;

/**
 * EverShop's seed fetches each product photo from raw.githubusercontent.com with https.get. The
 * suite has no network (and must not depend on GitHub): answer those requests with a JPEG drawn
 * by sharp (an EverShop dependency), one colour per file name.
 */
const OFFLINE_PHOTOS = `// payguard's storefront suite: product photos for EverShop's seed, drawn locally.
import https from 'node:https';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
const sharp = createRequire(process.cwd() + '/')('sharp');
const get = https.get;
https.get = function (url, ...rest) {
  const target = new URL(typeof url === 'string' ? url : url.href ?? url);
  if (target.hostname !== 'raw.githubusercontent.com') return get.call(this, url, ...rest);
  const callback = rest.find((arg) => typeof arg === 'function');
  const request = Object.assign(new EventEmitter(), { setTimeout: () => request, destroy: () => undefined });
  let hue = 0;
  for (const c of target.pathname) hue = (hue * 31 + c.charCodeAt(0)) % 360;
  const [r, g, b] = [0, 120, 240].map((shift) => Math.round(127 + 100 * Math.cos(((hue + shift) * Math.PI) / 180)));
  sharp({ create: { width: 800, height: 800, channels: 3, background: { r, g, b } } }).jpeg().toBuffer().then(
    (bytes) => callback(Object.assign(Readable.from([bytes]), { statusCode: 200, headers: { 'content-type': 'image/jpeg' } })),
    (err) => request.emit('error', err),
  );
  return request;
};
`;

// ---------------------------------------------------------------------------------------------
// EverShop's processes.

/**
 * The processes this module started and has not stopped yet, killed if the test process exits
 * without stopping them (a timeout, a crash): EverShop runs in its own process group and postgres
 * is a child that would outlive us.
 */
const running = new Set<() => void>();
process.once('exit', () => {
  for (const kill of running) {
    try {
      kill();
    } catch {
      // Exiting anyway: the next process is best effort.
    }
  }
});

interface ShopProcess {
  log(): string;
  stop(): Promise<void>;
}

/**
 * `evershop start` in its own process group: it forks an event subscriber and a cron process
 * that a SIGTERM to the main process alone would orphan. Ready when the home page answers 200.
 */
async function startShopProcess(runDir: string, env: NodeJS.ProcessEnv, origin: string): Promise<ShopProcess> {
  const child = spawn(process.execPath, [EVERSHOP_BIN, 'start'], { cwd: runDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const kill = (): void => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  };
  running.add(kill);
  const shop: ShopProcess = {
    log: () => output,
    stop: async () => {
      await stopGroup(child);
      running.delete(kill);
    },
  };
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`evershop start exited (${child.exitCode ?? child.signalCode}) before it answered on ${origin}:\n${tail(output)}`);
    }
    const status = await fetch(`${origin}/`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.arrayBuffer().then(() => r.status),
      () => 0,
    );
    if (status === 200) return shop;
    await delay(250);
  }
  await shop.stop();
  throw new Error(`evershop start did not answer 200 on ${origin}/ within 180 s:\n${tail(output)}`);
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  // The subscriber and cron children may outlive the main process by a moment.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * The demo catalogue, then the operator's settings EverShop has no seed for: shipping to the US, a
 * flat rate. Returns the path of PRODUCT's page.
 */
async function seedCatalogue(runDir: string, env: NodeJS.ProcessEnv, database: Postgres): Promise<string> {
  const seedEnv = { ...env, NODE_OPTIONS: `${env['NODE_OPTIONS'] ?? ''} --import=${join(runDir, 'offline-photos.mjs')}` };
  const seeded = await runProcess(process.execPath, [EVERSHOP_BIN, 'seed', '--all'], { cwd: runDir, env: seedEnv, timeoutMs: 300_000 });
  must(seeded, 'evershop seed --all');
  // The seed logs a failure per item and still exits 0 on some of them: check what it made.
  const [[products] = []] = await database.query(`SELECT count(*) FROM product WHERE sku = '${PRODUCT.sku}'`);
  if (products !== '1') throw new Error(`evershop seed --all did not create ${PRODUCT.sku}:\n${tail(seeded.stdout + seeded.stderr)}`);
  // Settings → Shipping in the admin: a zone, Core Shipping attached, one method with a rate.
  await database.query(`
    WITH zone AS (INSERT INTO shipping_zone (name) VALUES ('United States') RETURNING shipping_zone_id),
      country AS (INSERT INTO shipping_zone_country (zone_id, country) SELECT shipping_zone_id, 'US' FROM zone),
      provider AS (INSERT INTO shipping_zone_provider (zone_id, provider_code) SELECT shipping_zone_id, 'core' FROM zone),
      method AS (INSERT INTO core_shipping_method (name) VALUES ('Standard delivery') RETURNING core_shipping_method_id)
    INSERT INTO core_shipping_method_rate (method_id, zone_id, cost) SELECT core_shipping_method_id, shipping_zone_id, 5 FROM method, zone`);
  // A product's URL is written by EverShop's event subscriber after the seed, from its `event`
  // queue: wait until the queue is drained and the product has its URL.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [[pending, failed] = []] = await database.query(`SELECT count(*) FILTER (WHERE status IN ('pending', 'processing')), count(*) FILTER (WHERE status = 'failed') FROM event`);
    if (failed !== '0') throw new Error(`EverShop's event subscriber failed ${failed} event(s) of the seed: ${JSON.stringify(await database.query(`SELECT name FROM event WHERE status = 'failed'`))}`);
    const [[path] = []] = await database.query(`SELECT request_path FROM url_rewrite WHERE entity_type = 'product' AND entity_uuid = (SELECT uuid FROM product WHERE sku = '${PRODUCT.sku}')`);
    if (pending === '0' && path !== undefined) return path;
    if (Date.now() > deadline) throw new Error(`EverShop's event queue still holds ${pending} event(s) 120 s after the seed (the URL of ${PRODUCT.sku}: ${path ?? 'none'})`);
    await delay(250);
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a throw-away cluster per run.

interface Postgres {
  readonly port: number;
  query(sql: string): Promise<string[][]>;
  stop(): Promise<void>;
}

async function startPostgres(): Promise<Postgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'payguard-evershop-pg-'));
  // Postgres refuses to run as root: as root, run it as the postgres user Debian's package creates.
  const asRoot = process.getuid?.() === 0;
  const runAs = (command: string, args: readonly string[]): [string, string[]] =>
    asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]] : [command, [...args]];
  if (asRoot) {
    const id = await runProcess('id', ['-u', 'postgres']);
    if (id.code !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error('PostgreSQL refuses to run as root and there is no "postgres" user: apt-get install -y postgresql (see .ci/run)');
    }
    chownSync(dir, Number(id.stdout.trim()), Number((await runProcess('id', ['-g', 'postgres'])).stdout.trim()));
  }
  const data = join(dir, 'data');
  const initdb = await runProcess(...runAs(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']), { timeoutMs: 120_000 });
  if (initdb.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    must(initdb, `initdb (${bin}) into ${data}`);
  }
  const port = await freePort();
  const [command, args] = runAs(join(bin, 'postgres'), [
    '-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir,
    // A throw-away database: durability off, it is gone after the run.
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
  ]);
  const server = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (): void => void server.kill('SIGKILL');
  running.add(kill);
  let output = '';
  server.stdout.on('data', (c: Buffer) => (output += c.toString()));
  server.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const psql = join(bin, 'psql');
  const run = (database: string, sql: string): Promise<CliResult> =>
    runProcess(psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-AtX', '-F', '\t', '-c', sql], { timeoutMs: 60_000 });
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      server.kill('SIGINT'); // postgres: fast shutdown
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(kill);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) {
      await stop();
      throw new Error(`postgres (${bin}) exited with ${server.exitCode} on 127.0.0.1:${port}:\n${tail(output)}`);
    }
    if ((await run('postgres', 'SELECT 1')).code === 0) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`postgres did not accept connections on 127.0.0.1:${port} within 60 s:\n${tail(output)}`);
    }
    await delay(200);
  }
  try {
    must(await run('postgres', 'CREATE DATABASE evershop'), 'CREATE DATABASE evershop');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    async query(sql) {
      const result = must(await run('evershop', sql), `psql: ${sql.trim().slice(0, 120)}`);
      return result.stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
    },
    stop,
  };
}

/** The directory holding initdb, postgres and psql: pg_config's, else Debian's newest /usr/lib/postgresql/N/bin, else PATH's. */
function postgresBinDir(): string {
  const candidates: string[] = [];
  const pgConfig = spawnText('pg_config', ['--bindir']);
  if (pgConfig) candidates.push(pgConfig);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  candidates.push(...(process.env['PATH'] ?? '').split(':').filter(Boolean));
  const found = candidates.find((dir) => ['initdb', 'postgres', 'psql'].every((b) => existsSync(join(dir, b))));
  if (!found) throw new Error(`PostgreSQL's initdb/postgres/psql not found (tried ${candidates.slice(0, 4).join(', ')}, PATH): apt-get install -y postgresql (see .ci/run)`);
  return found;
}

/** A program's stdout, trimmed, when it ran and exited 0. */
function spawnText(command: string, args: readonly string[]): string | undefined {
  const result = spawnSync(command, [...args], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() || undefined : undefined;
}

// ---------------------------------------------------------------------------------------------

function must(result: CliResult, what: string): CliResult {
  if (result.code === 0) return result;
  throw new Error(`${what} failed (exit ${result.code ?? result.signal}):\n${tail(result.stdout + '\n' + result.stderr)}`);
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
