/**
 * A deterministic measure of the verifier's work, for "terminates within a bounded time per KB"
 * without a clock (timings on 2 shared cores are noise). It counts, while one call runs:
 *   - characters handed to parse5's tokenizer (every parse: the document, each select re-parse,
 *     each noscript and srcdoc reading);
 *   - elements parse5 creates (tree building, the adoption agency's clones included);
 *   - tokens the fast scanner hands its tree builder (src/verify/fast/, the path taken for
 *     unambiguous documents; its scan itself is one pass over the text);
 *   - characters searched by String indexOf / lastIndexOf / includes (the fast scanner and the
 *     finders search the text natively: a search from one place to the end of the document, once
 *     per element, is quadratic however few calls it takes);
 *   - WHATWG URL parses (every resolution of every candidate against every base);
 *   - the judge's policy look-ups (one per verdict: finding × base candidate).
 * These are the loops whose trip counts depend on the input. If each grows linearly with the page,
 * so does the verifier's time (parse5 and the URL parser are linear per call).
 */
import { defaultTreeAdapter, Tokenizer } from 'parse5';
import type { Policy } from '../../../src/policy/model.js';
import { FastTreeBuilder } from '../../../src/verify/fast/tree-builder.js';

export interface Work {
  readonly tokenizedChars: number;
  readonly elements: number;
  readonly fastTokens: number;
  readonly searchedChars: number;
  readonly urlParses: number;
  readonly policyLookups: number;
}

export function totalWork(w: Work): number {
  return w.tokenizedChars + w.elements + w.fastTokens + w.searchedChars + w.urlParses + w.policyLookups;
}

/**
 * Runs `body` with counting wrappers installed around parse5's tokenizer and tree adapter, the
 * global URL class, and the policy's `allow` lists; restores them whatever happens.
 */
export function countWork<T>(policy: Policy, body: (countedPolicy: Policy) => T): { work: Work; result: T | unknown } {
  const counts = { tokenizedChars: 0, elements: 0, fastTokens: 0, searchedChars: 0, urlParses: 0, policyLookups: 0 };
  const restoreFast = countFastTokens(() => counts.fastTokens++);
  const restoreSearches = countStringSearches((n) => (counts.searchedChars += n));
  const write = Tokenizer.prototype.write;
  const createElement = defaultTreeAdapter.createElement;
  const OriginalURL = globalThis.URL;
  Tokenizer.prototype.write = function countedWrite(this: Tokenizer, chunk: string, isLastChunk: boolean): void {
    counts.tokenizedChars += chunk.length;
    return write.call(this, chunk, isLastChunk);
  };
  defaultTreeAdapter.createElement = (...args) => {
    counts.elements++;
    return createElement(...args);
  };
  globalThis.URL = class CountedURL extends OriginalURL {
    constructor(url: string | URL, base?: string | URL) {
      counts.urlParses++;
      super(url, base);
    }
  } as typeof URL;
  // The loader freezes policies, and a Proxy may not change a frozen property's value: count on copies.
  const allow = new Proxy(
    { ...policy.allow },
    {
      get(target, key, receiver) {
        counts.policyLookups++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    },
  );
  const countedPolicy: Policy = { ...policy, allow };
  try {
    let result: T | unknown;
    try {
      result = body(countedPolicy);
    } catch (err) {
      result = err;
    }
    return { work: { ...counts }, result };
  } finally {
    Tokenizer.prototype.write = write;
    defaultTreeAdapter.createElement = createElement;
    globalThis.URL = OriginalURL;
    restoreFast();
    restoreSearches();
  }
}

/** Characters each native search looks at: from its start to the hit, or to the end (or start) when there is none. */
function countStringSearches(add: (n: number) => void): () => void {
  const proto = String.prototype;
  const { indexOf, lastIndexOf, includes } = proto;
  proto.indexOf = function countedIndexOf(this: string, search: string, position?: number): number {
    const from = Math.max(0, Math.min(position ?? 0, this.length));
    const at = indexOf.call(this, search, position);
    add((at < 0 ? this.length : at) - from);
    return at;
  };
  proto.lastIndexOf = function countedLastIndexOf(this: string, search: string, position?: number): number {
    const from = Math.max(0, Math.min(position ?? this.length, this.length));
    const at = lastIndexOf.call(this, search, position);
    add(from - Math.max(at, 0));
    return at;
  };
  proto.includes = function countedIncludes(this: string, search: string, position?: number): boolean {
    add(this.length - Math.max(0, Math.min(position ?? 0, this.length)));
    return includes.call(this, search, position);
  };
  return () => Object.assign(proto, { indexOf, lastIndexOf, includes });
}

/** The fast tree builder's token entry points (whichever exist in this version). */
const FAST_TOKEN_METHODS = ['startTag', 'endTag', 'text', 'scriptText', 'endRawText'] as const;

function countFastTokens(count: () => void): () => void {
  const proto = FastTreeBuilder.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = FAST_TOKEN_METHODS.filter((m) => typeof proto[m] === 'function').map((m) => [m, proto[m]!] as const);
  for (const [name, original] of originals) {
    proto[name] = function counted(this: unknown, ...args: unknown[]): unknown {
      count();
      return original.apply(this, args);
    };
  }
  return () => {
    for (const [name, original] of originals) proto[name] = original;
  };
}
