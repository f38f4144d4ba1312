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
  /** A first-party script the manifest names as generated, served without a hash (label: its path in the policy). */
  recordGeneratedScript(path: string): void;
  /**
   * A pinned first-party script or manifest file served after its check: `hashed` when its body was
   * decoded and hashed, `remembered` when the same bytes had already been verified (verified-bytes.ts).
   */
  recordPinnedCheck(how: 'hashed' | 'remembered'): void;
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
  const generated = new Counter({
    name: 'payguard_first_party_generated_total',
    help: 'First-party scripts served without a hash because the release manifest names them as generated per request, by their path in the policy.',
    labelNames: ['path'] as const,
    registers: [registry],
  });
  const pinnedChecks = new Counter({
    name: 'payguard_pinned_script_checks_total',
    help: 'Pinned first-party scripts and manifest files that passed their integrity check, by whether the body was hashed or was bytes already verified.',
    labelNames: ['how'] as const,
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
    recordGeneratedScript(path) {
      // The paths come from the signed policy's `firstParty.generated`: a bounded set.
      generated.inc({ path });
    },
    recordPinnedCheck(how) {
      pinnedChecks.inc({ how });
    },
  };
}
