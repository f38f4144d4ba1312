/**
 * Matching inline code against the policy's templates (issue 18; src/policy/inline-template.ts has
 * the template side). A rendering matches when its tokens outside the slots are the template's,
 * character for character, and each slot holds one complete literal of its type that meets its
 * constraints. Tokens alone are not enough: the same tokens can parse to another tree (a slot's
 * `-5` after a line break continues the previous expression instead of starting one; a leading
 * string is a directive that turns on strict mode), so every slot must also be one literal node of
 * the rendering's own parse, in a place where a literal is a value.
 */
import type { Node, Token } from 'acorn';
import {
  compileTemplate,
  TemplateProblem,
  DEFAULT_JSON_SLOT_LENGTH,
  DEFAULT_STRING_SLOT_LENGTH,
  dataStrings,
  literalValue,
  parseCode,
  SLOT_CHARSETS,
  walkNodes,
  tokenValue,
  type CodeGoal,
  type CompiledTemplate,
  type ParsedCode,
  type SlotSpec,
} from '../policy/inline-template.js';
import type { Policy, TemplateEntry } from '../policy/model.js';
import { stripForUrlParser, urlReadings } from './url-readings.js';
import type { Finding } from './types.js';

/** A string a slot carries that names a place: a URL or a host. */
export interface SlotTarget {
  readonly slot: string;
  readonly value: string;
  /** The URL as the browser would resolve it (a bare host is read as `https://host/`). */
  readonly url: URL;
  /**
   * The reading as cut from the string when it runs to the string's end: it may be the first part
   * of a URL whose rest is in the next piece of a stream (Next.js cuts its flight stream anywhere).
   */
  readonly cutAtEnd?: string;
}

export type TemplateMatch =
  | { readonly matched: false }
  | {
      readonly matched: true;
      readonly entry: TemplateEntry;
      readonly targets: readonly SlotTarget[];
      /** The decoded values of its string slots, in order: one piece of a stream (template-streams.ts). */
      readonly pieces: readonly string[];
    };

/** Templates are compiled once per entry (entries are frozen and live as long as their policy). */
const compiled = new WeakMap<TemplateEntry, CompiledTemplate | null>();

function compiledOf(entry: TemplateEntry): CompiledTemplate | undefined {
  let template = compiled.get(entry);
  if (template === undefined) {
    try {
      template = compileTemplate(entry.template, entry.slots);
    } catch (err) {
      // The loader refuses a policy whose template does not compile; an entry built another way
      // (a test, a future caller) matches nothing rather than everything.
      if (!(err instanceof TemplateProblem)) throw err;
      template = null;
    }
    compiled.set(entry, template);
  }
  return template ?? undefined;
}

const templatesOf = new WeakMap<Policy, readonly TemplateEntry[]>();

/** The policy's template entries, in order (kept per policy: every inline script a hash misses asks). */
export function templateEntries(policy: Policy): readonly TemplateEntry[] {
  let entries = templatesOf.get(policy);
  if (!entries) {
    entries = policy.allow.inline.filter((e): e is TemplateEntry => e.type === 'template');
    templatesOf.set(policy, entries);
  }
  return entries;
}

/**
 * The first template of the policy the code matches, with the URLs and hosts its slots carry (the
 * caller judges those against the allow lists). Parses the code once, at the first template that
 * applies to how the browser compiles it (script, module or handler), and not at all without one.
 */
export function matchTemplates(entries: readonly TemplateEntry[], text: string, goal: CodeGoal, site: string): TemplateMatch {
  let parsed: ParsedCode | undefined | null = null;
  for (const entry of entries) {
    const template = compiledOf(entry);
    if (!template || !template.goals.has(goal)) continue;
    if (parsed === null) parsed = parseCode(text, goal);
    if (parsed === undefined) return { matched: false };
    const spans = alignTokens(template, parsed);
    if (!spans) continue;
    const pieces: string[] = [];
    const targets = checkSlots(spans, literalSites(parsed.program, spans), site, pieces);
    if (targets) return { matched: true, entry, targets, pieces };
  }
  return { matched: false };
}

/** A slot's place in the rendering: from its first token's start to its last token's end. */
interface SlotSpan {
  readonly name: string;
  readonly spec: SlotSpec;
  readonly start: number;
  readonly end: number;
}

/** Walks template and rendering together; the slots' spans, or undefined at the first difference. */
function alignTokens(template: CompiledTemplate, parsed: ParsedCode): SlotSpan[] | undefined {
  const { tokens, source } = parsed;
  const spans: SlotSpan[] = [];
  let i = 0;
  for (const expected of template.tokens) {
    if (expected.kind === 'fixed') {
      const token = tokens[i];
      if (!token || token.type.label !== expected.label || token.end - token.start !== expected.text.length || !source.startsWith(expected.text, token.start)) return undefined;
      i++;
      continue;
    }
    const end = slotEnd(expected.spec, tokens, i);
    if (end === undefined) return undefined;
    spans.push({ name: expected.name, spec: expected.spec, start: tokens[i]!.start, end: tokens[end - 1]!.end });
    i = end;
  }
  return i === tokens.length ? spans : undefined;
}

/** Tokens a JSON slot may hold: literals, and the punctuation of arrays and objects (identifiers only as keys, checked on the tree). */
const JSON_LABELS: ReadonlySet<string> = new Set(['string', 'num', 'true', 'false', 'null', '[', ']', '{', '}', ',', ':', 'name']);

/** Where a slot starting at token `i` ends (exclusive), by its type; undefined if no literal of that type starts there. */
function slotEnd(spec: SlotSpec, tokens: readonly Token[], i: number): number | undefined {
  const first = tokens[i];
  if (!first) return undefined;
  const label = first.type.label;
  switch (spec.type) {
    case 'string':
      return label === 'string' ? i + 1 : undefined;
    case 'number':
      if (label === 'num') return i + 1;
      return isMinus(first) && tokens[i + 1]?.type.label === 'num' ? i + 2 : undefined;
    case 'boolean':
      return label === 'true' || label === 'false' ? i + 1 : undefined;
    case 'null':
      return label === 'null' ? i + 1 : undefined;
    case 'json':
      return jsonEnd(tokens, i);
  }
}

/** The end of a balanced `[…]` or `{…}` of literal tokens starting at `i`. */
function jsonEnd(tokens: readonly Token[], i: number): number | undefined {
  const open = tokens[i]?.type.label;
  if (open !== '[' && open !== '{') return undefined;
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    const token = tokens[j]!;
    const label = token.type.label;
    if (!JSON_LABELS.has(label) && !isMinus(token)) return undefined;
    if (label === '[' || label === '{') depth++;
    else if (label === ']' || label === '}') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return undefined;
}

/** acorn labels `+` and `-` alike (`+/-`); its value tells them apart. */
function isMinus(token: Token): boolean {
  return token.type.label === '+/-' && tokenValue(token) === '-';
}

/** A node of the rendering that can fill a slot, with its parent (which says what role it plays). */
interface LiteralSite {
  readonly node: Node;
  readonly parent: Node | undefined;
}

const SLOT_NODE_TYPES: ReadonlySet<string> = new Set(['Literal', 'UnaryExpression', 'ArrayExpression', 'ObjectExpression']);

/**
 * The nodes that start where a slot starts (the outermost first: `-5` is the UnaryExpression, not
 * its argument). Only subtrees whose range holds a slot are entered: a big script with one slot
 * costs a path from the root, not a walk of its whole tree.
 */
function literalSites(program: Node, spans: readonly SlotSpan[]): Map<number, LiteralSite> {
  const starts = spans.map((s) => s.start);
  const sites = new Map<number, LiteralSite>();
  const holdsSlot = (node: Node) => starts.some((s) => s >= node.start && s < node.end && !sites.has(s));
  walkNodes(program, (node, parent) => {
    if (starts.includes(node.start) && SLOT_NODE_TYPES.has(node.type) && !sites.has(node.start)) sites.set(node.start, { node, parent });
  }, holdsSlot);
  return sites;
}

/** Checks every slot; the URLs and hosts they carry, or undefined when one does not hold. */
function checkSlots(spans: readonly SlotSpan[], literals: ReadonlyMap<number, LiteralSite>, site: string, pieces: string[]): SlotTarget[] | undefined {
  const targets: SlotTarget[] = [];
  for (const span of spans) {
    const literal = literals.get(span.start);
    if (!literal || literal.node.end !== span.end || !isValuePosition(literal)) return undefined;
    const strings = slotStrings(span.spec, literal.node, span.end - span.start);
    if (!strings) return undefined;
    if (span.spec.type === 'string') pieces.push(...strings);
    for (const value of strings) {
      for (const place of namedPlaces(value, site)) targets.push({ slot: span.name, value, ...place });
    }
  }
  return targets;
}

/**
 * A literal is a value unless it is an expression statement of its own (a leading string is a
 * directive: `'use strict'` changes how the rest runs; ECMA-262 §11.2.1) or an object key.
 */
function isValuePosition(site: LiteralSite): boolean {
  const parent = site.parent as (Node & { key?: Node; computed?: boolean }) | undefined;
  if (!parent) return false;
  if (parent.type === 'ExpressionStatement') return false;
  if ((parent.type === 'Property' || parent.type === 'PropertyDefinition' || parent.type === 'MethodDefinition') && parent.key === site.node && !parent.computed) return false;
  return true;
}

/** The slot's strings (decoded) if the node is a literal of the slot's type within its constraints. */
function slotStrings(spec: SlotSpec, node: Node, sourceLength: number): string[] | undefined {
  const value = literalValue(node);
  switch (spec.type) {
    case 'string': {
      if (node.type !== 'Literal' || typeof value !== 'string') return undefined;
      const [min, max] = spec.length ?? [0, DEFAULT_STRING_SLOT_LENGTH];
      if (value.length < min || value.length > max) return undefined;
      return SLOT_CHARSETS[spec.charset ?? 'text'].test(value) ? [value] : undefined;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      if (spec.integer === true && !Number.isInteger(value)) return undefined;
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return undefined;
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : undefined;
    case 'null':
      return value === null && node.type === 'Literal' ? [] : undefined;
    case 'json': {
      if (sourceLength > (spec.maxLength ?? DEFAULT_JSON_SLOT_LENGTH)) return undefined;
      return dataStrings(node);
    }
  }
}

/** A bare host, `pay.example` or `pay.example:8443`: labels, and a last label of letters. */
const BARE_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?(?::[0-9]{1,5})?$/;
/**
 * File names look like hosts (`logo.png`) and are everywhere in a cart's data. No top-level domain
 * is one of these extensions, so they are read as files, not hosts.
 */
const FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  'js', 'mjs', 'cjs', 'css', 'map', 'json', 'html', 'htm', 'php', 'xml', 'txt', 'pdf', 'csv',
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'avif', 'ico', 'bmp', 'woff', 'woff2', 'ttf', 'otf', 'eot',
  'mp4', 'webm', 'mp3', 'wav', 'ogg', 'phtml', 'twig', 'liquid', 'tpl',
]);

/**
 * The places a slot string names, as the shop's code might read it (relative to the site): the readings carried data has
 * (url-readings.ts: the whole string, every URL-looking token inside it, the same percent-decoded,
 * the strings of JSON inside it; a React flight row or a percent-encoded preloaded response is
 * such a string), and the whole string as a bare host (code that builds `https://` + it).
 * One exception: a scheme-relative reading of a host without a dot. Next.js cuts its flight stream
 * into pushes wherever a buffer fills, so a push can begin with the `//shopify/Cart/…` of a
 * `gid://shopify/…` id (percent-encoded too); no host on the public internet is a single label
 * (a top-level domain's own A record aside), and the CSP still names every host a fetch may reach.
 */
export function namedPlaces(raw: string, site: string): { url: URL; cutAtEnd?: string }[] {
  const places: { url: URL; cutAtEnd?: string }[] = [];
  const whole = stripForUrlParser(raw);
  // A host first: `pay.example:8443` also parses as a URL whose scheme is `pay.example`, but code
  // that reads it builds `https://` + it.
  if (BARE_HOST.test(whole)) {
    const tld = whole.replace(/\.?(?::[0-9]+)?$/, '').split('.').pop()!.toLowerCase();
    if (!FILE_EXTENSIONS.has(tld)) {
      const url = parseUrl(`https://${whole}/`);
      if (url) places.push({ url });
    }
    return places;
  }
  for (const reading of urlReadings(raw)) {
    // Resolved as the page's code would resolve it: `https:` alone, cut from a longer string, is the page itself.
    const url = parseUrl(reading, site);
    if (!url) continue;
    if (/^[/\\]{2}/.test(reading) && isDotlessName(url.hostname)) continue;
    places.push(whole.endsWith(reading) ? { url, cutAtEnd: reading } : { url });
  }
  return places;
}

function isDotlessName(hostname: string): boolean {
  return !hostname.includes('.') && !hostname.startsWith('[') && !/^[0-9]+$/.test(hostname);
}

function parseUrl(text: string, base?: string): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/** What the browser must be told to run: the code a template accepted in one response. */
export interface TemplateAcceptance {
  /** sha256 CSP hash sources, once each, in document order. */
  readonly hashSources: readonly string[];
  /** Elements (by source offset) whose accepted text is a script's: a nonce can stand in for their hashes. */
  readonly scriptOffsets: readonly number[];
  /** An accepted handler needs 'unsafe-hashes' (CSP3 §6.7.3.3): a handler cannot carry a nonce. */
  readonly handlers: boolean;
  /** The handlers' own sha256 sources: what stays in the CSP when the scripts carry a nonce instead. */
  readonly handlerSources: readonly string[];
}

/** The inline code of a verified document that is allowed only because a template matched it. */
export function templateAcceptance(findings: readonly Finding[]): TemplateAcceptance | undefined {
  const hashSources: string[] = [];
  const scriptOffsets: number[] = [];
  const handlerSources: string[] = [];
  let handlers = false;
  for (const finding of findings) {
    if (!finding.allowed || finding.entry?.type !== 'template') continue;
    const sha256 = finding.hashes?.find((h) => h.startsWith('sha256-'));
    if (!sha256) continue;
    if (!hashSources.includes(`'${sha256}'`)) hashSources.push(`'${sha256}'`);
    if (finding.kind === 'event-handler') {
      handlers = true;
      if (!handlerSources.includes(`'${sha256}'`)) handlerSources.push(`'${sha256}'`);
    } else if (finding.offset !== undefined) scriptOffsets.push(finding.offset);
  }
  return hashSources.length > 0 ? { hashSources, scriptOffsets, handlers, handlerSources } : undefined;
}
