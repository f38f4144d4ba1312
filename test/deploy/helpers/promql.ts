/**
 * PromQL through the Prometheus project's own grammar (@prometheus-io/lezer-promql, the parser
 * behind the Prometheus web UI), so "parses" means what Prometheus' editor accepts, not a regex.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** A node of lezer's syntax tree (typed through the parser, so no direct @lezer/common import). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface ParsedPromQL {
  /** Offsets of syntax errors; empty when the expression parses. */
  readonly errorOffsets: readonly number[];
  /** Every metric name a vector selector reads: `foo{…}` and `{__name__="foo"}`. */
  readonly metricNames: readonly string[];
  /** Selectors whose metric name cannot be known statically (`{__name__=~"…"}`, or none at all). */
  readonly unnamedSelectors: readonly string[];
  /** Label names used in selectors' matchers, per metric name. */
  readonly matcherLabels: ReadonlyMap<string, ReadonlySet<string>>;
  /** Label names in `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`, `group_left (…)`. */
  readonly groupingLabels: ReadonlySet<string>;
}

export function parsePromQL(expr: string): ParsedPromQL {
  const tree = parser.parse(expr);
  const errorOffsets: number[] = [];
  const metricNames: string[] = [];
  const unnamedSelectors: string[] = [];
  const matcherLabels = new Map<string, Set<string>>();
  const groupingLabels = new Set<string>();
  const text = (node: SyntaxNode): string => expr.slice(node.from, node.to);

  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errorOffsets.push(ref.from);
        return;
      }
      if (ref.name === 'GroupingLabels') {
        for (const label of ref.node.getChildren('LabelName')) groupingLabels.add(text(label));
        return;
      }
      if (ref.name !== 'VectorSelector') return;
      const selector = ref.node;
      const labels = matchers(selector, text);
      const identifier = selector.getChild('Identifier');
      const name = identifier ? text(identifier) : labels.exactName;
      if (name === undefined) {
        unnamedSelectors.push(text(selector));
        return;
      }
      metricNames.push(name);
      const used = matcherLabels.get(name) ?? new Set<string>();
      for (const label of labels.names) used.add(label);
      matcherLabels.set(name, used);
    },
  });
  return { errorOffsets, metricNames, unnamedSelectors, matcherLabels, groupingLabels };
}

function matchers(selector: SyntaxNode, text: (node: SyntaxNode) => string): { names: string[]; exactName?: string } {
  const list = selector.getChild('LabelMatchers');
  if (!list) return { names: [] };
  const names: string[] = [];
  let exactName: string | undefined;
  for (const matcher of list.getChildren('UnquotedLabelMatcher')) {
    const labelNode = matcher.getChild('LabelName');
    const op = matcher.getChild('MatchOp')?.firstChild;
    const value = matcher.getChild('StringLiteral');
    if (!labelNode) continue;
    const label = text(labelNode);
    if (label === '__name__') {
      if (op?.name === 'EqlSingle' && value) exactName = unquote(text(value));
      continue;
    }
    names.push(label);
  }
  return exactName === undefined ? { names } : { names, exactName };
}

/** PromQL string literals are Go strings: "…", '…' or `…`. Names never need escapes. */
function unquote(literal: string): string {
  return literal.slice(1, -1);
}

/**
 * Series Prometheus makes itself for every scrape target, not read from /metrics
 * (https://prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series),
 * and the series the rule manager writes for alerts.
 */
export const PROMETHEUS_SYNTHETIC_SERIES: ReadonlySet<string> = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
]);

/** Labels Prometheus attaches to every scraped series (target labels), and `le` of histogram buckets. */
export const TARGET_LABELS: ReadonlySet<string> = new Set(['job', 'instance']);
