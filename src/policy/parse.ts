/**
 * Policy text → validated, deep-frozen `Policy`. Three gates, each reporting every problem it finds
 * with file, line, column and field: syntax (YAML, or strict JSON for .json), the JSON Schema
 * (schema.ts, through ajv), then the semantic checks the schema cannot express (semantic.ts).
 */
import { extname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { PolicyError } from '../errors.js';
import type { Policy } from './model.js';
import { POLICY_SCHEMA } from './schema.js';
import { buildPolicy, deepFreeze, type PolicyData } from './semantic.js';
import { PolicyText, type FieldPath, type SourceFormat, type SourceProblem } from './policy-text.js';

// Compiled once: the schema is a constant, and compiling is the expensive part of ajv.
// strictRequired off: the "origin or url" oneOf names properties declared beside it, not inside it.
const validateSchema = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false }).compile(POLICY_SCHEMA);

export function parsePolicyText(text: string, file: string): Policy {
  const source = PolicyText.parse(text, formatOf(file));
  throwIfAny(file, source, source.syntaxProblems);
  const data = source.data();
  if (!validateSchema(data)) throwIfAny(file, source, schemaProblems(validateSchema.errors ?? []));
  const semanticProblems: SourceProblem[] = [];
  const policy = buildPolicy(data as PolicyData, semanticProblems);
  throwIfAny(file, source, semanticProblems);
  return deepFreeze(policy);
}

function formatOf(file: string): SourceFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  throw new PolicyError('a policy file name must end in .yaml, .yml or .json (the extension picks the format)', { file });
}

/** One PolicyError locating the first problem (in document order) and listing all of them. */
function throwIfAny(file: string, source: PolicyText, problems: readonly SourceProblem[]): void {
  if (problems.length === 0) return;
  const located = problems
    .map((problem) => ({ problem, where: source.locate(problem) }))
    .sort((a, b) => a.where.line - b.where.line || a.where.column - b.where.column);
  const [first, ...rest] = located as [(typeof located)[number], ...typeof located];
  const more = rest.map(({ problem, where }) =>
    `\n  ${file}:${where.line}:${where.column}${where.field ? ` (${where.field})` : ''}: ${problem.message}`,
  );
  throw new PolicyError(first.problem.message + more.join(''), { file, ...first.where });
}

/** ajv's errors as problems in the policy's words, one per field. */
function schemaProblems(errors: readonly ErrorObject[]): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const seen = new Set<string>();
  // A wrong type says all there is to say about that field.
  const typeErrorPaths = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const error of errors) {
    // The branches of "origin or url" fail individually; the oneOf error itself explains it once.
    if (error.schemaPath.includes('/oneOf/')) continue;
    if (error.keyword !== 'type' && typeErrorPaths.has(error.instancePath)) continue;
    const problem = schemaProblem(error);
    const key = `${problem.path.join('/')}|${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function schemaProblem(error: ErrorObject): SourceProblem {
  const path = instancePath(error.instancePath);
  const name = String(path[path.length - 1] ?? 'the policy');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { path: [...path, key], atKey: true, message: `unknown key "${key}"; allowed here: ${allowed.join(', ')}` };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const hint = key === 'why' ? ' (the written justification PCI DSS 6.4.3 asks for)' : '';
      return { path: [...path, key], message: `"${key}" is required${hint}` };
    }
    case 'oneOf': {
      const [a, b] = (error.parentSchema as { properties?: object } | undefined)?.properties && 'hash' in (error.parentSchema as { properties: object }).properties ? ['hash', 'template'] : ['origin', 'url'];
      return {
        path,
        message: params.passingSchemas ? `give either "${a}" or "${b}", not both` : `an entry needs "${a}" or "${b}"`,
      };
    }
    case 'dependencies':
      return { path: [...path, String(params.property)], atKey: true, message: `"${String(params.property)}" belongs to a template entry: add "${String(params.missingProperty)}"` };
    case 'type':
      return { path, message: `must be ${article(String(params.type))}, not ${describe(error.data)}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)} (the only policy format this payguard reads)` };
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).join(', ')}, not ${JSON.stringify(error.data)}` };
    case 'minItems':
      return { path, message: 'must not be an empty list (an empty list is a typo or a check disabled; remove the key or add entries)' };
    case 'minProperties':
      return { path, message: 'must not be an empty mapping (an empty one is a typo or a check disabled; remove the key or add entries)' };
    case 'minimum':
    case 'maximum':
      return { path, message: `must be a positive integer no larger than ${Number.MAX_SAFE_INTEGER}` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'pattern':
      return { path, message: name === 'why' ? 'must not be blank: write why this entry is allowed' : `must match ${String(params.pattern)}` };
    default:
      return { path, message: error.message ?? `fails the schema's ${error.keyword}` };
  }
}

/** RFC 6901 JSON Pointer → path segments (list indexes as numbers). */
function instancePath(pointer: string): FieldPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function article(type: string): string {
  const name = type === 'object' ? 'mapping' : type === 'array' ? 'list' : type;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null (empty)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
