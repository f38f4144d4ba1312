/**
 * `payguard scan`: verify one page (a built file, or a URL) against the signed policy, the same
 * way the proxy does, and print every finding. For release CI: exit 0 clean, 1 violations,
 * 2 when the page could not be verified at all (bad policy, refused page, unreadable input).
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { UsageError, VerifyRefusal } from '../../errors.js';
import { checkFloor, readFloor } from '../../policy/floor.js';
import { loadPublicKeys, readSignedPolicy } from '../../policy/load.js';
import type { Policy, RouteMode } from '../../policy/model.js';
import type { PolicyInForce } from '../../policy/in-force.js';
import { checkDecodable, contentCodings } from '../../proxy/document/content-coding.js';
import { classifyResponse, hasNoBody, typeDecision } from '../../proxy/document/type.js';
import { decide, type Decision, type Inspection } from '../../proxy/verdict/decide.js';
import { SINK_PATH } from '../../reserved-paths.js';
import { rewriteDocument, sniffHtml, verifyDocument, verifyHeaders } from '../../verify/index.js';
import type { Finding, HeaderList, VerifiedDocument } from '../../verify/types.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';
import { fetchBounded, FetchFailure } from '../../inventory/fetch.js';

const USAGE = `Usage: payguard scan FILE|URL --policy POLICY --public-key FILE [options]

Verifies one page against the signed policy exactly as the proxy would, and prints every
place it can send data, load code or navigate: a table, or JSON with --json.

FILE is read as the exact bytes the storefront serves, with the type its extension gives
(.xhtml, .xml, .svg: XML documents, which serve refuses on protected routes; anything else:
text/html). URL (http or https) is fetched once (no redirects followed: a redirect is checked
as a Location finding) and judged with the response's headers. The verdict is serve's: the
same type, coding, header and document checks, and the same decision (printed as "serve:").

Options:
  --policy FILE       the signed policy (FILE.minisig beside it)
  --public-key FILE   a trusted minisign public key; repeat during a key rotation
  --url PUBLIC-URL    the URL shoppers see the page at (default: the policy's site plus the
                      fetched URL's path, or the site's "/" for a FILE). The route it falls
                      under decides the mode: inline code is a violation only on block and
                      rewrite routes, so scan checkout pages with --url https://shop/checkout/...
  --json              print JSON instead of a table
  --state-dir DIR     also refuse a policy serial lower than the one accepted in DIR
                      (read-only: scan never raises the rollback floor)
  -h, --help          show this help

Exit status: 0 no violations; 1 violations; 2 error (bad policy or key, a page payguard
refuses to verify, an unreadable file or URL).
`;

/** Far above a real page; the proxy's own inspection limit is of the same order. */
const MAX_PAGE_BYTES = 10 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 15_000;

interface ScanOptions {
  readonly source: string;
  readonly policyFile: string;
  readonly publicKeyFiles: readonly string[];
  readonly publicUrl: string | undefined;
  readonly json: boolean;
  readonly stateDir: string | undefined;
}

interface Page {
  readonly bytes: Uint8Array;
  readonly headers: HeaderList;
  readonly status: number;
  /** The path and query the page was fetched at (a URL source), for the default public URL. */
  readonly pathAndQuery?: string;
}

/** Input that could not be read: reported on stderr, exit 2 (not a usage mistake). */
class UnreadablePage extends Error {}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'verify one page (file or URL) against the signed policy',
  usage: USAGE,
  async run(argv) {
    const options = parseScanArgs(argv);
    const inForce = await loadPolicy(options);
    let page: Page;
    try {
      page = isUrl(options.source) ? await fetchPage(options.source) : await readPage(options.source);
    } catch (err) {
      if (!(err instanceof UnreadablePage)) throw err;
      process.stderr.write(`payguard scan: ${err.message}\n`);
      return 2;
    }
    const publicUrl = publicUrlOf(options, page, inForce);
    const match = inForce.compiled.route(pathAndQueryOf(publicUrl));
    const mode = match.mode;
    // serve's decision, not a second one: the same type stage, codings, header judgement, verifier
    // and decide() (issue 17 class 5: scan reported an XHTML page clean that serve refuses).
    const inspection = inspectPage(page, publicUrl, inForce.policy, mode);
    const decision = decide(mode, inspection, match.route?.codeRemoval);
    if (inspection.kind === 'refused') {
      const err = inspection.refusal;
      const report = { url: publicUrl, mode, verdict: decision.verdict, refused: err.reason, detail: err.message };
      if (options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      process.stderr.write(`payguard scan: refused (${err.reason}): the page cannot be verified, and would be blocked on a protected route: ${err.message}\n`);
      return 2;
    }
    process.stdout.write(options.json ? jsonReport(publicUrl, mode, inForce, inspection, decision) : tableReport(publicUrl, mode, inspection, decision));
    return decision.violations.length === 0 ? 0 : 1;
  },
};

/**
 * What serve's examination (src/proxy/document/examine.ts) finds out about this response, as an
 * Inspection for decide(): the headers (Location, Refresh, Link, Speculation-Rules), the type
 * (typeDecision: non-documents pass, XML documents and 206 are refused), the content codings as the
 * browser decodes them, the sniffer for untyped bodies, and the verifier (and on rewrite routes the
 * rewrite, as the verifier worker does).
 */
function inspectPage(page: Page, url: string, policy: Policy, mode: RouteMode): Inspection {
  let headerViolations: readonly Finding[];
  try {
    headerViolations = verifyHeaders(page.headers, url, policy).filter((f) => !f.allowed);
    const type = classifyResponse(page.headers);
    if (hasNoBody(page.status, 'GET')) return { kind: 'headers-only', headerViolations };
    const decided = typeDecision(type, page.status);
    if (decided.kind === 'refuse') return { kind: 'refused', refusal: decided.refusal, headerViolations };
    if (decided.kind === 'not-a-document') return { kind: 'headers-only', headerViolations };
    // A fetched page arrives decoded (fetchBounded); a list Chromium would not decode is refused as serve refuses it.
    checkDecodable(contentCodings(page.headers));
    if (type.kind === 'sniff' && !sniffHtml(page.bytes)) return { kind: 'headers-only', headerViolations };
  } catch (err) {
    if (!(err instanceof VerifyRefusal)) throw err;
    return { kind: 'refused', refusal: err, headerViolations: [] };
  }
  const input = { bytes: page.bytes, url, headers: page.headers.filter(([name]) => name === 'content-type'), policy, mode };
  try {
    const verified = verifyDocument(input);
    const rewrite = mode === 'rewrite' && headerViolations.length === 0 && verified.violations.length > 0;
    const rewritten = rewrite ? rewriteDocument(input, verified, { sinkPath: SINK_PATH }) : undefined;
    return { kind: 'document', verified, rewritten, headerViolations };
  } catch (err) {
    if (!(err instanceof VerifyRefusal)) throw err;
    return { kind: 'refused', refusal: err, headerViolations };
  }
}

function parseScanArgs(argv: readonly string[]): ScanOptions {
  const parsed = parseCommandLine(argv, {
    policy: { type: 'string' },
    'public-key': { type: 'string', multiple: true },
    url: { type: 'string' },
    json: { type: 'boolean' },
    'state-dir': { type: 'string' },
  });
  const { values, positionals } = parsed;
  const [source, ...extra] = positionals;
  if (source === undefined || extra.length > 0) throw new UsageError('give exactly one FILE or URL to scan');
  if (values.policy === undefined) throw new UsageError('--policy is required');
  const publicKeyFiles = values['public-key'] ?? [];
  if (publicKeyFiles.length === 0) throw new UsageError('at least one --public-key is required');
  if (values.url !== undefined && !isUrl(values.url)) throw new UsageError(`--url must be an absolute http(s) URL, not "${values.url}"`);
  return {
    source,
    policyFile: values.policy,
    publicKeyFiles,
    publicUrl: values.url,
    json: values.json ?? false,
    stateDir: values['state-dir'],
  };
}

/** Signature and schema as `serve` checks them; the rollback floor only read, never raised. */
async function loadPolicy(options: ScanOptions): Promise<PolicyInForce> {
  const inForce = await readSignedPolicy({ policyFile: options.policyFile }, await loadPublicKeys(options.publicKeyFiles));
  if (options.stateDir !== undefined) checkFloor(inForce.policy.serial, await readFloor(options.stateDir), options.policyFile);
  return inForce;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s) && URL.canParse(s);
}

async function readPage(file: string): Promise<Page> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new UnreadablePage(`${file} is not a file`);
    if (info.size > MAX_PAGE_BYTES) throw new UnreadablePage(`${file} is larger than ${MAX_PAGE_BYTES} bytes`);
    // A file has no response headers: the type is the one a static server (and Chromium's file://)
    // gives its extension, the charset comes from a BOM, a meta, or the policy's default.
    return { bytes: new Uint8Array(await readFile(file)), headers: [['content-type', typeOfFile(file)]], status: 200 };
  } catch (err) {
    if (err instanceof UnreadablePage) throw err;
    throw new UnreadablePage(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Extensions whose documents Chromium renders other than as HTML (net/base/mime_util.cc's primary mappings). */
const FILE_TYPES: Readonly<Record<string, string>> = {
  '.xhtml': 'application/xhtml+xml',
  '.xht': 'application/xhtml+xml',
  '.xml': 'text/xml',
  '.svg': 'image/svg+xml',
  '.svgz': 'image/svg+xml',
  '.xsl': 'text/xml',
  '.xslt': 'application/xslt+xml',
  '.mml': 'application/mathml+xml',
};

function typeOfFile(file: string): string {
  return FILE_TYPES[extname(file).toLowerCase()] ?? 'text/html';
}

async function fetchPage(source: string): Promise<Page> {
  const url = new URL(source);
  try {
    const fetched = await fetchBounded(
      source,
      { timeoutMs: FETCH_TIMEOUT_MS, maxBytes: MAX_PAGE_BYTES, acceptEncoding: 'gzip, deflate, br' },
      'text/html',
    );
    return { bytes: fetched.bytes, headers: fetched.headers, status: fetched.status, pathAndQuery: url.pathname + url.search };
  } catch (err) {
    // Messages name origin and path only (FetchFailure's shown()): a query string may carry personal data.
    if (err instanceof FetchFailure) throw new UnreadablePage(err.message);
    throw err;
  }
}

function publicUrlOf(options: ScanOptions, page: Page, inForce: PolicyInForce): string {
  if (options.publicUrl !== undefined) return new URL(options.publicUrl).href;
  return new URL(page.pathAndQuery ?? '/', inForce.policy.site).href;
}

function pathAndQueryOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

function tableReport(url: string, mode: RouteMode, inspection: Inspection, decision: Decision): string {
  const verified = inspection.kind === 'document' ? inspection.verified : undefined;
  const findings = allFindings(inspection);
  const rows = findings.map((f) => [
    f.kind,
    f.allowed ? 'allowed' : 'VIOLATION',
    f.element + (f.attribute ? ` ${f.attribute}` : '') + (f.context ? ` (${f.context})` : ''),
    `${f.line}:${f.col}`,
    target(f),
    f.allowed ? (f.entry?.why ?? '') : (f.reason ?? ''),
  ]);
  const header = ['KIND', 'VERDICT', 'ELEMENT', 'LINE:COL', 'URL', 'REASON / WHY'];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]): string => cells.map((c, i) => clip(c, widths[i] ?? 0).padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const violations = findings.filter((f) => !f.allowed).length;
  const reading = verified ? `decoded as ${verified.encoding} from ${verified.encodingSource}` : 'not a document: headers only';
  const summary =
    `${violations} violation${violations === 1 ? '' : 's'}, ` +
    `${findings.length} finding${findings.length === 1 ? '' : 's'} ` +
    `(${url}, ${mode} mode, ${reading})`;
  return [line(header), ...rows.map(line), '', summary, `serve: ${servedAs(decision)}`, ''].join('\n');
}

/** The document's findings and then the headers' violations (serve judges both). */
function allFindings(inspection: Inspection): Finding[] {
  if (inspection.kind === 'pinned-script') return [];
  return [...(inspection.kind === 'document' ? inspection.verified.findings : []), ...inspection.headerViolations];
}

/** What serve would do with this page on its route, in the words of the verdict metric. */
function servedAs(decision: Decision): string {
  return decision.action === 'block' ? `${decision.verdict} (${decision.reason})` : decision.verdict;
}

/** What the finding points at: its resolved URL, else its first CSP hash (inline code), else the raw value. */
function target(f: Finding): string {
  return f.url ?? f.hashes?.[0] ?? f.raw ?? '';
}

function clip(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, width - 1) + '…';
}

function jsonReport(url: string, mode: RouteMode, inForce: PolicyInForce, inspection: Inspection, decision: Decision): string {
  const verified = inspection.kind === 'document' ? inspection.verified : undefined;
  const findings = allFindings(inspection);
  const report = {
    url,
    mode,
    verdict: decision.verdict,
    ...(decision.action === 'block' ? { reason: decision.reason } : {}),
    policy: { file: inForce.file, serial: inForce.policy.serial, keyId: inForce.keyId, sha256: inForce.sha256 },
    ...(verified ? { encoding: verified.encoding, encodingSource: verified.encodingSource } : {}),
    violations: findings.filter((f) => !f.allowed).length,
    findings,
  };
  return JSON.stringify(report, null, 2) + '\n';
}
