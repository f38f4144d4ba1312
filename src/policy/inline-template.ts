/**
 * Inline code by signed template (issue 18): an `allow.inline` entry that is a script's token
 * stream with typed slots where a rendering's literals vary (a nonce, a timestamp, the cart).
 * This module is the template side: the slot model, the JavaScript reading both sides share, and
 * the compilation of a template into the tokens a rendering must repeat. Matching a rendering is
 * src/verify/inline-templates.ts.
 *
 * JavaScript is read by acorn, a full ECMAScript parser (Test262-conformant, no dependencies), never
 * a regex: whether `/` starts a regular expression or divides, where a template literal ends and
 * whether `<!--` opens a comment (ECMA-262 Annex B.1.1, classic scripts only) are decided by the
 * grammar, as V8 decides them. Chosen over meriyah (1.3–1.6× faster on the same scripts, measured
 * in the commit that added it) because acorn's tokens carry their decoded values in the same pass.
 */
import { createHash } from 'node:crypto';
import { parse, type Node, type Options, type Token } from 'acorn';

export const SLOT_TYPES = ['string', 'number', 'boolean', 'null', 'json'] as const;
export type SlotType = (typeof SLOT_TYPES)[number];

/** Named character sets a string slot may be held to (its decoded value, every character). */
export const SLOT_CHARSETS = {
  digits: /^[0-9]*$/,
  hex: /^[0-9A-Fa-f]*$/,
  alnum: /^[0-9A-Za-z]*$/,
  base64: /^[0-9A-Za-z+/]*={0,2}$/,
  base64url: /^[0-9A-Za-z_-]*={0,2}$/,
  token: /^[0-9A-Za-z._~-]*$/,
  text: /^[\s\S]*$/,
} as const;
export type SlotCharset = keyof typeof SLOT_CHARSETS;

/** A string slot with no `length` holds at most this many characters; a JSON slot this many source characters. */
export const DEFAULT_STRING_SLOT_LENGTH = 4096;
export const DEFAULT_JSON_SLOT_LENGTH = 1024 * 1024;

/** The constraints of one slot, as the signed policy states them. */
export interface SlotSpec {
  readonly type: SlotType;
  /** string: the decoded value's characters. */
  readonly charset?: SlotCharset;
  /** string: [min, max] decoded characters. */
  readonly length?: readonly [number, number];
  /** number. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** json: source characters. */
  readonly maxLength?: number;
}

/** How a slot is written in a template: an identifier no real script uses, so the template is itself JavaScript. */
export const SLOT_MARKER = /^\$slot\$([A-Za-z_][A-Za-z0-9_]*)$/;

/** How the browser compiles inline code: a classic script, a module script, or an event handler's function body. */
export type CodeGoal = 'script' | 'module' | 'handler';

/** One token of the JavaScript source: acorn's label (`name`, `string`, `num`, `(`…), its source text and decoded value. */
export interface CodeToken {
  readonly label: string;
  readonly text: string;
  readonly value: unknown;
  readonly start: number;
  readonly end: number;
}

export interface ParsedCode {
  readonly source: string;
  /** acorn's own tokens (no copies: matching runs per request and its garbage is the cost). */
  readonly tokens: readonly Token[];
  readonly program: Node;
}

/** acorn's Token carries the decoded value (a string's characters, a number) though its typings omit it. */
export function tokenValue(token: Token): unknown {
  return (token as Token & { value?: unknown }).value;
}

/** The tokens with their source text and value, for code that is not on the per-request path (the inventory). */
export function codeTokens(parsed: ParsedCode): CodeToken[] {
  return parsed.tokens.map((t) => ({ label: t.type.label, text: parsed.source.slice(t.start, t.end), value: tokenValue(t), start: t.start, end: t.end }));
}

/**
 * Parses inline code as the browser compiles it; undefined where the browser would throw a
 * SyntaxError (then the code never runs, and no template can match it: fail closed).
 * Handlers are function bodies (HTML §8.1.8.1 "getting the current value of the event handler"),
 * so `return` is allowed there; a classic script keeps Annex B's HTML-like comments.
 */
export function parseCode(text: string, goal: CodeGoal): ParsedCode | undefined {
  const raw: Token[] = [];
  const options: Options = {
    ecmaVersion: 'latest',
    sourceType: goal === 'module' ? 'module' : 'script',
    allowReturnOutsideFunction: goal === 'handler',
    allowHashBang: goal !== 'handler',
    onToken: raw,
  };
  let program: Node;
  try {
    program = parse(text, options);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (raw.length > 0 && raw[raw.length - 1]!.type.label === 'eof') raw.pop();
  return { source: text, tokens: raw, program };
}

/** A template token: one the rendering must repeat exactly, or a slot. */
export type TemplateToken =
  | { readonly kind: 'fixed'; readonly label: string; readonly text: string }
  | { readonly kind: 'slot'; readonly name: string; readonly spec: SlotSpec };

export interface CompiledTemplate {
  readonly tokens: readonly TemplateToken[];
  /** The goals the template parses under (a template with `import` is a module template only). */
  readonly goals: ReadonlySet<CodeGoal>;
}

/**
 * A template named in one line for reviews, diffs and the inventory: its first characters with
 * whitespace folded, and the sha256 of its full text so two templates with the same start differ.
 */
export function templateLabel(template: string): string {
  const folded = template.replace(/\s+/g, ' ').trim();
  const start = folded.length > 60 ? `${folded.slice(0, 60)}…` : folded;
  return `"${start}" (sha256:${createHash('sha256').update(template).digest('hex').slice(0, 12)})`;
}

/** Why a template cannot be used; the policy loader reports it at the entry's `template` field. */
export class TemplateProblem extends Error {}

/**
 * Compiles a template (its source with `$slot$name` markers) against its declared slots. Throws
 * TemplateProblem: not JavaScript, an undeclared or unused slot, a slot standing for an object key.
 */
export function compileTemplate(source: string, slots: Readonly<Record<string, SlotSpec>>): CompiledTemplate {
  const goals = new Set<CodeGoal>();
  let parsed: ParsedCode | undefined;
  for (const goal of ['script', 'handler', 'module'] as const) {
    const attempt = parseCode(source, goal);
    if (!attempt) continue;
    goals.add(goal);
    parsed ??= attempt;
  }
  if (!parsed) throw new TemplateProblem(`not JavaScript: ${syntaxErrorOf(source)}`);
  rejectSlotKeys(parsed.program);
  const used = new Set<string>();
  const tokens = codeTokens(parsed).map((token): TemplateToken => {
    const name = token.label === 'name' ? SLOT_MARKER.exec(token.text)?.[1] : undefined;
    if (name === undefined) return { kind: 'fixed', label: token.label, text: token.text };
    const spec = slots[name];
    if (!spec) throw new TemplateProblem(`$slot$${name} is not declared under slots`);
    used.add(name);
    return { kind: 'slot', name, spec };
  });
  const unused = Object.keys(slots).filter((name) => !used.has(name));
  if (unused.length > 0) throw new TemplateProblem(`slot ${unused.join(', ')} is declared but the template never uses it`);
  if (!tokens.some((t) => t.kind === 'fixed')) throw new TemplateProblem('a template must have code around its slots');
  return { tokens, goals };
}

function syntaxErrorOf(source: string): string {
  try {
    parse(source, { ecmaVersion: 'latest', sourceType: 'script' });
    return 'unknown';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Object keys are never slots (issue 18): a renamed key is a different script. */
function rejectSlotKeys(program: Node): void {
  walkNodes(program, (node) => {
    if (node.type !== 'Property' && node.type !== 'PropertyDefinition' && node.type !== 'MethodDefinition') return;
    const { key, computed } = node as unknown as { key: Node & { name?: string }; computed: boolean };
    if (!computed && key.type === 'Identifier' && SLOT_MARKER.test(key.name ?? '')) {
      throw new TemplateProblem(`${key.name} stands for an object key; keys must be written out (a slot is a value)`);
    }
  });
}

/** A scalar literal's value (`-5` included); undefined for anything else. */
export function literalValue(node: Node): unknown {
  const n = node as Node & { value?: unknown; regex?: unknown; bigint?: unknown; operator?: string; argument?: Node };
  if (n.type === 'Literal') return n.regex !== undefined || n.bigint !== undefined ? undefined : n.value;
  if (n.type === 'UnaryExpression' && n.operator === '-' && n.argument?.type === 'Literal') {
    const inner = literalValue(n.argument);
    return typeof inner === 'number' ? -inner : undefined;
  }
  return undefined;
}

/**
 * The string values of a node that is data only (what a JSON slot holds): literals, arrays of data,
 * objects whose keys are written out and whose values are data. Undefined for anything else. No
 * `__proto__` key: in an object literal it sets the prototype instead of a property (ECMA-262
 * §13.2.5.5). The inventory drafts a JSON slot only where this holds (src/inventory/templates.ts).
 */
export function dataStrings(node: Node): string[] | undefined {
  const strings: string[] = [];
  return collectDataStrings(node, strings) ? strings : undefined;
}

function collectDataStrings(node: Node, strings: string[]): boolean {
  if (node.type === 'ArrayExpression') {
    for (const element of (node as unknown as { elements: (Node | null)[] }).elements) {
      if (!element || !collectDataStrings(element, strings)) return false;
    }
    return true;
  }
  if (node.type === 'ObjectExpression') {
    for (const property of (node as unknown as { properties: Node[] }).properties) {
      const p = property as Node & { kind?: string; computed?: boolean; method?: boolean; shorthand?: boolean; key?: Node & { name?: string; value?: unknown }; value?: Node };
      if (p.type !== 'Property' || p.kind !== 'init' || p.computed || p.method || p.shorthand || !p.key || !p.value) return false;
      const key = p.key.type === 'Identifier' ? p.key.name : p.key.type === 'Literal' ? String(p.key.value) : undefined;
      if (key === undefined || key === '__proto__') return false;
      if (!collectDataStrings(p.value, strings)) return false;
    }
    return true;
  }
  const value = literalValue(node);
  if (value === undefined && !(node.type === 'Literal' && (node as { value?: unknown }).value === null)) return false;
  if (typeof value === 'string') strings.push(value);
  return true;
}

/** Visits every ESTree node under `root` (depth first, parents first) with its parent; `enter` may prune a subtree. */
export function walkNodes(root: Node, visit: (node: Node, parent: Node | undefined) => void, enter: (node: Node) => boolean = () => true): void {
  const stack: { node: Node; parent: Node | undefined }[] = [{ node: root, parent: undefined }];
  while (stack.length > 0) {
    const { node, parent } = stack.pop()!;
    if (!enter(node)) continue;
    visit(node, parent);
    for (const key of Object.keys(node)) {
      if (key === 'type' || key === 'start' || key === 'end' || key === 'loc' || key === 'range') continue;
      const child = (node as unknown as Record<string, unknown>)[key];
      if (Array.isArray(child)) {
        for (let i = child.length - 1; i >= 0; i--) if (isNode(child[i])) stack.push({ node: child[i] as Node, parent: node });
      } else if (isNode(child)) {
        stack.push({ node: child, parent: node });
      }
    }
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
