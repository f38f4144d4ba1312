/**
 * The verifier alone, in this process: MB/s of `verifyDocument` over the generated pages and
 * the corpus pages (test/corpus/**\/*.html). CPU time (process.cpuUsage), not wall time, so a
 * busy neighbour on the shared cores does not move the figure much.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DocumentInput, VerifiedDocument } from '../src/verify/types.js';
import type { Policy } from '../src/policy/model.js';
import { categoryPage } from './pages/catalog.js';
import { checkoutPage, FIXED_CHECKOUT, randomCart } from './pages/checkout.js';
import { SITE } from './pages/origins.js';
import { seededRandom } from './pages/random.js';
import { parse as parseHtml } from 'parse5';
import { benchPolicyYaml } from './policy.js';
import { hashEntriesYaml, templatedScripts, templateEntriesYaml } from './pages/templated.js';
import { isMainModule, repoRoot } from './child.js';

export interface VerifierPageFigure {
  readonly page: string;
  readonly bytes: number;
  readonly iterations: number;
  readonly msPerPage: number;
  readonly mbPerSecond: number;
}

export interface VerifierFigures {
  /** Set when the verifier could not be measured (not built yet); the other fields are then empty. */
  readonly missing?: string;
  readonly pages: readonly VerifierPageFigure[];
  /** Bytes over CPU seconds, all generated pages together (each page weighted by its measured time). */
  readonly generatedMbPerSecond: number;
  readonly corpusMbPerSecond: number;
  readonly corpusPages: number;
  /** parse5.parse alone (decode + full DOM, no source locations) on the same bench pages: the reference. */
  readonly parse5MbPerSecond: number;
  /** Corpus pages the verifier refused (threw a VerifyRefusal), not measured. */
  readonly corpusRefused?: number;
  /**
   * The same pages with parse5 forced for every document (the fast path off), measured in the same
   * process: `generatedMbPerSecond / fullPath.generatedMbPerSecond` is what the fast path buys.
   */
  readonly fullPath?: { readonly pages: readonly VerifierPageFigure[]; readonly generatedMbPerSecond: number; readonly corpusMbPerSecond: number };
  /** Which pages the fast scanner took, and why the others went to parse5 (bail reason → pages). */
  /**
   * Issue 18: a unique checkout with ten templated inline scripts, verified against a policy that
   * allows them by template and against one that allows this rendering's exact hashes (same bytes,
   * same process, interleaved). `share` = the extra time template matching costs, over the whole.
   */
  readonly templates?: { readonly bytes: number; readonly msWithTemplates: number; readonly msWithHashes: number; readonly share: number };
  readonly fastPath?: {
    readonly generated: { readonly fast: number; readonly total: number };
    readonly corpus: { readonly fast: number; readonly total: number };
    readonly bails: Readonly<Record<string, number>>;
  };
}

type VerifyDocument = (input: DocumentInput, options?: { parser?: 'fast-when-unambiguous' | 'full' }) => VerifiedDocument;
type FastParse = (text: string, tagStarts: WeakMap<object, number>) => { bail?: string | undefined };
type DecodeDocument = (bytes: Uint8Array, headers: DocumentInput['headers'], defaultCharset: string) => { text: string };
type ParsePolicyText = (text: string, file: string) => Policy;

/** Loaded at run time: the bench must build and run its other rows before the verifier exists. */
interface LoadedVerifier {
  verifyDocument: VerifyDocument;
  parsePolicyText: ParsePolicyText;
  fastParse?: FastParse;
  decodeDocument?: DecodeDocument;
}

async function loadVerifier(): Promise<LoadedVerifier | string> {
  const verify = (await import('../src/verify/index.js')) as { verifyDocument?: VerifyDocument; fastParse?: FastParse; decodeDocument?: DecodeDocument };
  const policy = (await import('../src/policy/parse.js').catch(() => ({}))) as { parsePolicyText?: ParsePolicyText };
  if (typeof verify.verifyDocument !== 'function') return 'src/verify/index.ts does not export verifyDocument yet';
  if (typeof policy.parsePolicyText !== 'function') return 'src/policy/parse.ts does not export parsePolicyText';
  return {
    verifyDocument: verify.verifyDocument,
    parsePolicyText: policy.parsePolicyText,
    ...(verify.fastParse ? { fastParse: verify.fastParse } : {}),
    ...(verify.decodeDocument ? { decodeDocument: verify.decodeDocument } : {}),
  };
}

interface PageToVerify {
  readonly name: string;
  readonly path: string;
  readonly bytes: Uint8Array;
}

function generatedPages(): PageToVerify[] {
  const page = (name: string, path: string, html: string): PageToVerify => ({ name, path, bytes: Buffer.from(html) });
  return [
    page('checkout', '/checkout/repeated', checkoutPage(FIXED_CHECKOUT)),
    page('checkout-unique', '/checkout/unique', checkoutPage({ csrfToken: 'f'.repeat(32), orderId: 'ORD-2026-000000001', cart: randomCart(seededRandom(1)) })),
    page('page-10k', '/c/teaware-10k', categoryPage(10 * 1024)),
    page('page-1m', '/c/teaware-1m', categoryPage(1024 * 1024)),
  ];
}

const CORPUS_DIR = join(repoRoot(), 'test', 'corpus');

async function corpusPages(): Promise<PageToVerify[]> {
  let names: string[];
  try {
    names = (await readdir(CORPUS_DIR, { recursive: true })).filter((n) => n.endsWith('.html')).sort();
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name) => ({ name: relative(CORPUS_DIR, join(CORPUS_DIR, name)), path: '/checkout/', bytes: await readFile(join(CORPUS_DIR, name)) })),
  );
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Runs `work` repeatedly for about `budgetMs` of CPU after a warm-up for the JIT (a quarter of
 * the budget, at least 3 runs, so the first page measured is not charged for compiling). The
 * clock is read once per batch of about 10 ms, not per run: on small pages reading it per run
 * would cost as much as the work.
 */
function timeRuns(work: () => void, budgetMs: number, maxIterations = 100_000): { iterations: number; elapsedMs: number } {
  const warmupStart = cpuMs();
  let warmups = 0;
  for (; warmups < maxIterations && (warmups < 3 || cpuMs() - warmupStart < budgetMs / 4); warmups += 1) work();
  const estimateMs = Math.max(0.001, (cpuMs() - warmupStart) / warmups);
  const batch = Math.max(1, Math.min(1000, Math.round(10 / estimateMs)));
  const start = cpuMs();
  let iterations = 0;
  let elapsedMs = 0;
  while (iterations < maxIterations && (iterations < 3 || elapsedMs < budgetMs)) {
    for (let i = 0; i < batch; i += 1) work();
    iterations += batch;
    elapsedMs = cpuMs() - start;
  }
  return { iterations, elapsedMs };
}

function figure(page: PageToVerify, runs: { iterations: number; elapsedMs: number }): VerifierPageFigure {
  return {
    page: page.name,
    bytes: page.bytes.length,
    iterations: runs.iterations,
    msPerPage: runs.elapsedMs / runs.iterations,
    mbPerSecond: runs.elapsedMs > 0 ? (page.bytes.length * runs.iterations) / 1e6 / (runs.elapsedMs / 1000) : 0,
  };
}

function measurePage(verify: (input: DocumentInput) => VerifiedDocument, policy: Policy, page: PageToVerify, budgetMs: number): VerifierPageFigure {
  const input: DocumentInput = {
    bytes: page.bytes,
    url: SITE + page.path,
    headers: [['content-type', 'text/html; charset=utf-8']],
    policy,
    mode: 'block',
  };
  return figure(page, timeRuns(() => verify(input), budgetMs));
}

/**
 * The reference the research measured (about 32 MB/s on a quiet machine of this kind): parse5's
 * own full-DOM parse of the decoded text, measured in the same process and conditions, so the
 * verifier's figure can be read as a multiple of it even on a busy machine.
 */
function measureParse5(page: PageToVerify, budgetMs: number): VerifierPageFigure {
  const decoder = new TextDecoder('utf-8');
  return figure(page, timeRuns(() => parseHtml(decoder.decode(page.bytes)), budgetMs));
}

function aggregateMbPerSecond(figures: readonly VerifierPageFigure[]): number {
  const bytes = figures.reduce((sum, f) => sum + f.bytes * f.iterations, 0);
  const ms = figures.reduce((sum, f) => sum + f.msPerPage * f.iterations, 0);
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
}

export async function measureVerifier(budgetMsPerPage: number): Promise<VerifierFigures> {
  const loaded = await loadVerifier();
  if (typeof loaded === 'string') return { missing: loaded, pages: [], generatedMbPerSecond: 0, corpusMbPerSecond: 0, corpusPages: 0, parse5MbPerSecond: 0 };
  const policy = loaded.parsePolicyText(benchPolicyYaml('block'), 'bench-block.yaml');
  const fastWhenUnambiguous = (input: DocumentInput) => loaded.verifyDocument(input);
  const fullParse = (input: DocumentInput) => loaded.verifyDocument(input, { parser: 'full' });
  let generated: VerifierPageFigure[];
  let generatedFull: VerifierPageFigure[];
  try {
    // Interleaved page by page, so both paths see the same neighbours on the shared cores.
    generated = [];
    generatedFull = [];
    for (const page of generatedPages()) {
      generated.push(measurePage(fastWhenUnambiguous, policy, page, budgetMsPerPage));
      generatedFull.push(measurePage(fullParse, policy, page, budgetMsPerPage));
    }
  } catch (err) {
    return { missing: `verifyDocument failed on a bench page: ${String(err)}`, pages: [], generatedMbPerSecond: 0, corpusMbPerSecond: 0, corpusPages: 0, parse5MbPerSecond: 0 };
  }
  // Corpus pages are small attack cases: a smaller budget each keeps the whole corpus bounded.
  // A page the verifier refuses (a VerifyRefusal is its verdict on hostile bytes) is left out.
  const corpus: VerifierPageFigure[] = [];
  const corpusFull: VerifierPageFigure[] = [];
  const corpusMeasured: PageToVerify[] = [];
  let refused = 0;
  for (const page of await corpusPages()) {
    try {
      corpus.push(measurePage(fastWhenUnambiguous, policy, page, Math.max(20, budgetMsPerPage / 10)));
      corpusFull.push(measurePage(fullParse, policy, page, Math.max(20, budgetMsPerPage / 10)));
      corpusMeasured.push(page);
    } catch {
      refused += 1;
    }
  }
  const parse5Reference = generatedPages().map((page) => measureParse5(page, budgetMsPerPage / 2));
  const templates = measureTemplates(loaded, budgetMsPerPage);
  return {
    pages: generated,
    generatedMbPerSecond: aggregateMbPerSecond(generated),
    parse5MbPerSecond: aggregateMbPerSecond(parse5Reference),
    corpusMbPerSecond: aggregateMbPerSecond(corpus),
    corpusPages: corpus.length,
    corpusRefused: refused,
    ...(templates ? { templates } : {}),
    fullPath: { pages: generatedFull, generatedMbPerSecond: aggregateMbPerSecond(generatedFull), corpusMbPerSecond: aggregateMbPerSecond(corpusFull) },
    ...(loaded.fastParse && loaded.decodeDocument ? { fastPath: fastPathShare(loaded.fastParse, loaded.decodeDocument, policy, generatedPages(), corpusMeasured) } : {}),
  };
}

/**
 * The templated checkout both ways, three rounds interleaved, the fastest of each kept (the least
 * disturbed by neighbours on the shared cores). Undefined if either policy leaves a violation: the
 * comparison is only fair when both verify the page clean.
 */
function measureTemplates(loaded: LoadedVerifier, budgetMs: number): VerifierFigures['templates'] {
  const { markup, texts } = templatedScripts(seededRandom(18));
  const page: PageToVerify = { name: 'checkout-templated', path: '/checkout/templated', bytes: Buffer.from(checkoutPage({ csrfToken: 'e'.repeat(32), orderId: 'ORD-2026-000000018', cart: randomCart(seededRandom(18)) }).replace('</head>', `${markup}\n</head>`)) };
  const withEntries = (entries: string) => loaded.parsePolicyText(benchPolicyYaml('block').replace(/^  inline: +\[(.*)\]$/m, (_, first: string) => `  inline:\n    - ${first}\n${entries}`), 'bench-templates.yaml');
  const templated = withEntries(templateEntriesYaml());
  const hashed = withEntries(hashEntriesYaml(texts));
  const input = (policy: Policy): DocumentInput => ({ bytes: page.bytes, url: SITE + page.path, headers: [['content-type', 'text/html; charset=utf-8']], policy, mode: 'block' });
  if (loaded.verifyDocument(input(templated)).violations.length > 0 || loaded.verifyDocument(input(hashed)).violations.length > 0) return undefined;
  let withTemplates = Infinity;
  let withHashes = Infinity;
  for (let round = 0; round < 3; round++) {
    withTemplates = Math.min(withTemplates, measurePage(loaded.verifyDocument, templated, page, budgetMs / 2).msPerPage);
    withHashes = Math.min(withHashes, measurePage(loaded.verifyDocument, hashed, page, budgetMs / 2).msPerPage);
  }
  return { bytes: page.bytes.length, msWithTemplates: withTemplates, msWithHashes: withHashes, share: Math.max(0, withTemplates - withHashes) / withTemplates };
}

/** Which pages the fast scanner takes (on the text verifyDocument decodes), and the bail reasons of the rest. */
function fastPathShare(fastParse: FastParse, decode: DecodeDocument, policy: Policy, generated: readonly PageToVerify[], corpus: readonly PageToVerify[]): NonNullable<VerifierFigures['fastPath']> {
  const bails: Record<string, number> = {};
  const count = (pages: readonly PageToVerify[]): { fast: number; total: number } => {
    let fast = 0;
    for (const page of pages) {
      const { bail } = fastParse(decode(page.bytes, [['content-type', 'text/html; charset=utf-8']], policy.defaultCharset).text, new WeakMap());
      if (bail === undefined) fast += 1;
      else bails[bail] = (bails[bail] ?? 0) + 1;
    }
    return { fast, total: pages.length };
  };
  return { generated: count(generated), corpus: count(corpus), bails };
}

/**
 * Run as its own process by the harness (`node dist/bench/verifier.js BUDGET_MS`), so the figure
 * is not disturbed by the harness's heap and can be profiled with `node --cpu-prof`. Prints the
 * figures as one JSON line.
 */
if (isMainModule(import.meta.url)) {
  const budgetMs = Number(process.argv[2] ?? 1000);
  measureVerifier(Number.isFinite(budgetMs) && budgetMs > 0 ? budgetMs : 1000).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (err: unknown) => {
      process.stderr.write(`verifier: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
