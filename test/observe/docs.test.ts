/**
 * The docs name every metric and every label payguard exports, and every demo variant, so an
 * operator never meets a series the documentation does not explain.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/metrics.js';
import { VARIANT_NAMES, VARIANTS } from '../../src/demo/variants.js';

const doc = (name: string): Promise<string> => readFile(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

describe('documentation', () => {
  it('docs/observability.md documents every payguard metric with its labels', async () => {
    const text = await doc('observability.md');
    const registry = createMetrics().registry;
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('payguard_'));
    expect(names.length).toBe(10);
    for (const name of names) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const labelNames = (registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
      for (const label of labelNames) expect(row, `${name} label ${label}`).toContain(`\`${label}\``);
    }
  });

  it('docs/demo.md lists every tampered variant with its reason', async () => {
    const text = await doc('demo.md');
    for (const name of VARIANT_NAMES) {
      const row = text.split('\n').find((line) => line.trimStart().startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      expect(row, name).toContain(`\`${VARIANTS[name].reason}\``);
    }
  });
});
