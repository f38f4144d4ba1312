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
 * `{{input:NAME}}` and `{{meta:NAME}}` take the value of that input or meta tag on the page the
 * previous step fetched: the CSRF token or form key every real shop asks for.
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
  | { readonly method: 'GET'; readonly path: string }
  | { readonly method: 'POST'; readonly path: string; readonly form?: Readonly<Record<string, string>>; readonly json?: unknown };

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
  if (s['get'] !== undefined) return { method: 'GET', path: path(s['get']) };
  if (s['post'] !== undefined) {
    const form = s['form'];
    if (form !== undefined && (typeof form !== 'object' || form === null || Object.values(form).some((v) => typeof v !== 'string' && typeof v !== 'number'))) {
      throw new UsageError(`${where}: form must map names to strings`);
    }
    return { method: 'POST', path: path(s['post']), ...(form ? { form: Object.fromEntries(Object.entries(form).map(([k, v]) => [k, String(v)])) } : {}), ...(s['json'] !== undefined ? { json: s['json'] } : {}) };
  }
  throw new UsageError(`${where}: expected get: PATH or post: PATH`);
}

/** Runs the steps in the session; the problems (a step's failure is reported, the crawl goes on). */
export async function runSteps(steps: readonly Step[], origin: string, session: ShopperSession, limits: FetchLimits): Promise<string[]> {
  const problems: string[] = [];
  let lastPage = '';
  for (const step of steps) {
    const url = origin + step.path;
    try {
      const body = step.method === 'POST' ? requestBody(step, lastPage) : undefined;
      const fetched = await fetchBounded(url, limits, 'text/html,application/json;q=0.9,*/*;q=0.1', { method: step.method, session, ...(body ? { body } : {}) });
      if (fetched.status >= 400) problems.push(`step ${step.method} ${step.path}: HTTP ${fetched.status}`);
      if ((fetched.headers.find(([n]) => n === 'content-type')?.[1] ?? '').includes('html')) lastPage = new TextDecoder().decode(fetched.bytes);
    } catch (err) {
      if (!(err instanceof FetchFailure || err instanceof UsageError)) throw err;
      problems.push(`step ${step.method} ${step.path}: ${err.message}`);
    }
  }
  return problems;
}

function requestBody(step: Extract<Step, { method: 'POST' }>, lastPage: string): { contentType: string; text: string } | undefined {
  if (step.json !== undefined) return { contentType: 'application/json', text: JSON.stringify(step.json) };
  if (!step.form) return undefined;
  const fields = Object.entries(step.form).map(([name, value]) => [name, fillFromPage(value, lastPage)] as const);
  return { contentType: 'application/x-www-form-urlencoded', text: new URLSearchParams(fields as [string, string][]).toString() };
}

/** `{{input:NAME}}` / `{{meta:NAME}}` from the previous page, read with the verifier's HTML parser. */
function fillFromPage(value: string, page: string): string {
  return value.replace(/\{\{(input|meta):([^}]+)\}\}/g, (_, tag: string, name: string) => {
    const found = findValue(page, tag, name);
    if (found === undefined) throw new UsageError(`no <${tag} name="${name}"> on the previous page`);
    return found;
  });
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
