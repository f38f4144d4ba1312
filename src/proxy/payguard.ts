/**
 * The composition root: the one place that builds the stages and wires them together.
 *
 * `createPayguard` is the one way to start payguard: the CLI's `serve`, the demo, the bench (which
 * runs the CLI) and the tests all call it. It opens the signed policy (and the shadow candidate),
 * the metrics, the log and the evidence log, then `startPayguard` runs the public listener (both
 * paths), the verifier workers and the admin listener.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Counter, type Registry } from 'prom-client';
import { ListenError } from '../errors.js';
import { openEvidence, type RunningEvidence } from '../evidence/open.js';
import { LIMITS, nodeServerTimeouts } from '../limits.js';
import { startAdminServer } from '../observe/admin.js';
import { createLogger, type PayguardLogger } from '../observe/log.js';
import { createMetrics, type PayguardMetrics } from '../observe/metrics.js';
import type { PolicyInForce } from '../policy/in-force.js';
import { PolicyHolder } from '../policy/reload.js';
import { createSecondLayer } from './browser/layer.js';
import { createReservedHandlers, isReservedPath, serveReserved } from './browser/reserved.js';
import { InspectionBudget } from './document/budget.js';
import { serveDocument, type DocumentPathServices } from './document/path.js';
import { createUpstreamPool } from './document/upstream.js';
import type { RequestFacts } from './http/facts.js';
import { TrustedProxies } from './http/forwarded.js';
import { mayReceiveDocument } from './http/request-kind.js';
import { startPublicServer } from './http/server.js';
import { DEFAULTS, type ListenAddress, type PayguardOptions, type PayguardSettings } from './options.js';
import { createSubresourceProxy } from './passthrough/assets.js';
import { noteGeneratedScript, pinnedScriptFor, servePinnedScript } from './passthrough/pinned-script.js';
import { VerifiedBytes } from './passthrough/verified-bytes.js';
import { failSafe, failSafeUpgrade } from './verdict/fail-safe.js';
import { TrafficLearner } from './learning/traffic-learner.js';
import { SHADOW_SKIP_REASONS, ShadowJudge, type ShadowPolicy } from './verdict/shadow.js';
import { ServedDocumentCache, VerificationCache } from './verdict/verification-cache.js';
import { VerifyPool } from './workers/pool.js';
import type { ListenerFaults } from './http/listener-guard.js';

export interface RunningPayguard {
  /** Where the shop's customers connect, e.g. `http://127.0.0.1:8080`. */
  readonly publicUrl: string;
  /** /metrics, /healthz, /readyz. */
  readonly adminUrl: string;
  /** Stop accepting, let in-flight requests finish within drainTimeoutMs, then close everything. */
  drain(): Promise<void>;
  /** Close now (in-flight requests are cut). */
  close(): Promise<void>;
}

/** Everything `createPayguard` needs: where things are, and the operator's settings. */
export interface PayguardSetup extends Partial<PayguardSettings> {
  readonly upstream: URL;
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly policyFile: string;
  /** Defaults to `policyFile + '.minisig'`. */
  readonly signatureFile?: string;
  readonly publicKeyFiles: readonly string[];
  /** The accepted serial (rollback floor) and, with `evidence`, the evidence log. */
  readonly stateDir: string;
  /** A signed candidate policy judged on every response, never enforced (`--shadow-policy`). */
  readonly shadowPolicyFile?: string | undefined;
  /** Keep the PCI evidence log in stateDir (`payguard serve` does; the demo does not). */
  readonly evidence?: boolean;
  /** Learn from report routes' pages and CSP reports into this record (`--learn`, learning/traffic-learner.ts). */
  readonly learnFile?: string | undefined;
  /** Where the JSON log lines go (default stdout). */
  readonly log?: NodeJS.WritableStream;
  readonly trustedProxies?: readonly string[];
  readonly verifyWorkers?: number;
  readonly verificationCacheBytes?: number;
  readonly listenerFaults?: ListenerFaults;
}

export interface Payguard extends RunningPayguard {
  readonly holder: PolicyHolder;
  readonly metrics: PayguardMetrics;
  readonly logger: PayguardLogger;
  /** The candidate policy's holder, with --shadow-policy. */
  readonly shadowHolder: PolicyHolder | undefined;
  /** Reload on SIGHUP and when the policy or its signature file changes (what `payguard serve` does). */
  followPolicyChanges(): void;
}

/**
 * Opens the policy and everything around it, then starts payguard. A policy that does not verify
 * throws its PolicyError or KeyError (naming file, line and field); a port that cannot be bound
 * throws ListenError. Either way nothing is left running.
 */
export async function createPayguard(setup: PayguardSetup): Promise<Payguard> {
  const logger = createLogger(setup.log ?? process.stdout);
  const metrics = createMetrics();
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse().splice(0)) await cleanup();
  };
  try {
    const holder = await PolicyHolder.open({
      policyFile: setup.policyFile,
      ...(setup.signatureFile ? { signatureFile: setup.signatureFile } : {}),
      publicKeyFiles: setup.publicKeyFiles,
      stateDir: setup.stateDir,
      logger: (event) => logger.event('policy', event),
    });
    cleanups.push(() => holder.close());
    const untrack = metrics.trackPolicy(holder);
    cleanups.push(untrack);
    const evidence = setup.evidence ? await openEvidenceLog(setup.stateDir, logger, metrics, holder) : undefined;
    if (evidence) cleanups.push(() => evidence.close());
    const shadow = setup.shadowPolicyFile === undefined ? undefined : await openShadowPolicy(setup, setup.shadowPolicyFile, metrics.registry, logger);
    if (shadow) {
      cleanups.push(() => shadow.holder.close());
      evidence?.follow(shadow.holder, 'shadow');
    }
    const learner = setup.learnFile === undefined ? undefined : await TrafficLearner.open(setup.learnFile, logger);
    if (learner) cleanups.push(() => learner.close());
    const running = await startPayguard({
      ...DEFAULTS,
      ...definedSettings(setup),
      upstream: setup.upstream,
      listen: setup.listen,
      admin: setup.admin,
      policy: holder,
      metrics,
      logger,
      trustedProxies: setup.trustedProxies ?? [],
      ...(setup.verifyWorkers !== undefined ? { verifyWorkers: setup.verifyWorkers } : {}),
      ...(setup.verificationCacheBytes !== undefined ? { verificationCacheBytes: setup.verificationCacheBytes } : {}),
      ...(evidence ? { evidence: evidence.recorder } : {}),
      ...(shadow ? { shadow: shadow.policy } : {}),
      ...(learner ? { learner } : {}),
      ...(setup.listenerFaults ? { listenerFaults: setup.listenerFaults } : {}),
    });
    const stopAll = async (stop: () => Promise<void>): Promise<void> => {
      await stop();
      await cleanUp();
    };
    return {
      publicUrl: running.publicUrl,
      adminUrl: running.adminUrl,
      holder,
      metrics,
      logger,
      shadowHolder: shadow?.holder,
      followPolicyChanges() {
        // Deploy tools replace the policy and its signature in place (a ConfigMap swap, a copy):
        // reload when either changes, not only on SIGHUP.
        for (const followed of [holder, shadow?.holder]) {
          followed?.handleSighup();
          followed?.watch();
        }
      },
      drain: () => stopAll(() => running.drain()),
      close: () => stopAll(() => running.close()),
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

function definedSettings(setup: Partial<PayguardSettings>): Partial<PayguardSettings> {
  return Object.fromEntries(Object.entries(setup).filter(([name, value]) => name in DEFAULTS && value !== undefined));
}

/** The PCI evidence log (docs/authoring.md): policies in force and detections, hash-chained. */
async function openEvidenceLog(stateDir: string, logger: PayguardLogger, metrics: PayguardMetrics, holder: PolicyHolder): Promise<RunningEvidence> {
  const evidence = await openEvidence(stateDir, logger, { onWriteFailure: () => metrics.recordStateError('evidence') });
  evidence.follow(holder, 'enforced');
  return evidence;
}

/**
 * The --shadow-policy candidate: signed by a trusted key like the real one, reloaded the same way,
 * with its own rollback floor (a sub-dir of the state dir) so a candidate's higher serial never
 * raises the floor of the policy actually enforced.
 */
async function openShadowPolicy(setup: PayguardSetup, policyFile: string, registry: Registry, logger: PayguardLogger): Promise<{ holder: PolicyHolder; policy: ShadowPolicy }> {
  const holder = await PolicyHolder.open({
    policyFile,
    publicKeyFiles: setup.publicKeyFiles,
    stateDir: join(setup.stateDir, 'shadow'),
    logger: (event) => logger.event('shadow-policy', event),
  });
  const disagreements = new Counter({
    name: 'payguard_shadow_disagreements_total',
    help: 'Responses whose verdict under the --shadow-policy candidate differs from the enforced one; direction: stricter (candidate harsher) or looser',
    labelNames: ['route', 'direction'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'payguard_shadow_skipped_total',
    help: 'Inspected documents not judged under the --shadow-policy candidate because no verifier worker was free for it (the shadow never waits ahead of enforced pages); reason: enforced-waiting, shadow-in-flight or no-idle-worker',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Every reason from the start, at 0, so increase() and rate() see the first skip.
  for (const reason of SHADOW_SKIP_REASONS) skipped.inc({ reason }, 0);
  return {
    holder,
    policy: {
      policy: holder,
      recordDisagreement: (route, direction) => disagreements.inc({ route, direction }),
      recordSkipped: (reason) => skipped.inc({ reason }),
    },
  };
}

/** Runs payguard with the policy source, metrics and logger given (createPayguard opens them). */
export async function startPayguard(options: PayguardOptions): Promise<RunningPayguard> {
  const verifyPool = new VerifyPool(options.verifyWorkers ?? Math.min(2, availableParallelism()), options.verifyTimeoutMs);
  const upstreamPool = createUpstreamPool(options.upstream, options.upstreamTimeoutMs);
  const trusted = new TrustedProxies(options.trustedProxies);
  const services: DocumentPathServices & Parameters<typeof createSubresourceProxy>[0] & Parameters<typeof serveReserved>[1] & Parameters<typeof servePinnedScript>[0] = {
    upstream: options.upstream,
    upstreamPool,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    verifyPool,
    verifications: new VerificationCache(options.verificationCacheBytes ?? LIMITS.verificationCacheBytes),
    servedDocuments: new ServedDocumentCache(LIMITS.servedDocumentCacheBytes),
    keepDecoded: options.shadow !== undefined,
    policy: options.policy,
    metrics: options.metrics,
    logger: options.logger,
    trusted,
    maxInspectBytes: options.maxInspectBytes,
    inspectionBudget: new InspectionBudget(LIMITS.inspectionBudgetBytes, admissionWaitMs(options.verifyTimeoutMs)),
    secondLayer: createSecondLayer(options.metrics),
    verifiedBytes: new VerifiedBytes(LIMITS.verifiedScriptBytes, LIMITS.maxPinnedScriptBytes),
    shadow: options.shadow ? new ShadowJudge(options.shadow, verifyPool, options.logger) : undefined,
    evidence: options.evidence,
    learner: options.learner,
    listenerFaults: options.listenerFaults,
  };
  const subresources = createSubresourceProxy(services);
  const reserved = createReservedHandlers();
  let draining = false;

  // Which path a request takes, decided from the request alone, before any upstream byte.
  const request = (req: IncomingMessage, res: ServerResponse, facts: RequestFacts): void | Promise<void> => {
    if (isReservedPath(facts.path)) return serveReserved(reserved, services, req, res, facts);
    // A pinned script (or a service worker's) is verified before it is served, whatever Sec-Fetch-Dest says.
    // Under a release manifest (firstParty), also every listed path, and unlisted code is refused there.
    const pin = pinnedScriptFor(options.policy.current().compiled, req, facts.target);
    if (pin && !noteGeneratedScript(services, facts, pin)) return servePinnedScript(services, req, res, facts, pin);
    if (mayReceiveDocument(req)) return serveDocument(services, req, res, facts);
    return subresources.web(req, res, facts);
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, facts: RequestFacts): void => {
    if (isReservedPath(facts.path)) {
      socket.destroy();
      return;
    }
    subresources.ws(req, socket, head, facts);
  };
  const server = await startPublicServer(
    {
      listen: options.listen,
      trusted,
      // Each client timeout less one checking interval: Node cuts at its next check, so the cut lands
      // within the documented value (limits.ts, docs/limits.md).
      timeouts: nodeServerTimeouts(options),
      listenerFaults: options.listenerFaults,
    },
    {
      request,
      upgrade,
      onFailure: (res, facts, err) => failSafe(services, res, facts, err),
      onUpgradeFailure: (socket, facts, err) => failSafeUpgrade(services, socket, facts, err),
    },
  ).catch((err: unknown) => {
    void Promise.allSettled([upstreamPool.destroy(), verifyPool.close()]);
    subresources.close();
    throw new ListenError(options.listen, err);
  });
  let admin;
  try {
    admin = await startAdminServer({
      host: options.admin.host,
      port: options.admin.port,
      metrics: options.metrics as Parameters<typeof startAdminServer>[0]['metrics'],
      isReady: () => !draining && hasPolicy(options),
      isLive: () => true,
    });
  } catch (err) {
    await server.close(0);
    subresources.close();
    await Promise.allSettled([upstreamPool.destroy(), verifyPool.close()]);
    throw new ListenError(options.admin, err);
  }
  options.logger.event('listening', { public: server.url, admin: admin.url, upstream: options.upstream.origin });

  let stopped: Promise<void> | undefined;
  const stop = (graceMs: number): Promise<void> => {
    stopped ??= (async () => {
      draining = true;
      await server.close(graceMs);
      subresources.close();
      // Every client connection is finished or cut by now, so nothing still waits on the upstream.
      await Promise.allSettled([admin.close(), upstreamPool.destroy(), verifyPool.close()]);
    })();
    return stopped;
  };
  return {
    publicUrl: server.url,
    adminUrl: admin.url,
    drain: () => stop(options.drainTimeoutMs),
    close: () => stop(0),
  };
}

/** As long as a request may wait for room to be inspected: the same overload as a worker queue, one step earlier. */
function admissionWaitMs(verifyTimeoutMs: number): number {
  return Math.max(verifyTimeoutMs * LIMITS.queueWaitLimits, LIMITS.minQueueWaitMs);
}

function hasPolicy(options: PayguardOptions): boolean {
  try {
    return options.policy.current() !== undefined;
  } catch {
    // A source that cannot say is not ready: /readyz answers 503 rather than the probe failing.
    return false;
  }
}

export type { PolicyInForce };
