/**
 * payguard itself, as the demo runs it: the same createPayguard `payguard serve` uses, given the
 * demo's freshly signed policy. Nothing here is demo-only behaviour; only the settings are (short
 * timeouts suit a laptop).
 */
import { createPayguard } from '../proxy/index.js';
import type { ListenAddress } from '../listen.js';
import type { SignedPolicyFiles } from './sign.js';

export interface ProtectedShopOptions {
  /** The storefront's own address. */
  readonly upstream: string;
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly files: SignedPolicyFiles;
  /** Where the rollback floor is kept (the demo's temporary directory). */
  readonly stateDir: string;
  readonly out?: NodeJS.WritableStream;
}

export interface ProtectedShop {
  readonly url: string;
  readonly adminUrl: string;
  /** Drains in-flight requests (briefly), then stops payguard and releases the policy holder. */
  close(): Promise<void>;
}

export async function startProtectedShop(options: ProtectedShopOptions): Promise<ProtectedShop> {
  const payguard = await createPayguard({
    upstream: new URL(options.upstream),
    listen: options.listen,
    admin: options.admin,
    policyFile: options.files.policyFile,
    signatureFile: options.files.signatureFile,
    publicKeyFiles: [options.files.publicKeyFile],
    stateDir: options.stateDir,
    log: options.out ?? process.stdout,
    upstreamTimeoutMs: 10_000,
    drainTimeoutMs: 2_000,
    verifyWorkers: 1,
  });
  return {
    url: payguard.publicUrl,
    adminUrl: payguard.adminUrl,
    close: () => payguard.drain(),
  };
}
