/**
 * payguard's proxy, as the rest of payguard uses it: `createPayguard` (payguard.ts) is the one way
 * to start it. docs/architecture.md draws the stages and the folder of each.
 */
export { createPayguard, startPayguard, type Payguard, type PayguardSetup, type RunningPayguard } from './payguard.js';
export { DEFAULTS, type ListenAddress, type PayguardOptions, type PayguardSettings } from './options.js';
export type { EvidenceSink, PolicySource, ProxyLogger, ProxyMetrics, ResponseVerdict } from './ports.js';
export type { ShadowPolicy, ShadowDirection } from './verdict/shadow.js';
export { RESERVED_PREFIX, SINK_PATH, CSP_REPORT_PATH } from '../reserved-paths.js';
