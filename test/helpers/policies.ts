/**
 * Building and signing policies for tests. Every key pair and signature here is made by payguard's
 * own minisign implementation (src/policy/minisign.ts), in-process: no test needs the `minisign`
 * binary just to have a policy in force. Interop with the real binary is the business of the tests
 * that say so (test/policy/minisign.test.ts, test/policy/cli.test.ts, …), which spawn it themselves.
 * Keys live only in temp dirs; nothing is written into the repository.
 *
 *   emptyPolicy({ routes: [...] })                 a Policy value with every allow list empty, for code that takes one
 *   policyWith({ allow: { form: [...] } })         an object over BASE_POLICY (arrays and scalars replace)
 *   parsedPolicyWith({ serial: 3 })                 the same, through the real YAML parser, as a Policy
 *   await makeSignedPolicy({ policy: { serial: 2 } })  policy + signature + key in a temp dir (async writes)
 *   signedPolicy(yaml)                              the same from YAML text, synchronously, for `payguard serve`
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { ALLOW_KINDS, type Policy } from '../../src/policy/model.js';
import { generateKeyPair, parsePublicKey, parseSecretKey, signMessage, type MinisignSecretKey } from '../../src/policy/minisign.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { DEFAULT_CHARSET } from '../../src/policy/semantic.js';

/** A Policy as the loader returns one (shop.example, no routes, every allow list empty), with `overrides` on top. */
export function emptyPolicy(overrides: Partial<Policy> = {}): Policy {
  const allow = Object.fromEntries(ALLOW_KINDS.map((kind) => [kind, []])) as unknown as Policy['allow'];
  return { schema: 1, serial: 1, site: 'https://shop.example', routes: [], allow, defaultCharset: DEFAULT_CHARSET, ...overrides };
}

/** A policy that validates; tests override what they need. */
export const BASE_POLICY = {
  schema: 1,
  serial: 1,
  site: 'https://shop.example',
  routes: [
    { path: '/checkout/**', mode: 'block' },
    { path: '/**', mode: 'report' },
  ],
  allow: {
    form: [{ origin: 'https://pay.gateway.example', why: 'card payment gateway' }],
    script: [{ origin: 'https://cdn.shop.example', why: 'storefront assets' }],
  },
} as const;

/** Deep-merges `overrides` over BASE_POLICY (arrays and scalars replace). */
export function policyWith(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return merge(BASE_POLICY as unknown as Record<string, unknown>, overrides);
}

/** policyWith, written as YAML and read back by payguard's own parser (schema and semantics checked). */
export function parsedPolicyWith(overrides: Record<string, unknown> = {}): Policy {
  return parsePolicyText(stringify(policyWith(overrides)), 'p.yaml');
}

/** Writes policyWith(overrides) as YAML to `file` (unsigned) and returns `file`. */
export async function writePolicyYaml(file: string, overrides: Record<string, unknown>): Promise<string> {
  await writeFile(file, stringify(policyWith(overrides)));
  return file;
}

export interface TestKeyPair {
  readonly keyId: string;
  readonly publicKeyFile: string;
  readonly secretKeyFile: string;
  readonly publicKeyText: string;
  readonly secretKey: MinisignSecretKey;
}

/** A key pair written into `dir` (unencrypted: tests that need a password make their own). */
export async function makeKeyPair(dir: string, name = 'payguard'): Promise<TestKeyPair> {
  return writeKeyPair(dir, name);
}

function writeKeyPair(dir: string, name: string): TestKeyPair {
  const pair = generateKeyPair();
  const publicKeyFile = join(dir, `${name}.pub`);
  const secretKeyFile = join(dir, `${name}.key`);
  writeFileSync(publicKeyFile, pair.publicKeyText);
  writeFileSync(secretKeyFile, pair.secretKeyText, { mode: 0o600 });
  parsePublicKey(pair.publicKeyText, publicKeyFile);
  return { keyId: pair.keyId, publicKeyFile, secretKeyFile, publicKeyText: pair.publicKeyText, secretKey: parseSecretKey(pair.secretKeyText, secretKeyFile) };
}

/** A temp dir holding a key pair, where `policyFile` and its `.minisig` go, and a state dir path. */
interface PolicyDir {
  readonly dir: string;
  readonly key: TestKeyPair;
  readonly policyFile: string;
  readonly signatureFile: string;
  readonly stateDir: string;
}

function policyDir(prefix: string, fileName: string): PolicyDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const policyFile = join(dir, fileName);
  return { dir, key: writeKeyPair(dir, 'payguard'), policyFile, signatureFile: `${policyFile}.minisig`, stateDir: join(dir, 'state') };
}

interface SignOptions {
  readonly key?: TestKeyPair;
  /** Default: minisign's own, "timestamp:<unix>\tfile:<signedName>\thashed". */
  readonly trustedComment?: string;
}

/** Writes `bytes` and their prehashed signature (the form `minisign -S` writes). */
function writeSigned(files: PolicyDir, bytes: Buffer, signedName: string, options: SignOptions = {}): void {
  writeFileSync(files.policyFile, bytes);
  const signOptions = options.trustedComment === undefined ? { fileName: signedName } : { trustedComment: options.trustedComment };
  writeFileSync(files.signatureFile, signMessage(bytes, (options.key ?? files.key).secretKey, signOptions));
}

export interface SignedPolicyFixture {
  readonly dir: string;
  readonly policyFile: string;
  readonly signatureFile: string;
  readonly stateDir: string;
  readonly key: TestKeyPair;
  /** Ready for loadSignedPolicy / PolicyHolder.open. */
  readonly loadOptions: { policyFile: string; publicKeyFiles: string[]; stateDir: string };
  /** Writes `policy` (object → YAML/JSON by the file's extension, or text as is) and its signature. */
  write(policy: object | string, options?: SignOptions): Promise<void>;
  cleanup(): Promise<void>;
}

/** A signed policy (default: BASE_POLICY; an object is merged over it) in a fresh temp dir. */
export async function makeSignedPolicy(options: { policy?: Record<string, unknown> | string; fileName?: string } = {}): Promise<SignedPolicyFixture> {
  const files = policyDir('payguard-policy-', options.fileName ?? 'policy.yaml');
  const { dir, policyFile, signatureFile, stateDir, key } = files;
  const fixture: SignedPolicyFixture = {
    dir,
    policyFile,
    signatureFile,
    stateDir,
    key,
    loadOptions: { policyFile, publicKeyFiles: [key.publicKeyFile], stateDir },
    async write(policy, writeOptions = {}) {
      const text = typeof policy === 'string' ? policy : policyFile.endsWith('.json') ? JSON.stringify(policy, null, 2) : stringify(policy);
      writeSigned(files, Buffer.from(text), 'policy', writeOptions);
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
  await fixture.write(typeof options.policy === 'string' ? options.policy : policyWith(options.policy));
  return fixture;
}

/** A policy as `payguard serve` reads it: YAML text signed in a temp dir, re-signable in place. */
export interface SignedPolicy {
  readonly dir: string;
  readonly policyFile: string;
  readonly publicKeyFile: string;
  readonly secretKeyFile: string;
  readonly stateDir: string;
  /** Replace the policy text and sign it again (what a release does). */
  resign(yaml: string): void;
  /** Writes `text` as `name` beside the policy, signed with the same key (a `--shadow-policy` candidate); returns its path. */
  signBeside(name: string, text: string): string;
  remove(): void;
}

/**
 * `yaml` signed with a fresh key, synchronously, with the trusted comment `minisign -S` would
 * write for policy.yaml: byte for byte the kind of signature a release ships.
 */
export function signedPolicy(yaml: string): SignedPolicy {
  const files = policyDir('payguard-proxy-test-', 'policy.yaml');
  const sign = (text: string): void => writeSigned(files, Buffer.from(text), basename(files.policyFile));
  sign(yaml);
  return {
    dir: files.dir,
    policyFile: files.policyFile,
    publicKeyFile: files.key.publicKeyFile,
    secretKeyFile: files.key.secretKeyFile,
    stateDir: files.stateDir,
    resign: sign,
    signBeside(name, text) {
      const file = join(files.dir, name);
      writeSigned({ ...files, policyFile: file, signatureFile: `${file}.minisig` }, Buffer.from(text), name);
      return file;
    },
    remove: () => rmSync(files.dir, { recursive: true, force: true }),
  };
}

function merge(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    const b = base[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? merge(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
