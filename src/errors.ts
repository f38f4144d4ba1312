/**
 * payguard's typed errors. Each carries a stable `code` that callers branch on
 * (never the message), and what a person needs to act on it.
 */
import type { RefusalReason } from './reasons.js';

export abstract class PayguardError extends Error {
  abstract readonly code: string;
}

export interface PolicyLocation {
  /** The policy (or signature, or key) file the problem is in. */
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted path of the offending field, e.g. `allow.form[0].why`. */
  readonly field?: string;
}

/** A policy file that is malformed or fails the schema. */
export class PolicyError extends PayguardError {
  readonly code: string = 'PG_POLICY_INVALID';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string | undefined;
  constructor(problem: string, where: PolicyLocation, options?: { cause?: unknown }) {
    super(`${formatWhere(where)}: ${problem}`, options);
    this.name = 'PolicyError';
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.field = where.field;
  }
}

/** A policy whose signature is missing, malformed, made by an unknown key, or does not verify. */
export class PolicySignatureError extends PolicyError {
  override readonly code = 'PG_POLICY_SIGNATURE';
  constructor(problem: string, where: PolicyLocation, options?: { cause?: unknown }) {
    super(problem, where, options);
    this.name = 'PolicySignatureError';
  }
}

/** A correctly signed policy whose serial is lower than one already accepted (a replayed old release). */
export class PolicyRollbackError extends PolicyError {
  override readonly code = 'PG_POLICY_ROLLBACK';
  constructor(readonly serial: number, readonly floor: number, where: PolicyLocation) {
    super(`serial ${serial} is lower than serial ${floor} already accepted; raise the serial and sign again`, where);
    this.name = 'PolicyRollbackError';
  }
}

/**
 * The rollback floor (highest accepted serial) cannot be read or written: an unreadable, corrupt or
 * unwritable state dir, or a full disk. The policy is refused: without the floor, rollback
 * protection would silently stop.
 */
export class PolicyStateError extends PolicyError {
  override readonly code = 'PG_POLICY_STATE';
  constructor(problem: string, where: PolicyLocation, options?: { cause?: unknown }) {
    super(problem, where, options);
    this.name = 'PolicyStateError';
  }
}

/** A key file that cannot be read as a minisign key, or a secret key whose password is wrong. */
export class KeyError extends PayguardError {
  readonly code = 'PG_KEY_INVALID';
  constructor(readonly file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'KeyError';
  }
}

/**
 * The verifier could not verify a document (not a violation: a failure to know).
 * The proxy turns this into a block on protected routes, at one place.
 */
export class VerifyRefusal extends PayguardError {
  readonly code = 'PG_VERIFY_REFUSED';
  constructor(readonly reason: RefusalReason, detail: string, options?: { cause?: unknown }) {
    super(`${reason}: ${detail}`, options);
    this.name = 'VerifyRefusal';
  }
}

/**
 * The state dir cannot hold what payguard keeps there (the evidence log): a path taken by a file,
 * no permission, a read-only filesystem. Said at start, with the path, instead of a stack trace.
 */
export class StateDirError extends PayguardError {
  readonly code = 'PG_STATE_DIR';
  constructor(readonly path: string, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options);
    this.name = 'StateDirError';
  }
}

/** A port payguard cannot listen on (EADDRINUSE, EACCES…): `payguard serve` exits 1. */
export class ListenError extends PayguardError {
  readonly code = 'PG_LISTEN';
  constructor(
    readonly address: { readonly host: string; readonly port: number },
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot listen on ${address.host}:${address.port}: ${cause instanceof Error ? cause.message : String(cause)}${code ? ` (${code})` : ''}`, { cause });
    this.name = 'ListenError';
  }
}

/**
 * A learning record (`payguard serve --learn FILE`, read by `payguard policy draft`) that is not
 * one: unreadable, not JSON, or a field of the wrong shape. Names the file and the field.
 */
export class LearningRecordError extends PayguardError {
  readonly code = 'PG_LEARNING_RECORD';
  constructor(readonly file: string, readonly field: string | undefined, problem: string, options?: { cause?: unknown }) {
    super(`${file}${field ? ` (${field})` : ''}: ${problem}`, options);
    this.name = 'LearningRecordError';
  }
}

/** Bad command-line or environment input. */
export class UsageError extends PayguardError {
  readonly code = 'PG_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function formatWhere(where: PolicyLocation): string {
  let s = where.file;
  if (where.line !== undefined) s += `:${where.line}${where.column !== undefined ? `:${where.column}` : ''}`;
  if (where.field) s += ` (${where.field})`;
  return s;
}
