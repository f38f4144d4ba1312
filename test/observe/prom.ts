/**
 * Reads Prometheus text through a real exposition-format parser (never string matching),
 * so a test sees what a Prometheus server would scrape.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Scrape {
  readonly families: ReturnType<typeof parsePrometheusTextFormat>;
  constructor(text: string) {
    this.families = parsePrometheusTextFormat(text);
  }

  family(name: string) {
    const family = this.families.find((f) => f.name === name);
    if (!family) throw new Error(`metric ${name} not in the scrape`);
    return family;
  }

  samples(name: string): Sample[] {
    return this.family(name).metrics.map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
  }

  /** The value of the one series whose labels include `labels`; 0 when there is none. */
  value(name: string, labels: Record<string, string> = {}): number {
    const matching = this.samples(name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (matching.length > 1) throw new Error(`${matching.length} series of ${name} match ${JSON.stringify(labels)}`);
    return matching[0]?.value ?? 0;
  }

  /** Sum over every series whose labels include `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name)
      .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((acc, s) => acc + s.value, 0);
  }
}
