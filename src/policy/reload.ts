/**
 * The policy in force for a running proxy, and how it changes: on SIGHUP and when the policy or
 * its signature changes on disk. A new policy replaces the old one only when it verifies;
 * otherwise the last good one stays in force and the failure is logged and counted.
 * Callers take `current()` once per response, so each response is checked against exactly one policy.
 */
import { EventEmitter } from 'node:events';
import { realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LIMITS } from '../limits.js';
import { loadSignedPolicy, type LoadOptions } from './load.js';
import type { PolicyInForce } from './in-force.js';

export type ReloadTrigger = 'sighup' | 'file-change' | 'manual';
export type ReloadResult = { ok: true; inForce: PolicyInForce } | { ok: false; error: Error };

export interface PolicyHolderOptions extends LoadOptions {
  /** Quiet time after the last file event before reloading; covers both files being replaced. */
  readonly debounceMs?: number;
  readonly logger?: (event: object) => void;
}

const DEFAULT_DEBOUNCE_MS = LIMITS.policyReloadDebounceMs;

export class PolicyHolder extends EventEmitter {
  /** Reloads that replaced the policy in force. */
  accepted = 0;
  /** Reloads refused (bad signature, invalid, rolled back, unreadable): the last good policy stayed. */
  rejected = 0;

  #inForce: PolicyInForce;
  readonly #options: PolicyHolderOptions;
  #queue: Promise<unknown> = Promise.resolve();
  /** By directory. */
  readonly #watchers = new Map<string, FSWatcher>();
  #watching = false;
  #debounce: NodeJS.Timeout | undefined;
  #sighupListener: (() => void) | undefined;

  private constructor(options: PolicyHolderOptions, inForce: PolicyInForce) {
    super();
    this.#options = options;
    this.#inForce = inForce;
  }

  /** Loads the policy; throws (a typed PolicyError or KeyError) when it cannot be put in force. */
  static async open(options: PolicyHolderOptions): Promise<PolicyHolder> {
    return new PolicyHolder(options, await loadSignedPolicy(options));
  }

  current(): PolicyInForce {
    return this.#inForce;
  }

  /** Loads the files again. Never throws; reloads run one at a time, in the order asked. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const result = this.#queue.then(async () => {
      try {
        return await this.#reloadNow(trigger);
      } finally {
        this.#rewatch();
      }
    });
    this.#queue = result;
    return result;
  }

  async #reloadNow(trigger: ReloadTrigger): Promise<ReloadResult> {
    let inForce: PolicyInForce;
    try {
      inForce = await loadSignedPolicy(this.#options);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.rejected++;
      this.#log({
        event: 'policy-reload-rejected',
        trigger,
        code: (error as { code?: string }).code ?? 'unknown',
        error: error.message,
        serialInForce: this.#inForce.policy.serial,
      });
      this.#notify('rejected', error);
      return { ok: false, error };
    }
    const previous = this.#inForce;
    // Editors and deploy tools touch files without changing them: not a new policy.
    if (inForce.sha256 === previous.sha256 && inForce.keyId === previous.keyId && inForce.trustedComment === previous.trustedComment) {
      this.#log({ event: 'policy-unchanged', trigger, serial: previous.policy.serial, sha256: previous.sha256 });
      return { ok: true, inForce: previous };
    }
    this.#inForce = inForce; // the one assignment that swaps the policy
    this.accepted++;
    this.#log({
      event: 'policy-reloaded',
      trigger,
      serial: inForce.policy.serial,
      previousSerial: previous.policy.serial,
      keyId: inForce.keyId,
      sha256: inForce.sha256,
    });
    this.#notify('reloaded', inForce);
    return { ok: true, inForce };
  }

  /**
   * Reloads when anything changes in the directory of the policy or of its signature. Watching the
   * directory, not the files: editors and deploy tools replace files by rename (a watch on the old
   * inode would go quiet), and Kubernetes ConfigMaps swap a `..data` symlink without touching the
   * file names. The two files may land in either order; a half-updated pair fails verification and
   * the second file's event triggers the retry.
   */
  watch(): void {
    if (this.#watchers.size > 0) return;
    this.#watching = true;
    this.#rewatch();
  }

  /**
   * The directories to watch: those of the paths as given (where a ConfigMap's `..data` swap or a
   * rename happens) and those of the files the paths resolve to now (a symlink to a file elsewhere,
   * edited in place there). Recomputed after every reload, since a swap moves the resolved files.
   */
  #rewatch(): void {
    if (!this.#watching) return;
    const signatureFile = this.#options.signatureFile ?? `${this.#options.policyFile}.minisig`;
    const dirs = new Set<string>();
    for (const file of [this.#options.policyFile, signatureFile]) {
      dirs.add(dirname(resolve(file)));
      const target = resolvedPath(file);
      if (target) dirs.add(dirname(target));
    }
    for (const [dir, watcher] of this.#watchers) {
      if (dirs.has(dir)) continue;
      watcher.close();
      this.#watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#scheduleReload());
        watcher.on('error', (err) => this.#log({ event: 'policy-watch-error', dir, error: err.message }));
        this.#watchers.set(dir, watcher);
      } catch (err) {
        // A directory that vanished between realpath and watch: the next reload tries again.
        this.#log({ event: 'policy-watch-error', dir, error: (err as Error).message });
      }
    }
  }

  /** Installs the SIGHUP handler (the conventional "reload your configuration" signal). */
  handleSighup(): void {
    if (this.#sighupListener) return;
    this.#sighupListener = () => void this.reload('sighup');
    process.on('SIGHUP', this.#sighupListener);
  }

  /** Stops watching and listening for SIGHUP; waits for a reload in progress. */
  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    this.#watching = false;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    if (this.#sighupListener) process.off('SIGHUP', this.#sighupListener);
    this.#sighupListener = undefined;
    await this.#queue;
  }

  #scheduleReload(): void {
    if (this.#watchers.size === 0) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.reload('file-change');
    }, this.#options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  #log(event: object): void {
    try {
      this.#options.logger?.({ ...event, file: this.#options.policyFile });
    } catch (err) {
      process.emitWarning(`policy reload logger failed: ${(err as Error).message}`);
    }
  }

  /**
   * A listener's bug (metrics, logs) must not turn a completed reload into an exception: reload()
   * promises never to throw, and a SIGHUP reload has nobody to catch it.
   */
  #notify(event: 'reloaded' | 'rejected', value: unknown): void {
    try {
      this.emit(event, value);
    } catch (err) {
      process.emitWarning(`a '${event}' listener of the policy holder threw: ${(err as Error).message}`);
    }
  }
}

/** Where `file` resolves through its symlinks now, or undefined while it does not exist. */
function resolvedPath(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
