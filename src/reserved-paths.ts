/**
 * The paths payguard answers itself on the public port and never forwards (RFC 8615 well-known
 * URIs: a namespace a site can reserve). Shared vocabulary: the policy's CSP names the report
 * collector, the rewriter points neutralised forms at the sink, and the proxy answers both.
 */

/** The path prefix payguard answers itself and never forwards. */
export const RESERVED_PREFIX = '/.well-known/payguard/';

/** Where the rewriter points neutralised forms: a sink that discards what is sent to it. */
export const SINK_PATH = `${RESERVED_PREFIX}sink`;

/** Where browsers send CSP, hash and integrity reports. */
export const CSP_REPORT_PATH = `${RESERVED_PREFIX}csp-report`;
