/**
 * The evidence log as `payguard serve` runs it: opened in the state dir, told about every policy
 * that comes into force, and flushed once a minute and at shutdown. A failure to write evidence
 * is logged, never allowed to stop the proxy (the verdicts do not depend on it).
 */
import type { PolicyInForce } from '../policy/in-force.js';
import { StateDirError } from '../errors.js';
import { evidenceDir } from './files.js';
import { EvidenceLog, type EvidenceLogOptions } from './log.js';
import { EvidenceRecorder } from './recorder.js';

/** What of a PolicyHolder (src/policy/reload.ts) the evidence follows, typed by shape. */
export interface PolicyFollowed {
  current(): PolicyInForce;
  on(event: 'reloaded', listener: (inForce: PolicyInForce) => void): unknown;
}

export interface EvidenceErrors {
  error(name: string, err: unknown, fields?: object): void;
}

export interface RunningEvidence {
  readonly recorder: EvidenceRecorder;
  /** Records the holder's policy now and at every accepted reload. */
  follow(holder: PolicyFollowed, role: 'enforced' | 'shadow'): void;
  /** Flushes what is tallied and closes the file. */
  close(): Promise<void>;
}

const FLUSH_INTERVAL_MS = 60_000;

export interface EvidenceOptions extends EvidenceLogOptions {
  readonly flushIntervalMs?: number;
  /** Told of every failed write (a full disk): for a metric beside the log line. */
  readonly onWriteFailure?: () => void;
}

export async function openEvidence(stateDir: string, logger: EvidenceErrors, options: EvidenceOptions = {}): Promise<RunningEvidence> {
  let log: EvidenceLog;
  try {
    log = await EvidenceLog.open(stateDir, options);
  } catch (err) {
    throw new StateDirError(evidenceDir(stateDir), `cannot open the evidence log: ${(err as Error).message} (the state dir must be a writable directory)`, { cause: err });
  }
  const recorder = new EvidenceRecorder(log, options.now);
  const failed = (what: string) => (err: unknown) => {
    logger.error('evidence-write-failed', err, { what });
    options.onWriteFailure?.();
  };
  const timer = setInterval(() => void recorder.flush().catch(failed('detections')), options.flushIntervalMs ?? FLUSH_INTERVAL_MS);
  timer.unref();
  return {
    recorder,
    follow(holder, role) {
      recorder.policyAccepted(holder.current(), role).catch(failed('policy-accepted'));
      holder.on('reloaded', (inForce) => void recorder.policyAccepted(inForce, role).catch(failed('policy-accepted')));
    },
    async close() {
      clearInterval(timer);
      await recorder.flush().catch(failed('detections'));
      await log.close();
    },
  };
}
