/**
 * payguard as a release engineer and an operator run it, through its real CLI:
 * `payguard keygen` → write the suite's policy → `payguard sign` → `payguard serve`.
 * Keys, policies and state live in a temp dir; nothing is written into the repository.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as parse5 from 'parse5';
import type { RouteMode } from '../../src/policy/model.js';
import { freePort } from '../helpers/upstreams.js';
import { CDN_HOST, GATEWAY_HOST, PARTNER_HOST, SHOP_ORIGIN, TOKENIZER_URL } from './world.js';

const run = promisify(execFile);
const PAYGUARD_BIN = fileURLToPath(new URL('../../bin/payguard.js', import.meta.url));
const PAYGUARD_MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const READY_POLLS = 150;
const READY_POLL_MS = 200;

export interface PayguardKeys {
  readonly secretKey: string;
  readonly publicKey: string;
}

export interface RunningPayguard {
  readonly mode: RouteMode;
  /** `http://127.0.0.1:PORT`: the public port, where the forward proxy sends shop requests. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`: the admin port (/metrics, /readyz). */
  readonly adminUrl: string;
  /** What payguard wrote to stderr and stdout so far (its JSON log lines). */
  output(): string;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

/** `payguard <args>` with the compiled CLI; rejects with its stderr when it exits non-zero. */
async function payguard(args: readonly string[]): Promise<string> {
  if (!existsSync(PAYGUARD_MAIN)) throw new Error(`payguard is not built (${PAYGUARD_MAIN} missing): run "npx tsc -p tsconfig.json" first`);
  try {
    const { stdout } = await run(process.execPath, [PAYGUARD_BIN, ...args], { timeout: 30_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`payguard ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

export async function keygen(dir: string): Promise<PayguardKeys> {
  const keys = { secretKey: join(dir, 'e2e.key'), publicKey: join(dir, 'e2e.pub') };
  await payguard(['keygen', '--secret-key', keys.secretKey, '--public-key', keys.publicKey]);
  return keys;
}

/**
 * The suite's policy: the shop itself, the gateway for forms, frames, navigation and its token API,
 * the CDN and the tokenizer URL for scripts, the CDN and the partner for stylesheets and the
 * partner for images (legit-links-images), the inline scripts of the legitimate pages by
 * hash, and the shop's release manifest. Every route in `mode`. Nothing an attacker host could match.
 */
export function suitePolicy(mode: RouteMode, inlineHashes: readonly string[]): string {
  const gateway = `http://${GATEWAY_HOST}`;
  const inline = inlineHashes.map((hash) => `    - { hash: "${hash}", why: inline script of a legitimate e2e page }`).join('\n');
  return `# Written by test/e2e for the attack suite; signed at run time with a throw-away key.
schema: 1
serial: 1
site: ${SHOP_ORIGIN}
routes:
  - path: /**
    mode: ${mode}
${mode === 'rewrite' ? "    codeRemoval: serve   # the suite checks that every attack is neutralised; removed code is counted\n" : ''}allow:
  form:
    - { origin: ${gateway}, why: card payment gateway }
  script:
    - { origin: http://${CDN_HOST}, why: storefront assets }
    - { url: ${TOKENIZER_URL}, why: gateway tokenizer }
  frame:
    - { origin: ${gateway}, why: hosted card fields }
  navigate:
    - { origin: ${gateway}, why: redirect to the hosted payment page }
    - { origin: https://schema.org, why: JSON-LD @context of the structured data (a URL the page carries) }
    - { origin: https://www.instagram.com, why: the shop's social link }
  connect:
    - { origin: ${gateway}, why: tokenization API }
  image:
    - { origin: http://${PARTNER_HOST}, why: partner logo }
  style:
    - { origin: http://${CDN_HOST}, why: storefront stylesheet }
    - { origin: http://${PARTNER_HOST}, why: partner font stylesheet }
  inline:
${inline}
${firstPartyManifest()}`;
}

/**
 * The shop's release manifest (issue 17 class 3), as `payguard pin` writes it: the SRI hash of each
 * released file's bytes. /js/bundle.js and /js/shop-module.mjs are released too; the first-party
 * attack cases serve a modified bundle there, and a skimmed copy under a name nobody released.
 */
function firstPartyManifest(): string {
  const sri = (file: string): string => `sha384-${createHash('sha384').update(readFileSync(new URL(`./cases/${file}`, import.meta.url))).digest('base64')}`;
  return `firstParty:
  base: [/js/]
  scripts:
    /js/shop.js: ${sri('_shop.js')}
    /js/bundle.js: ${sri('_shop.js')}
    /js/shop-module.mjs: ${sri('_shop-module.mjs')}
`;
}

/**
 * The CSP hash sources (`sha256-…`) of every executable inline script in `pages` (HTML files in
 * UTF-8), computed over the script's text as the DOM holds it (CSP3 §6.7.3.3 hashes the element's
 * child text content, after the parser normalised newlines).
 */
export function inlineScriptHashes(pages: readonly string[]): string[] {
  const hashes = new Set<string>();
  for (const file of pages) {
    const document = parse5.parse(readFileSync(file, 'utf8'));
    for (const script of elements(document, 'script')) {
      const attrs = new Map(script.attrs.map((a) => [a.name, a.value]));
      if (attrs.has('src')) continue;
      const type = (attrs.get('type') ?? '').trim().toLowerCase();
      if (type === 'application/ld+json' || type === 'application/json') continue;
      const text = script.childNodes.map((n) => ('value' in n ? n.value : '')).join('');
      hashes.add(`sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`);
    }
  }
  return [...hashes];
}

type ParsedElement = Extract<parse5.DefaultTreeAdapterMap['childNode'], { tagName: string }>;

function elements(root: parse5.DefaultTreeAdapterMap['parentNode'], tagName: string): ParsedElement[] {
  const found: ParsedElement[] = [];
  const stack: parse5.DefaultTreeAdapterMap['parentNode'][] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as parse5.DefaultTreeAdapterMap['parentNode'];
    for (const child of node.childNodes) {
      if (!('tagName' in child)) continue;
      if (child.tagName === tagName) found.push(child);
      stack.push(child);
      if (child.tagName === 'template') stack.push((child as parse5.DefaultTreeAdapterMap['template']).content);
    }
  }
  return found;
}

/** Write the policy for `mode`, sign it, and start `payguard serve` in front of `upstream`. */
export async function startPayguard(
  dir: string,
  keys: PayguardKeys,
  mode: RouteMode,
  upstream: string,
  inlineHashes: readonly string[],
): Promise<RunningPayguard> {
  const policy = join(dir, `policy-${mode}.yaml`);
  writeFileSync(policy, suitePolicy(mode, inlineHashes));
  await payguard(['sign', policy, '--secret-key', keys.secretKey]);
  return { mode, ...(await servePayguard({ policyFile: policy, publicKey: keys.publicKey, upstream, stateDir: join(dir, `state-${mode}`) })) };
}

export interface ServeOptions {
  /** A signed policy (its `.minisig` beside it). */
  readonly policyFile: string;
  readonly publicKey: string;
  readonly upstream: string;
  readonly stateDir: string;
  /** The public port; default a free one. */
  readonly port?: number;
}

/** `payguard serve` as an operator starts it, on 127.0.0.1, ready when its admin port's /readyz says so. */
export async function servePayguard(options: ServeOptions): Promise<Omit<RunningPayguard, 'mode'>> {
  if (!existsSync(PAYGUARD_MAIN)) throw new Error(`payguard is not built (${PAYGUARD_MAIN} missing): run "npx tsc -p tsconfig.json" first`);
  const [port, adminPort] = [options.port ?? (await freePort()), await freePort()];
  // The suite judges verdicts, not speed (that is `npm run bench`): on 2 cores shared with the
  // Chromium suites, one verification once stalled past the 2 s default and a page meant to be
  // rewritten was refused as inspection-timeout. A generous limit keeps the verdict independent of load.
  const child = spawn(
    process.execPath,
    [PAYGUARD_BIN, 'serve', '--upstream', options.upstream, '--policy', options.policyFile, '--public-key', options.publicKey,
      '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`, '--state-dir', options.stateDir,
      '--verify-timeout', '20s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitReady(child, adminUrl, () => output);
  return {
    url: `http://127.0.0.1:${port}`,
    adminUrl,
    output: () => output,
    metricsText: async () => (await fetch(`${adminUrl}/metrics`)).text(),
    stop: () => stop(child),
  };
}

async function waitReady(child: ChildProcess, adminUrl: string, output: () => string): Promise<void> {
  for (let i = 0; i < READY_POLLS; i++) {
    if (child.exitCode !== null) throw new Error(`payguard serve exited with ${child.exitCode}: ${output()}`);
    const ready = await fetch(`${adminUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  child.kill('SIGKILL');
  throw new Error(`payguard serve not ready after ${(READY_POLLS * READY_POLL_MS) / 1000}s: ${output()}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
