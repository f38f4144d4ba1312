/**
 * The evidence log's record shapes. A record holds only what PCI DSS 6.4.3/11.6.1 evidence needs:
 * policy identities and aggregated detections by route, reason, kind and origin. Never a query
 * string, a body, a cookie or a full URL: the log outlives the request and is handed to auditors.
 */

/** sha256 that the first record of a fresh log names as its predecessor. */
export const GENESIS_HASH = '0'.repeat(64);

interface RecordBase {
  /** 1, 2, 3…: a gap is a deleted record. */
  readonly seq: number;
  /** ISO 8601 time the record was written. */
  readonly at: string;
  /** sha256 (hex) of the previous record's line, GENESIS_HASH for the first. */
  readonly prev: string;
}

/** A policy came into force (startup or reload). */
export interface PolicyAcceptedRecord extends RecordBase {
  readonly type: 'policy-accepted';
  readonly serial: number;
  readonly keyId: string;
  readonly sha256: string;
  readonly site: string;
  /** Whether it was the enforcing policy or a --shadow-policy candidate. */
  readonly role: 'enforced' | 'shadow';
}

/** Responses with the same (route, reason, kind, origin, action) over one flush interval. */
export interface DetectionRecord extends RecordBase {
  readonly type: 'detection';
  readonly route: string;
  readonly reason: string;
  readonly kind: string;
  /** The finding's origin (scheme://host:port), "null" for opaque URLs, "none" without a URL. */
  readonly origin: string;
  /** What payguard did: blocked, rewritten, reported. */
  readonly action: string;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

export type EvidenceRecord = PolicyAcceptedRecord | DetectionRecord;

/** A record before the log numbers and chains it. */
export type EvidenceEntry = Omit<PolicyAcceptedRecord, keyof RecordBase> | Omit<DetectionRecord, keyof RecordBase>;
