/**
 * The second layer's counters. `payguard_csp_reports_total` belongs to the metrics module
 * (src/observe/metrics.ts, `recordCspReport`); the header-drift and browser-mismatch counters are
 * registered here on the same per-instance registry, with the same label discipline (route labels
 * come from the policy, origins are capped: src/observe/labels.ts).
 */
import { Counter, Registry } from 'prom-client';
import { LIMITS } from '../../limits.js';
import { LabelCap, originOf } from '../../observe/labels.js';
import type { ProxyMetrics } from '../ports.js';

export interface SecondLayerMetrics {
  recordCspReport(directive: string, blockedUrl: string | undefined): void;
  /** An upstream security header that differs from the route's baseline. */
  recordHeaderDrift(route: string, header: string): void;
  /**
   * A script the browser reports having run whose hash differs from what payguard served
   * (`served`) or from the policy's integrity (`policy`): tampering after the origin.
   */
  recordBrowserMismatch(against: 'served' | 'policy', scriptUrl: string): void;
}

/** What the proxy is given as metrics: the ProxyMetrics port, plus what src/observe/metrics.ts also offers. */
export type MetricsWithRegistry = ProxyMetrics & {
  readonly registry?: unknown;
  recordCspReport?(directive: string, blockedOrigin: string | undefined): void;
};

export function createSecondLayerMetrics(metrics: MetricsWithRegistry): SecondLayerMetrics {
  const registry = metrics.registry instanceof Registry ? metrics.registry : new Registry();
  const drift = new Counter({
    name: 'payguard_header_drift_total',
    help: 'Inspected responses whose security header differs from the route baseline in the policy, by route and header.',
    labelNames: ['route', 'header'] as const,
    registers: [registry],
  });
  const mismatch = new Counter({
    name: 'payguard_browser_mismatch_total',
    help: 'Scripts the browser reported running with a hash different from what payguard served or the policy pins, by comparison and script origin (capped).',
    labelNames: ['against', 'origin'] as const,
    registers: [registry],
  });
  const routes = new LabelCap(LIMITS.metricRouteLabels);
  const origins = new LabelCap(LIMITS.metricOriginLabels);
  return {
    recordCspReport(directive, blockedUrl) {
      metrics.recordCspReport?.(directive, blockedUrl);
    },
    recordHeaderDrift(route, header) {
      drift.inc({ route: routes.label(route), header });
    },
    recordBrowserMismatch(against, scriptUrl) {
      mismatch.inc({ against, origin: origins.label(originOf(scriptUrl)) });
    },
  };
}
