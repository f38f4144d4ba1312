/**
 * The policy text as a tree that still knows where each value was written, so every problem
 * can be reported as file:line:column and a dotted field path (`allow.form[0].why`).
 * YAML and JSON go through the same `yaml` parser (JSON is checked as strict JSON first).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { findJsonSyntaxError } from './json-syntax.js';

/** A path into the policy: map keys and list indexes, as ajv's instancePath names them. */
export type FieldPath = readonly (string | number)[];

export interface SourceProblem {
  readonly path: FieldPath;
  readonly message: string;
  /** Point at the key rather than the value (unknown keys). */
  readonly atKey?: boolean;
  /** An exact offset, when the problem is not at a node (syntax errors). */
  readonly offset?: number;
}

export interface Located {
  readonly line: number;
  readonly column: number;
  readonly field: string | undefined;
}

export type SourceFormat = 'yaml' | 'json';

export class PolicyText {
  private constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** Syntax problems (invalid YAML/JSON, duplicate keys); the data is not usable when non-empty. */
    readonly syntaxProblems: readonly SourceProblem[],
  ) {}

  static parse(text: string, format: SourceFormat): PolicyText {
    const lines = new LineCounter();
    const jsonProblem = format === 'json' ? findJsonSyntaxError(text) : undefined;
    // uniqueKeys: a duplicated key is an error, never "last one wins" (a second `why:` or a second
    // `allow:` would silently replace the first). YAML 1.2 core schema: `yes`/`no` stay strings.
    const doc = parseDocument(text, {
      lineCounter: lines,
      uniqueKeys: true,
      prettyErrors: false,
      version: '1.2',
      schema: format === 'json' ? 'json' : 'core',
    });
    const source = new PolicyText(doc, lines, []);
    const problems: SourceProblem[] = [];
    if (jsonProblem) {
      problems.push({ path: source.pathAt(jsonProblem.offset), offset: jsonProblem.offset, message: `invalid JSON: ${jsonProblem.message}` });
    }
    for (const err of [...doc.errors, ...doc.warnings]) {
      if (jsonProblem && err.code !== 'DUPLICATE_KEY') continue;
      const offset = err.pos[0];
      const what = err.code === 'DUPLICATE_KEY' ? 'duplicate key' : `invalid ${format === 'json' ? 'JSON' : 'YAML'}`;
      problems.push({ path: source.pathAt(offset), offset, message: `${what}: ${firstLine(err.message)}` });
    }
    return new PolicyText(doc, lines, problems);
  }

  /** The parsed data as plain JavaScript values (only meaningful without syntax problems). */
  data(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  locate(problem: SourceProblem): Located {
    const offset = problem.offset ?? this.offsetOf(problem.path, problem.atKey ?? false);
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col, field: dottedField(problem.path) };
  }

  /** Start offset of the node at `path` (or of its key), falling back to the nearest ancestor. */
  private offsetOf(path: FieldPath, atKey: boolean): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [i, segment] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        if (last && atKey) return rangeStart(pair.key) ?? offset;
        node = pair.value;
        offset = rangeStart(pair.value) ?? rangeStart(pair.key) ?? offset;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (node === undefined) break;
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return offset;
  }

  /** The path of the deepest node containing `offset` (to name the field a syntax error is in). */
  private pathAt(offset: number): FieldPath {
    const path: (string | number)[] = [];
    let node: unknown = this.doc.contents;
    for (let depth = 0; depth < 64; depth++) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && contains(p.key, p.value, offset));
        if (!pair || !isScalar(pair.key)) break;
        path.push(String(pair.key.value));
        node = pair.value;
      } else if (isSeq(node)) {
        const index = node.items.findIndex((item) => contains(item, item, offset));
        if (index < 0) break;
        path.push(index);
        node = node.items[index];
      } else {
        break;
      }
    }
    return path;
  }
}

/** `allow.form[0].why` from ['allow', 'form', 0, 'why']; undefined for the document itself. */
export function dottedField(path: FieldPath): string | undefined {
  let field = '';
  for (const segment of path) {
    field += typeof segment === 'number' ? `[${segment}]` : field ? `.${segment}` : segment;
  }
  return field || undefined;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function contains(from: unknown, to: unknown, offset: number): boolean {
  const start = rangeStart(from);
  const end = (to as Node | null)?.range?.[2];
  return start !== undefined && end !== undefined && start <= offset && offset < end;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
