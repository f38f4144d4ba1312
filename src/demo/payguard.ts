/**
 * payguard itself, as the demo runs it: the same startPayguard, PolicyHolder, metrics and logger
 * `payguard serve` uses, given the demo's freshly signed policy. Nothing here is demo-only
 * behaviour; only the settings are (short timeouts suit a laptop).
 */
import { createLogger } from '../observe/log.js';
import { createMetrics } from '../observe/metrics.js';
import { PolicyHolder } from '../policy/reload.js';
import { DEFAULTS, startPayguard } from '../proxy/index.js';
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
  const logger = createLogger(options.out ?? process.stdout);
  const metrics = createMetrics();
  const holder = await PolicyHolder.open({
    policyFile: options.files.policyFile,
    signatureFile: options.files.signatureFile,
    publicKeyFiles: [options.files.publicKeyFile],
    stateDir: options.stateDir,
    logger: (record) => {
      const { event, ...fields } = record as { event?: string };
      logger.event(event ?? 'policy', fields);
    },
  });
  const stopTracking = metrics.trackPolicy(holder);
  try {
    const payguard = await startPayguard({
      upstream: new URL(options.upstream),
      listen: options.listen,
      admin: options.admin,
      policy: holder,
      metrics,
      logger,
      maxInspectBytes: DEFAULTS.maxInspectBytes,
      upstreamTimeoutMs: 10_000,
      verifyTimeoutMs: DEFAULTS.verifyTimeoutMs,
      drainTimeoutMs: 2_000,
      verifyWorkers: 1,
    });
    return {
      url: payguard.publicUrl,
      adminUrl: payguard.adminUrl,
      async close() {
        await payguard.drain();
        stopTracking();
        await holder.close();
      },
    };
  } catch (err) {
    stopTracking();
    await holder.close();
    throw err;
  }
}
