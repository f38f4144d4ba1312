/**
 * Every limit in src/limits.ts is one a person can read about: each operator setting is in
 * docs/limits.md (flag, variable, and the same default as the code) and in `payguard serve --help`;
 * each fixed bound is in docs/limits.md by name, and the page names nothing that does not exist.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize, serveCommand } from '../../src/cli/commands/serve.js';
import { LIMITS, SETTING_DEFAULTS } from '../../src/limits.js';

const limitsDoc = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const proxyDoc = readFileSync(new URL('../../docs/proxy.md', import.meta.url), 'utf8');

/** `headerTimeoutMs` → `--header-timeout` and `PAYGUARD_HEADER_TIMEOUT`: the CLI's naming rule. */
function names(key: string): { flag: string; env: string } {
  const words = key.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return { flag: `--${words}`, env: `PAYGUARD_${words.replaceAll('-', '_').toUpperCase()}` };
}

/** The settings table's row for a flag, split into its cells. */
function settingsRow(flag: string): string[] | undefined {
  const row = limitsDoc.split('\n').find((line) => line.startsWith(`| \`${flag} `));
  return row?.split('|').map((cell) => cell.trim().replaceAll('`', ''));
}

describe('docs/limits.md and serve --help against src/limits.ts', () => {
  const settings = Object.entries(SETTING_DEFAULTS);

  it.each(settings)('documents the setting %s with its flag, variable and default', (key, value) => {
    const { flag, env } = names(key);
    const row = settingsRow(flag);
    expect(row, `no row for ${flag} in docs/limits.md`).toBeDefined();
    expect(row![2]).toBe(env);
    const documentedDefault = row![3]!;
    const parsed = key.endsWith('Bytes') ? parseSize(flag, documentedDefault, -1) : parseDuration(flag, documentedDefault, -1);
    expect(parsed, `${flag}: docs/limits.md says ${documentedDefault}`).toBe(value);
  });

  it.each(settings)('lists the setting %s in `payguard serve --help`', (key) => {
    const { flag, env } = names(key);
    expect(serveCommand.usage).toContain(`  ${flag} `);
    expect(serveCommand.usage).toContain(env);
  });

  it.each(Object.keys(LIMITS))('documents the fixed bound %s', (key) => {
    expect(limitsDoc).toContain(`\`${key}\``);
  });

  it('names no bound that src/limits.ts does not define', () => {
    const fixed = limitsDoc.slice(limitsDoc.indexOf('## Fixed bounds'));
    const named = [...fixed.matchAll(/^\| `([A-Za-z]+)`(?:, `([A-Za-z]+)`)? \|/gm)].flatMap((m) => m.slice(1).filter(Boolean));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !(name! in LIMITS))).toEqual([]);
  });

  it('is linked from the README and from docs/proxy.md', () => {
    expect(readme).toContain('(docs/limits.md)');
    expect(proxyDoc).toContain('(limits.md)');
  });
});
