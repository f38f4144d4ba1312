/** Every PromQL expression the deploy files hold, with where it came from (for failure messages). */
import { asArray, asRecord, isRecord, readRepoText, readRepoYaml } from './repo.js';

export interface Query {
  /** e.g. `alerts.yml alert PayguardDown` or `payguard.json panel "Inspection latency" B`. */
  readonly where: string;
  readonly expr: string;
}

export interface Rule {
  readonly group: string;
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, unknown>>;
  readonly annotations: Readonly<Record<string, unknown>>;
  /** Every key the rule has, to catch misspelt ones. */
  readonly keys: readonly string[];
}

export const ALERTS_FILE = 'deploy/prometheus/alerts.yml';
export const DASHBOARD_FILE = 'deploy/grafana/dashboards/payguard.json';

export function alertRules(file = ALERTS_FILE): Rule[] {
  const groups = asArray(asRecord(readRepoYaml(file), file)['groups'], `${file} groups`);
  return groups.flatMap((groupValue, g) => {
    const group = asRecord(groupValue, `${file} groups[${g}]`);
    return asArray(group['rules'], `${file} groups[${g}].rules`).map((ruleValue, r) => {
      const rule = asRecord(ruleValue, `${file} groups[${g}].rules[${r}]`);
      return {
        group: String(group['name']),
        ...(typeof rule['alert'] === 'string' ? { alert: rule['alert'] } : {}),
        ...(typeof rule['record'] === 'string' ? { record: rule['record'] } : {}),
        expr: String(rule['expr'] ?? ''),
        ...(rule['for'] !== undefined ? { for: String(rule['for']) } : {}),
        labels: isRecord(rule['labels']) ? rule['labels'] : {},
        annotations: isRecord(rule['annotations']) ? rule['annotations'] : {},
        keys: Object.keys(rule),
      };
    });
  });
}

export function ruleQueries(file = ALERTS_FILE): Query[] {
  return alertRules(file).map((rule) => ({
    where: `${file} ${rule.alert ? `alert ${rule.alert}` : `record ${rule.record}`}`,
    expr: rule.expr,
  }));
}

/**
 * Grafana's variables replaced by values of the same PromQL type before parsing, as Grafana does
 * before it sends the query: `$__rate_interval` is a duration, `$instance` a regex string.
 */
const GRAFANA_VARIABLES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\$__rate_interval|\$\{__rate_interval\}/g, '1m'],
  [/\$__interval|\$\{__interval\}/g, '1m'],
  [/\$__range|\$\{__range\}/g, '1h'],
  [/\$instance|\$\{instance(?::[a-z]+)?\}/g, '.*'],
];

export function substituteGrafanaVariables(expr: string): string {
  let out = expr;
  for (const [pattern, value] of GRAFANA_VARIABLES) out = out.replace(pattern, value);
  return out;
}

export interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets: ReadonlyArray<{ readonly refId: string; readonly expr: string }>;
}

export function dashboard(file = DASHBOARD_FILE): Record<string, unknown> {
  return asRecord(JSON.parse(readRepoText(file)), file);
}

/** Panels, rows' nested panels included. */
export function dashboardPanels(file = DASHBOARD_FILE): Panel[] {
  const panels: Panel[] = [];
  const visit = (list: unknown): void => {
    for (const value of Array.isArray(list) ? list : []) {
      const panel = asRecord(value, `${file} panel`);
      visit(panel['panels']);
      if (panel['type'] === 'row') continue;
      const targets = (Array.isArray(panel['targets']) ? panel['targets'] : []).map((t) => {
        const target = asRecord(t, `${file} panel "${String(panel['title'])}" target`);
        return { refId: String(target['refId']), expr: String(target['expr'] ?? '') };
      });
      panels.push({ title: String(panel['title']), type: String(panel['type']), targets });
    }
  };
  visit(dashboard(file)['panels']);
  return panels;
}

/** Panel targets, annotation queries, and the metric selectors inside `label_values(…)` variables. */
export function dashboardQueries(file = DASHBOARD_FILE): Query[] {
  const queries: Query[] = dashboardPanels(file).flatMap((panel) =>
    panel.targets.map((t) => ({ where: `${file} panel "${panel.title}" ${t.refId}`, expr: substituteGrafanaVariables(t.expr) })),
  );
  const board = dashboard(file);
  const annotations = asArray(asRecord(board['annotations'] ?? { list: [] }, 'annotations')['list'] ?? [], 'annotations.list');
  for (const value of annotations) {
    const annotation = asRecord(value, 'annotation');
    const target = isRecord(annotation['target']) ? annotation['target'] : {};
    if (typeof target['expr'] === 'string') {
      queries.push({ where: `${file} annotation "${String(annotation['name'])}"`, expr: substituteGrafanaVariables(target['expr']) });
    }
  }
  const variables = asArray(asRecord(board['templating'] ?? { list: [] }, 'templating')['list'] ?? [], 'templating.list');
  for (const value of variables) {
    const variable = asRecord(value, 'variable');
    if (variable['type'] !== 'query') continue;
    const query = isRecord(variable['query']) ? String(variable['query']['query']) : String(variable['query']);
    // Grafana's label_values(selector, label) is not PromQL; its first argument is a selector.
    const labelValues = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query.trim());
    queries.push({
      where: `${file} variable ${String(variable['name'])}`,
      expr: substituteGrafanaVariables(labelValues ? labelValues[1]! : query),
    });
  }
  return queries;
}
