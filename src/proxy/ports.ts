/**
 * What the proxy needs from the other parts of payguard, typed structurally so that the proxy
 * depends on behaviour, not on files: the policy holder (src/policy/reload.ts), the metrics and
 * the logger (src/observe/) fit these shapes, and so does anything a test builds.
 */
import type { PolicyInForce } from '../policy/in-force.js';
import type { ReasonCode } from '../reasons.js';
import type { ViolationRecord } from '../observe/log.js';
import type { HeaderList, VerifiedDocument } from '../verify/types.js';

/** The verdict label of `payguard_responses_total`. */
export type ResponseVerdict = 'clean' | 'blocked' | 'rewritten' | 'reported' | 'passed';

/** The policy in force. Taken once per response: a response is checked against exactly one policy. */
export interface PolicySource {
  current(): PolicyInForce;
}

export interface ProxyMetrics {
  recordResponse(route: string, verdict: ResponseVerdict): void;
  recordBlocked(route: string, reason: ReasonCode): void;
  recordCodeRemoved(route: string, action: 'served' | 'blocked'): void;
  recordViolation(kind: string, origin: string): void;
  observeInspection(seconds: number): void;
  recordUpstreamError(kind: string): void;
}

/** One JSON line per violation: the logger's own record (src/observe/log.ts), one shape for both sides. */
export type { ViolationRecord };

/**
 * Where detections go for the PCI evidence log (src/evidence/recorder.ts fits this shape):
 * aggregated by the receiver; only an origin, never a path or query string.
 */
export interface EvidenceSink {
  detected(detection: {
    readonly route: string;
    readonly reason: string;
    readonly kind: string;
    readonly origin: string;
    readonly action: 'blocked' | 'rewritten' | 'reported';
  }): void;
}

export interface ProxyLogger {
  violation(record: ViolationRecord): void;
  event(name: string, fields: object): void;
  error(name: string, err: unknown, fields?: object): void;
}

/** A page payguard inspected on a report route, as the learner needs it. */
export interface ObservedDocument {
  /** The public URL (site + path + query); only origin and path are kept. */
  readonly url: string;
  readonly site: string;
  readonly verified: VerifiedDocument;
  readonly headers: HeaderList;
  readonly defaultCharset: string;
  /** The decoded body, read only if the page is still being learned from. */
  readonly bytes: () => Promise<Uint8Array | undefined>;
}

/** A CSP violation report, as the report collector parsed it. */
export interface ObservedReport {
  readonly directive: string;
  readonly blocked: string | undefined;
  readonly documentUrl: string | undefined;
  /** The rate-limit key of the client that sent it (an address, or an IPv6 /64). */
  readonly client: string;
}

/**
 * Learning from live traffic (`serve --learn`, learning/traffic-learner.ts fits this shape): pages
 * inspected on report routes and browsers' CSP reports about them. Never a request body.
 */
export interface TrafficRecorder {
  document(observed: ObservedDocument): void;
  browserReport(report: ObservedReport): void;
}
