/**
 * The series names and label names a payguard /metrics page exports, read with a real Prometheus
 * text-format parser (parse-prometheus-text-format), never string matching.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface ExportedMetrics {
  /** Metric family name → type, as the `# TYPE` lines say. */
  readonly families: ReadonlyMap<string, string>;
  /** Every name a PromQL selector can read: counters and gauges as-is, histograms' _bucket/_sum/_count. */
  readonly seriesNames: ReadonlySet<string>;
  /** Label names seen on a series name's samples (empty for a family with no series yet). */
  readonly labelsBySeries: ReadonlyMap<string, ReadonlySet<string>>;
}

export function exportedMetrics(exposition: string): ExportedMetrics {
  const families = new Map<string, string>();
  const seriesNames = new Set<string>();
  const labelsBySeries = new Map<string, Set<string>>();
  for (const family of parsePrometheusTextFormat(exposition)) {
    families.set(family.name, family.type);
    const names = seriesOf(family.name, family.type);
    const labels = new Set(family.metrics.flatMap((sample) => Object.keys(sample.labels ?? {})));
    for (const name of names) {
      seriesNames.add(name);
      labelsBySeries.set(name, new Set(labels));
    }
    if (family.type === 'HISTOGRAM') labelsBySeries.get(`${family.name}_bucket`)?.add('le');
    if (family.type === 'SUMMARY') labelsBySeries.get(family.name)?.add('quantile');
  }
  return { families, seriesNames, labelsBySeries };
}

/** The sample names of one family in the text format (exposition_formats.md, "Histograms and summaries"). */
function seriesOf(name: string, type: string): string[] {
  if (type === 'HISTOGRAM') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'SUMMARY') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}
