/**
 * A shopper's session for the inventory (issue 18, item 4): a cookie jar, and scripted steps that
 * reach the pages a crawl without a session never sees (a checkout with an empty cart redirects
 * to the cart). Steps are a small YAML file:
 *
 *   steps:
 *     - { get: /product/tee }
 *     - { post: /cart/add, form: { product: "12", qty: "1", form_key: "{{input:form_key}}" } }
 *     - { post: /api/cart/mine/items, json: { sku: "TEE-1", qty: 1 } }
 *
 * Placeholders are filled from what the steps before answered (the newest answer that has it):
 * `{{input:NAME}}` and `{{meta:NAME}}` from an HTML page's input or meta tag (the CSRF token or
 * form key every real shop asks for), `{{json:data.cartId}}` from a JSON answer (a cart API's
 * id), `{{cookie:NAME}}` from the session (a CSRF cookie). They may stand in the path, in
 * `headers:` (an AJAX API's `x-csrf-token`), in form values and in JSON strings:
 *
 *     - { post: /api/carts, json: {} }
 *     - { post: "/api/carts/{{json:data.cartId}}/items", json: { sku: TEE-1, qty: 1 }, headers: { x-csrf-token: "{{meta:csrf-token}}" } }
 * Cookies are kept by name, host-only (no Domain matching: the crawl talks to one storefront),
 * and never printed: they are the shopper's session.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';
import { parseHtml } from '../verify/parse.js';
import { attribute, isElement, type Node, type ParentNode } from '../verify/tree.js';
import type { HeaderList } from '../verify/types.js';
import { FetchFailure, fetchBounded, type FetchLimits } from './fetch.js';

export class ShopperSession {
  readonly #cookies = new Map<string, Map<string, string>>();

  cookieHeader(url: string): string | undefined {
    const jar = this.#cookies.get(new URL(url).host);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  remember(url: string, headers: HeaderList): void {
    const host = new URL(url).host;
    for (const [name, value] of headers) {
      if (name !== 'set-cookie') continue;
      const pair = value.split(';')[0]!;
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const jar = this.#cookies.get(host) ?? this.#cookies.set(host, new Map()).get(host)!;
      const cookie = pair.slice(0, eq).trim();
      const expired = /;\s*max-age=(?:0|-)/i.test(value) || /;\s*expires=[^;]*\b19[0-9]{2}\b/i.test(value);
      if (expired) jar.delete(cookie);
      else jar.set(cookie, pair.slice(eq + 1).trim());
    }
  }
}

export type Step =
  | { readonly method: 'GET'; readonly path: string; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly method: 'POST';
      readonly path: string;
      readonly form?: Readonly<Record<string, string>>;
      readonly json?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    };

/** Reads a steps file; a clear UsageError naming the step that is wrong. */
export async function readSteps(file: string): Promise<Step[]> {
  let data: unknown;
  try {
    data = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the steps file ${file}: ${(err as Error).message}`);
  }
  const steps = (data as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) throw new UsageError(`${file}: expected "steps:" with a list of { get: PATH } or { post: PATH, form|json: … }`);
  return steps.map((step, i) => parseStep(step, `${file}: steps[${i}]`));
}

function parseStep(step: unknown, where: string): Step {
  if (typeof step !== 'object' || step === null) throw new UsageError(`${where}: expected a mapping`);
  const s = step as Record<string, unknown>;
  const path = (value: unknown): string => {
    if (typeof value !== 'string' || !value.startsWith('/')) throw new UsageError(`${where}: the path must start with "/"`);
    return value;
  };
  const strings = (value: unknown, field: string): Record<string, string> | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      throw new UsageError(`${where}: ${field} must map names to strings`);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [field === 'headers' ? k.toLowerCase() : k, String(v)]));
  };
  const headers = strings(s['headers'], 'headers');
  if (headers && Object.keys(headers).some((name) => ['cookie', 'host', 'content-length', 'content-type'].includes(name))) {
    throw new UsageError(`${where}: headers cannot set cookie, host, content-length or content-type (the session and the body do)`);
  }
  const withHeaders = headers ? { headers } : {};
  if (s['get'] !== undefined) return { method: 'GET', path: path(s['get']), ...withHeaders };
  if (s['post'] !== undefined) {
    const form = strings(s['form'], 'form');
    return { method: 'POST', path: path(s['post']), ...(form ? { form } : {}), ...(s['json'] !== undefined ? { json: s['json'] } : {}), ...withHeaders };
  }
  throw new UsageError(`${where}: expected get: PATH or post: PATH`);
}

/**
 * What the steps so far answered: the HTML pages and the JSON bodies, newest last. A placeholder
 * is filled from the newest answer that has it, so a cart id from the second step still fills the
 * fifth.
 */
class StepAnswers {
  readonly pages: string[] = [];
  readonly jsons: unknown[] = [];

  constructor(private readonly session: ShopperSession, private readonly url: string) {}

  take(fetched: { headers: HeaderList; bytes: Uint8Array }): void {
    const type = fetched.headers.find(([n]) => n === 'content-type')?.[1] ?? '';
    const text = new TextDecoder().decode(fetched.bytes);
    if (type.includes('html')) this.pages.push(text);
    else if (/\bjson\b/.test(type)) {
      try {
        this.jsons.push(JSON.parse(text));
      } catch {
        // A body that says JSON and is not: nothing to fill from.
      }
    }
  }

  /** The value a placeholder names, or a UsageError saying where it was looked for. */
  value(source: string, name: string): unknown {
    if (source === 'json') {
      for (let i = this.jsons.length - 1; i >= 0; i--) {
        const found = atPath(this.jsons[i], name);
        if (found !== undefined) return found;
      }
      throw new UsageError(`no "${name}" in any JSON answer of the steps so far`);
    }
    if (source === 'cookie') {
      const value = (this.session.cookieHeader(this.url) ?? '').split('; ').find((c) => c.startsWith(`${name}=`));
      if (value === undefined) throw new UsageError(`no cookie "${name}" in the session`);
      return decodeURIComponent(value.slice(name.length + 1));
    }
    for (let i = this.pages.length - 1; i >= 0; i--) {
      const found = findValue(this.pages[i]!, source, name);
      if (found !== undefined) return found;
    }
    throw new UsageError(`no <${source} name="${name}"> on any page the steps fetched`);
  }
}

/** `{{input:NAME}}`, `{{meta:NAME}}`, `{{json:a.b.0.c}}` or `{{cookie:NAME}}`. */
const PLACEHOLDER = /\{\{(input|meta|json|cookie):([^}]+)\}\}/g;

function fillText(text: string, answers: StepAnswers, encode: (value: string) => string = (v) => v): string {
  return text.replace(PLACEHOLDER, (_, source: string, name: string) => encode(scalarText(answers.value(source, name.trim()), `${source}:${name}`)));
}

/** A JSON body's values filled: a string that is one placeholder takes the value's JSON type (a number stays a number). */
function fillJson(value: unknown, answers: StepAnswers): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(input|meta|json|cookie):([^}]+)\}\}$/.exec(value);
    return whole ? answers.value(whole[1]!, whole[2]!.trim()) : fillText(value, answers);
  }
  if (Array.isArray(value)) return value.map((v) => fillJson(v, answers));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(v, answers)]));
  return value;
}

function scalarText(value: unknown, what: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(`{{${what}}} is not a string or number`);
}

function atPath(data: unknown, path: string): unknown {
  let at = data;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * Runs the steps in the session; the problems (a step's failure is reported, the crawl goes on).
 * Placeholders fill the path (URL-encoded), headers, form values and JSON strings from the answers
 * of the steps before: an HTML page's inputs and meta tags, a JSON answer's fields, a cookie.
 */
export async function runSteps(steps: readonly Step[], origin: string, session: ShopperSession, limits: FetchLimits): Promise<string[]> {
  const problems: string[] = [];
  const answers = new StepAnswers(session, origin + '/');
  for (const step of steps) {
    try {
      const url = origin + fillText(step.path, answers, encodeURIComponent);
      const headers = step.headers ? Object.fromEntries(Object.entries(step.headers).map(([name, value]) => [name, fillText(value, answers)])) : undefined;
      const body = step.method === 'POST' ? requestBody(step, answers) : undefined;
      const fetched = await fetchBounded(url, limits, 'text/html,application/json;q=0.9,*/*;q=0.1', { method: step.method, session, ...(body ? { body } : {}), ...(headers ? { headers } : {}) });
      if (fetched.status >= 400) problems.push(`step ${step.method} ${step.path}: HTTP ${fetched.status}`);
      answers.take(fetched);
    } catch (err) {
      if (!(err instanceof FetchFailure || err instanceof UsageError)) throw err;
      problems.push(`step ${step.method} ${step.path}: ${err.message}`);
    }
  }
  return problems;
}

function requestBody(step: Extract<Step, { method: 'POST' }>, answers: StepAnswers): { contentType: string; text: string } | undefined {
  if (step.json !== undefined) return { contentType: 'application/json', text: JSON.stringify(fillJson(step.json, answers)) };
  if (!step.form) return undefined;
  const fields = Object.entries(step.form).map(([name, value]) => [name, fillText(value, answers)] as [string, string]);
  return { contentType: 'application/x-www-form-urlencoded', text: new URLSearchParams(fields).toString() };
}

function findValue(page: string, tag: string, name: string): string | undefined {
  const stack: Node[] = [parseHtml(page, new WeakMap()).document as unknown as Node];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (isElement(node) && node.tagName === tag && attribute(node, 'name')?.value === name) {
      return attribute(node, tag === 'meta' ? 'content' : 'value')?.value ?? '';
    }
    stack.push(...((node as ParentNode).childNodes ?? []));
  }
  return undefined;
}
