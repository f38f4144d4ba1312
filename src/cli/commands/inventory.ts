/**
 * `payguard inventory URL…`: crawl a storefront and list every place its pages send data, load
 * code or navigate; draft a first policy, or compare with the policy in force.
 */
import { writeFile } from 'node:fs/promises';
import { KeyError, PolicyError, UsageError } from '../../errors.js';
import { compareWithPolicy, type InventoryDiff } from '../../inventory/compare.js';
import { crawl } from '../../inventory/crawl.js';
import { readSteps } from '../../inventory/session.js';
import { learnInlineTemplates } from '../../inventory/templates.js';
import { draftPolicyYaml } from '../../inventory/draft.js';
import { buildInventory, type InventoryItem } from '../../inventory/inventory.js';
import { loadPublicKeys, readSignedPolicy } from '../../policy/load.js';
import { templateLabel } from '../../policy/inline-template.js';
import { ALLOW_KINDS, type AllowKind, type Policy } from '../../policy/model.js';
import { DEFAULT_CHARSET } from '../../policy/semantic.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard inventory URL... [options]

Fetches the pages (straight from the storefront, or through a running payguard), follows
same-origin links up to --crawl pages, and lists every form target, script (URL and the SRI
sha384 of the body fetched), frame, navigation target, connection target, image, stylesheet,
font, audio/video/track, web app manifest (in markup, Link headers, and the stylesheets the
pages load) and inline script hash, with the pages each appears on. The text listing never
prints query strings.

Without --policy, writes a draft policy (why: TODO on every entry; payguard sign refuses it
until each is justified). With --policy, prints what is new, gone, or changed hash.

Options:
  --crawl N           fetch at most N pages (default: only the URLs given)
  --site ORIGIN       the storefront's public origin, when fetching from another address
                      (default: the policy's site, else the first URL's origin)
  --policy FILE       compare with this signed policy (needs --public-key)
  --public-key FILE   trusted public key (repeatable)
  --out FILE          where to write the draft (default payguard-draft.yaml; never overwritten)
  --timeout MS        per-request timeout (default 10000)
  --max-bytes N       largest page or script fetched (default 5242880)
  --sessions N        shopper sessions, each with its own cookies (default 1)
  --renderings N      fetches of each page per session (default 1); with more than one
                      rendering in all, inline code whose literals vary is drafted as a
                      template with typed slots, the rest by exact hash
  --steps FILE        requests each session makes first (add to cart…): a YAML list of
                      { get: PATH } and { post: PATH, form: {…} | json: …, headers: {…} };
                      in a path, header, form value or JSON string, "{{input:NAME}}",
                      "{{meta:NAME}}" (an earlier page's input or meta tag),
                      "{{json:data.cartId}}" (an earlier JSON answer) and
                      "{{cookie:NAME}}" are filled from what the steps before answered
  --json              print JSON
  -h, --help          show this help

Exit status: 0 done (with --policy: nothing new and no changed hash); 1 with --policy,
something new or a changed hash, or the policy/draft could not be read or written; 2 usage error.
`;

export const inventoryCommand: Command = {
  name: 'inventory',
  summary: 'crawl a storefront, list its scripts/forms/frames, draft or compare a policy',
  usage: USAGE,
  async run(argv) {
    const options = parseInventoryArgs(argv);
    let policy: Policy | undefined;
    try {
      if (options.policyFile) policy = (await readSignedPolicy({ policyFile: options.policyFile }, await loadPublicKeys(options.publicKeys))).policy;
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof KeyError)) throw err;
      process.stderr.write(`payguard inventory: ${err.message}\n`);
      return 1;
    }
    const site = options.site ?? policy?.site ?? new URL(options.urls[0]!).origin;
    const steps = options.stepsFile ? await readSteps(options.stepsFile) : undefined;
    const result = await crawl({
      startUrls: options.urls,
      maxPages: options.maxPages,
      limits: options.limits,
      policy: policy ?? emptyPolicy(site),
      sessions: options.sessions,
      renderings: options.renderings,
      ...(steps ? { steps } : {}),
    });
    // With more than one rendering, inline code is drafted as what it is: templates where literals vary.
    const learned = options.sessions * options.renderings > 1 ? learnInlineTemplates(result.inlineSamples) : undefined;
    const items = buildInventory(result, site);
    const pages = result.pages.map((p) => p.page);
    for (const problem of result.problems) process.stderr.write(`payguard inventory: ${problem}\n`);
    if (policy) {
      const diff = compareWithPolicy(items, policy);
      process.stdout.write(options.json ? JSON.stringify({ pages, items, problems: result.problems, diff }, null, 2) + '\n' : formatItems(items, pages) + formatDiff(diff));
      return diff.new.length > 0 || diff.changedHash.length > 0 ? 1 : 0;
    }
    const draft = draftPolicyYaml(items, site, pages, learned);
    try {
      await writeFile(options.out, draft, { flag: 'wx' });
    } catch (err) {
      process.stderr.write(`payguard inventory: cannot write the draft ${options.out}: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(options.json ? JSON.stringify({ pages, items, problems: result.problems, draft: options.out }, null, 2) + '\n' : formatItems(items, pages) + `wrote the draft policy ${options.out}\n`);
    return 0;
  },
};

/** Verifying needs a policy; a draft run verifies against one that allows nothing but self. */
function emptyPolicy(site: string): Policy {
  const allow = Object.fromEntries(ALLOW_KINDS.map((k) => [k, []])) as unknown as Policy['allow'];
  return { schema: 1, serial: 1, site, routes: [], allow, defaultCharset: DEFAULT_CHARSET };
}

function formatItems(items: readonly InventoryItem[], pages: readonly string[]): string {
  const lines = [`${pages.length} page(s): ${pages.join(' ')}`];
  for (const list of ALLOW_KINDS) {
    const inList = items.filter((i) => i.list === list);
    if (inList.length === 0) continue;
    lines.push(`${HEADINGS[list]}:`);
    for (const i of inList) {
      lines.push(`  ${display(i.address)}${i.self ? ' (self)' : ''}${i.sri ? ` ${i.sri}` : ''}`);
      lines.push(`    on ${i.pages.join(' ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

const HEADINGS: Record<AllowKind, string> = { form: 'form targets', script: 'scripts', frame: 'frames', navigate: 'navigation targets', connect: 'connection targets', image: 'images', style: 'stylesheets', font: 'fonts', media: 'audio, video and tracks', manifest: 'web app manifests', inline: 'inline code (sha256)' };

/** Addresses print without their query string: it may carry personal data. */
function display(address: string): string {
  if (!/^https?:/.test(address)) return address.split(/[?#]/)[0]!.slice(0, 80);
  const u = new URL(address);
  return u.origin + u.pathname + (u.search ? '?…' : '');
}

function formatDiff(diff: InventoryDiff): string {
  const lines = ['compared with the policy:'];
  for (const i of diff.new) lines.push(`  NEW      ${i.list}  ${display(i.address)}${i.sri ? ` ${i.sri}` : ''}  (on ${i.pages.join(' ')})`);
  for (const c of diff.changedHash) lines.push(`  CHANGED  script  ${display(c.item.address)}: serves ${c.item.sri}, policy expects ${c.expected.join(' ')}`);
  for (const g of diff.gone) {
    const e = g.entry;
    lines.push(`  GONE     ${g.list}  ${e.type === 'origin' ? e.origin : e.type === 'url' ? display(e.url) : e.type === 'hash' ? e.hash : templateLabel(e.template)} (not seen on the crawled pages)`);
  }
  if (lines.length === 1) lines.push('  no differences');
  return lines.join('\n') + '\n';
}

interface InventoryOptions {
  readonly urls: readonly string[];
  readonly maxPages: number;
  readonly site: string | undefined;
  readonly policyFile: string | undefined;
  readonly publicKeys: readonly string[];
  readonly out: string;
  readonly json: boolean;
  readonly limits: { readonly timeoutMs: number; readonly maxBytes: number };
  readonly sessions: number;
  readonly renderings: number;
  readonly stepsFile: string | undefined;
}

function parseInventoryArgs(argv: readonly string[]): InventoryOptions {
  const parsed = parseCommandLine(argv, {
    crawl: { type: 'string' },
    site: { type: 'string' },
    policy: { type: 'string' },
    'public-key': { type: 'string', multiple: true },
    out: { type: 'string' },
    timeout: { type: 'string' },
    'max-bytes': { type: 'string' },
    json: { type: 'boolean' },
    sessions: { type: 'string' },
    renderings: { type: 'string' },
    steps: { type: 'string' },
  });
  const v = parsed.values;
  const urls = parsed.positionals;
  if (urls.length === 0) throw new UsageError('give at least one URL');
  for (const u of urls) {
    if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) throw new UsageError(`${u} is not an http(s) URL`);
  }
  if (v.policy && !v['public-key']?.length) throw new UsageError('--policy needs --public-key');
  let site: string | undefined;
  if (v.site !== undefined) {
    if (!URL.canParse(v.site)) throw new UsageError(`--site ${v.site} is not an origin`);
    site = new URL(v.site).origin;
  }
  return {
    urls,
    maxPages: positiveInt('--crawl', v.crawl) ?? urls.length,
    site,
    policyFile: v.policy,
    publicKeys: v['public-key'] ?? [],
    out: v.out ?? 'payguard-draft.yaml',
    json: v.json === true,
    limits: { timeoutMs: positiveInt('--timeout', v.timeout) ?? 10_000, maxBytes: positiveInt('--max-bytes', v['max-bytes']) ?? 5 * 1024 * 1024 },
    sessions: positiveInt('--sessions', v.sessions) ?? 1,
    renderings: positiveInt('--renderings', v.renderings) ?? 1,
    stepsFile: v.steps,
  };
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}
