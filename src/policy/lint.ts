/**
 * What makes a valid policy not yet fit to sign. A draft (issue 9's inventory writes `why: TODO`
 * for scripts nobody has justified yet, examples write `sha384-...` for a hash not computed) parses,
 * so it can be reviewed and linted, but `payguard sign` refuses it: a signature says a person
 * approved every entry, and PCI DSS 6.4.3 asks for a written justification of each script.
 */
import { dottedField } from './policy-text.js';
import { ALLOW_KINDS, entryIntegrity, type Policy } from './model.js';
import { HASH_PLACEHOLDER } from './semantic.js';

/** Field paths (`allow.script[2].why`) whose justification is `TODO` (any case, surrounding blanks ignored). */
export function findTodoJustifications(policy: Policy): string[] {
  const fields: string[] = [];
  for (const kind of ALLOW_KINDS) {
    policy.allow[kind].forEach((entry, i) => {
      if (/^todo\b/i.test(entry.why.trim())) fields.push(dottedField(['allow', kind, i, 'why'])!);
    });
  }
  Object.values(policy.firstParty?.generated ?? {}).forEach((script, i) => {
    if (/^todo\b/i.test(script.why)) fields.push(dottedField(['firstParty', 'generated', i, 'why'])!);
  });
  return fields;
}

/** Field paths of hashes still written as the `sha384-...` placeholder. */
export function findPlaceholderHashes(policy: Policy): string[] {
  const fields: string[] = [];
  const isPlaceholder = (token: string): boolean => token.endsWith(`-${HASH_PLACEHOLDER}`);
  for (const kind of ALLOW_KINDS) {
    policy.allow[kind].forEach((entry, i) => {
      if (entry.type === 'hash' && isPlaceholder(entry.hash)) fields.push(dottedField(['allow', kind, i, 'hash'])!);
      if (entryIntegrity(entry)?.some(isPlaceholder)) fields.push(dottedField(['allow', kind, i, 'integrity'])!);
    });
  }
  for (const list of ['scripts', 'data'] as const) {
    for (const file of Object.values(policy.firstParty?.[list] ?? {})) {
      if (file.integrity.some(isPlaceholder)) fields.push(dottedField(['firstParty', list, file.path])!);
    }
  }
  return fields;
}
