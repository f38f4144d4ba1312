/**
 * The soak's policy churn: every second a new policy replaces the one on disk (two valid variants
 * alternating, each with a higher serial), and now and then a bad one that payguard must refuse
 * while the last good policy stays in force. Signed with the real `minisign` binary, keys made
 * in the soak's temp dir.
 */
import { execFile } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchPolicyYaml } from './policy.js';

const execFileAsync = promisify(execFile);

/** Ways a replacement policy can be bad; each must be refused (docs/policy.md). */
export const BAD_KINDS = ['untrusted-key', 'rollback', 'edited-after-signing'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

export interface SoakPolicyFiles {
  readonly policyFile: string;
  readonly publicKeyFile: string;
  readonly stateDir: string;
}

export interface PolicyChurn {
  readonly files: SoakPolicyFiles;
  /** Serial of the last good policy written. */
  readonly goodSerial: number;
  /** Writes the next good policy (alternating variants); returns its serial. */
  writeGood(): Promise<number>;
  /** Writes a bad replacement of the given kind. */
  writeBad(kind: BadKind): Promise<void>;
}

/**
 * Variant A is the bench's block-mode policy; B also allows a second tokenization API. Both give
 * every soak page the same verdict, so a reload must never change one.
 */
function policyText(serial: number, variant: 'a' | 'b'): string {
  const yaml = benchPolicyYaml('block').replace(/^serial: 1$/m, `serial: ${serial}`);
  if (variant === 'a') return yaml;
  return yaml.replace(/^(\s*connect:\s*\[)/m, '$1{ origin: https://api2.gateway.example, why: second tokenization API }, ');
}

async function makeKey(dir: string, name: string): Promise<{ publicKeyFile: string; secretKeyFile: string }> {
  const publicKeyFile = join(dir, `${name}.pub`);
  const secretKeyFile = join(dir, `${name}.key`);
  await execFileAsync('minisign', ['-G', '-W', '-f', '-p', publicKeyFile, '-s', secretKeyFile]);
  return { publicKeyFile, secretKeyFile };
}

export async function createPolicyChurn(dir: string): Promise<PolicyChurn> {
  const trusted = await makeKey(dir, 'soak-trusted');
  const untrusted = await makeKey(dir, 'soak-untrusted');
  const policyFile = join(dir, 'policy', 'soak.yaml');
  await execFileAsync('mkdir', ['-p', join(dir, 'policy')]);
  let goodSerial = 0;
  let writes = 0;

  /** Signs in a scratch place, then renames policy and signature into place (as a deploy tool does). */
  const install = async (text: string, secretKeyFile: string, editAfterSigning = false): Promise<void> => {
    const scratch = join(dir, `next-${++writes}.yaml`);
    await writeFile(scratch, text);
    await execFileAsync('minisign', ['-S', '-s', secretKeyFile, '-m', scratch, '-t', `payguard soak ${writes}`]);
    if (editAfterSigning) await writeFile(scratch, `${text}# edited after signing\n`);
    await rename(scratch, policyFile);
    await rename(`${scratch}.minisig`, `${policyFile}.minisig`);
  };

  const churn: PolicyChurn = {
    files: { policyFile, publicKeyFile: trusted.publicKeyFile, stateDir: join(dir, 'state') },
    get goodSerial() {
      return goodSerial;
    },
    async writeGood() {
      goodSerial += 1;
      await install(policyText(goodSerial, goodSerial % 2 === 0 ? 'b' : 'a'), trusted.secretKeyFile);
      return goodSerial;
    },
    async writeBad(kind) {
      switch (kind) {
        case 'untrusted-key':
          return install(policyText(goodSerial + 1, 'a'), untrusted.secretKeyFile);
        case 'rollback':
          // Correctly signed, but below the floor payguard recorded in its state dir.
          return install(policyText(Math.max(0, goodSerial - 1), 'a'), trusted.secretKeyFile);
        case 'edited-after-signing':
          return install(policyText(goodSerial + 1, 'b'), trusted.secretKeyFile, true);
      }
    },
  };
  await churn.writeGood();
  return churn;
}
