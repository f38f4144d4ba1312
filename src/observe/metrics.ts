/**
 * payguard's Prometheus metrics. Each instance owns its registry (no global registry: one process
 * may run several payguards in tests, and a global one leaks series between them).
 *
 * Per-request cost is a few counter increments (prom-client 15: about 0.3 µs each, docs/vectors.md, performance notes B.6);
 * what makes metrics expensive is label cardinality, so every label here is from a closed set,
 * the policy's routes, or capped (labels.ts).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LIMITS } from '../limits.js';
import type { PolicyInForce } from '../policy/in-force.js';
import { REFUSAL_REASONS, VIOLATION_REASONS, type ReasonCode } from '../reasons.js';
import { LabelCap, OTHER_LABEL, originOf } from './labels.js';

/** What happened to a response, one value per response. `passed`: not a document, streamed untouched. */
export const RESPONSE_VERDICTS = ['clean', 'blocked', 'rewritten', 'reported', 'passed'] as const;
export type ResponseVerdict = (typeof RESPONSE_VERDICTS)[number];

export interface MetricsOptions {
  /** Distinct origins kept as labels of violations and CSP reports before folding into "other". */
  readonly maxOriginLabels?: number;
}

/**
 * What trackPolicy needs of a PolicyHolder (src/policy/reload.ts), typed by shape so the metrics
 * do not import the loader: an EventEmitter that says which policy is in force.
 */
export interface PolicyEvents {
  current(): PolicyInForce | undefined;
  on(event: 'reloaded', listener: (inForce: PolicyInForce) => void): unknown;
  on(event: 'rejected', listener: (err: Error) => void): unknown;
  off(event: 'reloaded', listener: (inForce: PolicyInForce) => void): unknown;
  off(event: 'rejected', listener: (err: Error) => void): unknown;
  /** Reloads already counted by the holder before tracking began (the initial load). */
  readonly accepted?: number;
  readonly rejected?: number;
}

export interface PayguardMetrics {
  readonly registry: Registry;
  recordResponse(route: string, verdict: ResponseVerdict): void;
  recordBlocked(route: string, reason: ReasonCode): void;
  /** A rewrite neutralised code the page runs or loads: served (`codeRemoval: serve`) or blocked. */
  recordCodeRemoved(route: string, action: 'served' | 'blocked'): void;
  recordViolation(kind: string, origin: string | undefined): void;
  observeInspection(seconds: number): void;
  recordUpstreamError(kind: string): void;
  /** Follows the holder's policy in force and reload results; returns a function that stops following. */
  trackPolicy(holder: PolicyEvents): () => void;
  recordCspReport(directive: string, blockedOrigin: string | undefined): void;
  /** The state dir failed: the floor (counted by trackPolicy on its own) or an evidence write. */
  recordStateError(what: StatePart): void;
}

/** What lives in the state dir (docs/robustness.md "Hostile edges": a full disk). */
export const STATE_PARTS = ['floor', 'evidence'] as const;
export type StatePart = (typeof STATE_PARTS)[number];

/**
 * 0.5 ms … 1 s: a clean 100 KB page verifies in a few ms (docs/vectors.md, performance notes B.2); the top buckets
 * are there to show a slow policy or a pathological page before the verify timeout hits.
 */
export const INSPECTION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Directive names a report may carry: CSP3 §6 (fetch, document, navigation, reporting directives),
 * the Trusted Types ones, and payguard's own `integrity-policy`, `navigation-guard` (the guard's
 * cancellations, navigation-guard.ts) and `unknown`. Anyone can post a
 * report, so any other name is "other" rather than a new series.
 */
const CSP_DIRECTIVES: readonly string[] = [
  'default-src', 'child-src', 'connect-src', 'font-src', 'frame-src', 'img-src', 'manifest-src', 'media-src',
  'object-src', 'prefetch-src', 'script-src', 'script-src-elem', 'script-src-attr', 'style-src', 'style-src-elem',
  'style-src-attr', 'worker-src', 'base-uri', 'sandbox', 'form-action', 'frame-ancestors', 'navigate-to',
  'fenced-frame-src', 'webrtc', 'require-trusted-types-for', 'trusted-types', 'upgrade-insecure-requests',
  'block-all-mixed-content', 'report-uri', 'report-to', 'integrity-policy', 'navigation-guard', 'unknown',
];

/** Routes come from the policy, so they are bounded by it; the cap only guards against misuse. */
const MAX_ROUTE_LABELS = LIMITS.metricRouteLabels;
/** Finding kinds, upstream error kinds and CSP directives are small closed sets; same guard. */
const MAX_KIND_LABELS = LIMITS.metricKindLabels;

export function createMetrics(options: MetricsOptions = {}): PayguardMetrics {
  const maxOriginLabels = options.maxOriginLabels ?? LIMITS.metricOriginLabels;
  if (!Number.isInteger(maxOriginLabels) || maxOriginLabels < 0) {
    throw new RangeError(`maxOriginLabels must be a non-negative integer, got ${maxOriginLabels}`);
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const responses = new Counter({
    name: 'payguard_responses_total',
    help: 'Responses payguard sent, by policy route pattern and verdict.',
    labelNames: ['route', 'verdict'] as const,
    registers: [registry],
  });
  const blocked = new Counter({
    name: 'payguard_blocked_responses_total',
    help: 'Responses replaced by the block page, by policy route pattern and reason code.',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  const codeRemoved = new Counter({
    name: 'payguard_code_removed_total',
    help: 'Rewrites that would neutralise code the page runs or loads, by route and what payguard did (served, or blocked by codeRemoval: block).',
    labelNames: ['route', 'action'] as const,
    registers: [registry],
  });
  const violations = new Counter({
    name: 'payguard_violations_total',
    help: 'Findings the policy does not allow, by finding kind and target origin (capped; later origins are "other").',
    labelNames: ['kind', 'origin'] as const,
    registers: [registry],
  });
  const inspection = new Histogram({
    name: 'payguard_inspection_duration_seconds',
    help: 'Time spent verifying one document (decode, parse, find, decide).',
    buckets: INSPECTION_BUCKETS,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'payguard_upstream_errors_total',
    help: 'Failures talking to the storefront, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const policyInfo = new Gauge({
    name: 'payguard_policy_info',
    help: 'The signed policy in force (value 1): its serial, signing key id and file sha256.',
    labelNames: ['serial', 'key_id', 'sha256'] as const,
    registers: [registry],
  });
  const policyReloads = new Counter({
    name: 'payguard_policy_reloads_total',
    help: 'Policy loads and reloads, accepted or rejected (a rejected one leaves the last good policy in force).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const cspReports = new Counter({
    name: 'payguard_csp_reports_total',
    help: 'CSP violation reports browsers sent, by directive and blocked origin (capped; later origins are "other").',
    labelNames: ['directive', 'blocked_origin'] as const,
    registers: [registry],
  });

  const stateErrors = new Counter({
    name: 'payguard_state_errors_total',
    help: 'State dir failures: the rollback floor could not be read or recorded (the new policy was refused), or an evidence record could not be written.',
    labelNames: ['what'] as const,
    registers: [registry],
  });
  // Both series from the start, so an alert on increase() sees the first failure.
  for (const what of STATE_PARTS) stateErrors.inc({ what }, 0);

  const routes = new LabelCap(MAX_ROUTE_LABELS);
  const kinds = new LabelCap(MAX_KIND_LABELS);
  const upstreamKinds = new LabelCap(MAX_KIND_LABELS);
  const directives = new LabelCap(MAX_KIND_LABELS);
  const violationOrigins = new LabelCap(maxOriginLabels);
  const cspOrigins = new LabelCap(maxOriginLabels);

  function showPolicy(inForce: PolicyInForce | undefined): void {
    // Only the policy in force carries the value 1: a swap removes the old series entirely,
    // so `payguard_policy_info == 1` always names exactly one policy.
    policyInfo.reset();
    if (!inForce) return;
    policyInfo.set(
      { serial: String(inForce.policy.serial), key_id: inForce.keyId, sha256: inForce.sha256 },
      1,
    );
  }

  return {
    registry,
    recordResponse(route, verdict) {
      responses.inc({ route: routes.label(route), verdict: closedLabel(verdict, RESPONSE_VERDICTS) });
    },
    recordBlocked(route, reason) {
      blocked.inc({ route: routes.label(route), reason: reasonLabel(reason) });
    },
    recordCodeRemoved(route, action) {
      codeRemoved.inc({ route: routes.label(route), action });
    },
    recordViolation(kind, origin) {
      violations.inc({ kind: kinds.label(kind), origin: violationOrigins.label(originOf(origin)) });
    },
    observeInspection(seconds) {
      if (Number.isFinite(seconds) && seconds >= 0) inspection.observe(seconds);
    },
    recordUpstreamError(kind) {
      upstreamErrors.inc({ kind: upstreamKinds.label(kind) });
    },
    trackPolicy(holder) {
      const onReloaded = (inForce: PolicyInForce): void => {
        policyReloads.inc({ result: 'accepted' });
        showPolicy(inForce);
      };
      const onRejected = (err: Error): void => {
        policyReloads.inc({ result: 'rejected' });
        if ((err as { code?: string } | undefined)?.code === 'PG_POLICY_STATE') stateErrors.inc({ what: 'floor' });
      };
      // Both series exist from the start so `increase(...{result="rejected"}[5m])` works before the first failure.
      policyReloads.inc({ result: 'accepted' }, holder.accepted ?? 0);
      policyReloads.inc({ result: 'rejected' }, holder.rejected ?? 0);
      showPolicy(currentOrNone(holder));
      holder.on('reloaded', onReloaded);
      holder.on('rejected', onRejected);
      return () => {
        holder.off('reloaded', onReloaded);
        holder.off('rejected', onRejected);
      };
    },
    recordStateError(what) {
      stateErrors.inc({ what: closedLabel(what, STATE_PARTS) });
    },
    recordCspReport(directive, blockedOrigin) {
      cspReports.inc({
        directive: directives.label(closedLabel(directive, CSP_DIRECTIVES)),
        blocked_origin: cspOrigins.label(originOf(blockedOrigin)),
      });
    },
  };
}

function currentOrNone(holder: PolicyEvents): PolicyInForce | undefined {
  try {
    return holder.current();
  } catch {
    // A holder with nothing in force yet may throw instead of returning undefined; both mean "none".
    return undefined;
  }
}

function closedLabel<T extends string>(value: T, allowed: readonly T[]): string {
  return allowed.includes(value) ? value : OTHER_LABEL;
}

function reasonLabel(reason: string): string {
  return Object.hasOwn(VIOLATION_REASONS, reason) || Object.hasOwn(REFUSAL_REASONS, reason) ? reason : OTHER_LABEL;
}
