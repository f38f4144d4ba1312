/**
 * A signing key pair and a signed policy in a fresh temp dir, made with payguard's own policy
 * library, for any test that needs a policy in force (proxy, scan, demo, policy tests).
 * Keys live only in the temp dir; nothing is written into the repository.
 *
 *   const signed = await makeSignedPolicy({ policy: { allow: { form: [...] } } });
 *   await loadSignedPolicy(signed.loadOptions);
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair, parsePublicKey, parseSecretKey, signMessage, type MinisignSecretKey } from '../../src/policy/minisign.js';

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

export interface TestKeyPair {
  readonly keyId: string;
  readonly publicKeyFile: string;
  readonly secretKeyFile: string;
  readonly publicKeyText: string;
  readonly secretKey: MinisignSecretKey;
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
  write(policy: object | string, options?: { key?: TestKeyPair }): Promise<void>;
  cleanup(): Promise<void>;
}

/** A key pair written into `dir` (unencrypted: tests that need a password make their own). */
export async function makeKeyPair(dir: string, name = 'payguard'): Promise<TestKeyPair> {
  const pair = generateKeyPair();
  const publicKeyFile = join(dir, `${name}.pub`);
  const secretKeyFile = join(dir, `${name}.key`);
  await writeFile(publicKeyFile, pair.publicKeyText);
  await writeFile(secretKeyFile, pair.secretKeyText, { mode: 0o600 });
  parsePublicKey(pair.publicKeyText, publicKeyFile);
  return { keyId: pair.keyId, publicKeyFile, secretKeyFile, publicKeyText: pair.publicKeyText, secretKey: parseSecretKey(pair.secretKeyText, secretKeyFile) };
}

/** Deep-merges `overrides` over BASE_POLICY (arrays and scalars replace). */
export function policyWith(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return merge(BASE_POLICY as unknown as Record<string, unknown>, overrides);
}

export async function makeSignedPolicy(options: { policy?: Record<string, unknown> | string; fileName?: string } = {}): Promise<SignedPolicyFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'payguard-policy-'));
  const key = await makeKeyPair(dir);
  const policyFile = join(dir, options.fileName ?? 'policy.yaml');
  const signatureFile = `${policyFile}.minisig`;
  const stateDir = join(dir, 'state');
  const fixture: SignedPolicyFixture = {
    dir,
    policyFile,
    signatureFile,
    stateDir,
    key,
    loadOptions: { policyFile, publicKeyFiles: [key.publicKeyFile], stateDir },
    async write(policy, writeOptions = {}) {
      const text = typeof policy === 'string' ? policy : policyFile.endsWith('.json') ? JSON.stringify(policy, null, 2) : stringify(policy);
      const bytes = Buffer.from(text);
      await writeFile(policyFile, bytes);
      await writeFile(signatureFile, signMessage(bytes, (writeOptions.key ?? key).secretKey, { fileName: 'policy' }));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  await fixture.write(typeof options.policy === 'string' ? options.policy : policyWith(options.policy));
  return fixture;
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
