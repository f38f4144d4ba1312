/**
 * payguard's log: one JSON object per line (ndjson), the form log shippers (Loki, Fluent Bit,
 * CloudWatch) parse without configuration. Every value passes redact.ts on the way out.
 */
import { LIMITS } from '../limits.js';
import type { AllowKind } from '../policy/model.js';
import type { Finding } from '../verify/types.js';
import { originAndPath, pathOnly, redactFields, redactText } from './redact.js';
import { originOf } from './labels.js';

/** The fields of a Finding a log line carries; a Finding is one (raw values, offsets and hashes are left out). */
export type LoggableFinding = Pick<Finding, 'kind' | 'list' | 'element' | 'line' | 'col'> &
  Partial<Pick<Finding, 'url' | 'origin' | 'attribute' | 'reason' | 'context'>>;

/** For a page with very many findings: counts instead of a list. */
export interface FindingSummary {
  readonly total: number;
  readonly byReason: Readonly<Record<string, number>>;
}

export interface ViolationRecord {
  readonly requestId: string;
  readonly method: string;
  /** The request path; its query string is cut here whatever the caller passes. */
  readonly path: string;
  /** The policy route pattern, or "unmatched". */
  readonly route: string;
  /** What payguard did: blocked, rewritten, reported. */
  readonly verdict: string;
  /** Set when a rewrite neutralised code the page runs or loads (served or, by default, blocked). */
  readonly codeRemoved?: boolean;
  readonly findings: readonly LoggableFinding[] | FindingSummary;
}

export interface PayguardLogger {
  violation(record: ViolationRecord): void;
  event(name: string, fields?: object): void;
  error(name: string, err: unknown, fields?: object): void;
}

/** Findings listed per line; past this the line says how many more there were. */
export const MAX_LOGGED_FINDINGS = LIMITS.maxLoggedFindings;

export function createLogger(out: NodeJS.WritableStream = process.stdout): PayguardLogger {
  // A log sink that went away (EPIPE from a dead collector) must not take the proxy down with an
  // unhandled 'error' event: say so once on stderr and stop writing to it.
  let broken = false;
  out.on('error', (err: Error) => {
    if (broken) return;
    broken = true;
    if (out !== process.stderr) process.stderr.write(`payguard: log output failed (${err.message}); further log lines are dropped\n`);
  });
  const write = (level: 'info' | 'warn' | 'error', event: string, body: Record<string, unknown>): void => {
    if (broken) return;
    // time, level and event come first and cannot be overridden by a caller's field of the same name.
    const line = JSON.stringify({ time: new Date().toISOString(), level, event, ...withoutReserved(body) });
    // redactText again over the whole line: the last guard against a card number in any field.
    out.write(redactText(line) + '\n');
  };
  return {
    violation(record) {
      write('warn', 'violation', {
        requestId: redactText(record.requestId),
        method: redactText(record.method),
        path: redactText(pathOnly(record.path)),
        route: record.route,
        verdict: record.verdict,
        ...(record.codeRemoved ? { codeRemoved: true } : {}),
        ...loggedFindings(record.findings),
      });
    },
    event(name, fields = {}) {
      write('info', name, redactFields(fields));
    },
    error(name, err, fields = {}) {
      write('error', name, { ...redactFields(fields), error: describeError(err) });
    },
  };
}

const RESERVED_FIELDS = ['time', 'level', 'event'];

function withoutReserved(body: Record<string, unknown>): Record<string, unknown> {
  if (!RESERVED_FIELDS.some((k) => Object.hasOwn(body, k))) return body;
  const copy = { ...body };
  for (const k of RESERVED_FIELDS) delete copy[k];
  return copy;
}

interface LoggedFinding {
  kind: string;
  list: AllowKind;
  origin: string;
  url?: string;
  element: string;
  attribute?: string;
  at: string;
  reason?: string;
  context?: string;
}

function loggedFindings(findings: ViolationRecord['findings']): Record<string, unknown> {
  if (!Array.isArray(findings)) {
    const summary = findings as FindingSummary;
    return { findingsTotal: summary.total, findingsByReason: summary.byReason };
  }
  const listed = findings.slice(0, MAX_LOGGED_FINDINGS).map(loggedFinding);
  const omitted = findings.length - listed.length;
  return omitted > 0 ? { findings: listed, findingsOmitted: omitted } : { findings: listed };
}

function loggedFinding(f: LoggableFinding): LoggedFinding {
  // Key order is reading order: what kind, where it goes, where it is, why.
  return {
    kind: f.kind,
    list: f.list,
    origin: originOf(f.origin ?? f.url),
    ...(f.url !== undefined && { url: redactText(originAndPath(f.url)) }),
    element: f.element,
    ...(f.attribute !== undefined && { attribute: f.attribute }),
    at: `${f.line}:${f.col}`,
    ...(f.reason !== undefined && { reason: f.reason }),
    ...(f.context !== undefined && { context: f.context }),
  };
}

interface DescribedError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  cause?: DescribedError;
}

function describeError(err: unknown, depth = 0): DescribedError {
  if (!(err instanceof Error)) return { name: 'NonError', message: redactText(String(err)) };
  const described: DescribedError = { name: err.name, message: redactText(err.message) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') described.code = code;
  // The stack's first line repeats the message, which redactText already handles.
  if (err.stack) described.stack = redactText(err.stack);
  if (err.cause !== undefined && depth < 3) described.cause = describeError(err.cause, depth + 1);
  return described;
}
