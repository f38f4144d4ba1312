/**
 * Writes the demo policy signed by a key made for this run. Only the public key is written; the
 * secret key lives in this function's memory and is dropped when it returns, so nothing that
 * could sign another policy is left on disk (the same rule as in production: the signing key
 * never sits on the storefront host).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, parseSecretKey, signMessage } from '../policy/minisign.js';
import { demoPolicyYaml, type DemoPolicyOptions } from './policy.js';

export interface SignedPolicyFiles {
  readonly policyFile: string;
  readonly signatureFile: string;
  readonly publicKeyFile: string;
  readonly keyId: string;
}

export async function writeSignedDemoPolicy(dir: string, options: DemoPolicyOptions): Promise<SignedPolicyFiles> {
  await mkdir(dir, { recursive: true });
  const pair = generateKeyPair({ untrustedComment: 'payguard demo secret key (in memory only)' });
  const secretKey = parseSecretKey(pair.secretKeyText, '(demo key, in memory)');
  const policyText = Buffer.from(demoPolicyYaml(options), 'utf8');
  const signature = signMessage(policyText, secretKey, {
    trustedComment: `payguard demo policy serial ${options.serial ?? 1} for ${options.site}, signed by a key made for this run`,
    untrustedComment: 'signature from the payguard demo key',
  });
  const files: SignedPolicyFiles = {
    policyFile: join(dir, 'policy.yaml'),
    signatureFile: join(dir, 'policy.yaml.minisig'),
    publicKeyFile: join(dir, 'payguard.pub'),
    keyId: pair.keyId,
  };
  await writeFile(files.policyFile, policyText);
  await writeFile(files.signatureFile, signature);
  await writeFile(files.publicKeyFile, pair.publicKeyText);
  return files;
}
