/**
 * `payguard pin DIR --base /static/`: the release manifest of a build (issue 17, class 3). Every
 * .js, .mjs, .cjs and .json file under DIR is hashed as the browser's SRI check hashes it (the
 * file's bytes, before any content coding the server adds) and listed under the URL path it is
 * served at. The result is the policy's `firstParty` section: printed, written to a file, or put
 * into a policy in place (`--policy`) by the release job that builds the shop, before it signs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { Document, parseDocument } from 'yaml';
import { PolicyError, UsageError } from '../../errors.js';
import { firstPartyKey } from '../../policy/first-party.js';
import { decodeUtf8, readPolicyBytes } from '../../policy/load.js';
import { parsePolicyText } from '../../policy/parse.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard pin DIR --base PATH [--algorithm ALG] [--out FILE | --policy POLICY] [--json]

Hashes every .js, .mjs and .cjs file (scripts) and every .json file (data the scripts
read) under DIR, the build output the site serves at PATH, and prints the policy's
release manifest for them:

  firstParty:
    base: [/static/]
    scripts:
      /static/app.3f9a1c.js: sha384-...
    data:
      /static/asset-manifest.json: sha384-...

With it in the signed policy, payguard serves those files only when their bytes match,
whatever the query string, and refuses any other code file under PATH and any same-origin
script the manifest does not list. Symbolic links are not followed (listed on stderr).

Options:
  --base PATH       the URL path DIR is served at, starting and ending with "/" (required)
  --algorithm ALG   sha256, sha384 (default) or sha512
  --out FILE        write the manifest to FILE (JSON when FILE ends in .json, else YAML)
  --policy POLICY   put the manifest into POLICY in place: its files under PATH are replaced
                    by what DIR holds now, the rest of firstParty (other bases, generated
                    scripts) is kept, and the serial is raised. The result is validated before
                    it is written. Sign it afterwards (payguard sign).
  --json            print JSON instead of YAML
  -h, --help        show this help

Exit status: 0 done; 1 a file cannot be pinned, or POLICY is invalid; 2 usage error.
`;

const ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** Scripts and modules by extension; JSON is data the scripts read (an asset manifest, a config). */
const SCRIPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
const DATA_EXTENSIONS = new Set(['.json']);

/** A build larger than this is not a build (a home directory passed by mistake): refused rather than walked without end. */
const MAX_ENTRIES = 200_000;

/** The firstParty section as payguard pin writes it. */
export interface PinnedRelease {
  readonly base: readonly string[];
  readonly scripts: Readonly<Record<string, string>>;
  readonly data: Readonly<Record<string, string>>;
}

export interface PinResult {
  readonly release: PinnedRelease;
  /** Paths not pinned, and why (symbolic links). */
  readonly skipped: readonly string[];
}

export const pinCommand: Command = {
  name: 'pin',
  summary: "hash a build's scripts and JSON into the policy's release manifest (firstParty)",
  usage: USAGE,
  async run(argv) {
    const options = parsePinArgs(argv);
    let result: PinResult;
    try {
      result = await pinDirectory(options.dir, options.base, options.algorithm);
    } catch (err) {
      if (!(err instanceof PinError)) throw err;
      process.stderr.write(`payguard pin: ${err.message}\n`);
      return 1;
    }
    for (const skipped of result.skipped) process.stderr.write(`payguard pin: skipped ${skipped}\n`);
    const counted = `${Object.keys(result.release.scripts).length} scripts, ${Object.keys(result.release.data).length} data files`;
    if (options.policy) {
      try {
        const serial = await putIntoPolicy(options.policy, result.release);
        process.stderr.write(`payguard pin: ${options.policy}: ${counted} under ${options.base}, serial raised to ${serial}; sign it next\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err;
        process.stderr.write(`payguard pin: ${err.message}\n`);
        return 1;
      }
    }
    const json = options.json || (options.out?.toLowerCase().endsWith('.json') ?? false);
    const comment = `payguard pin ${options.dir} --base ${options.base}: ${counted}`;
    const text = json ? JSON.stringify({ firstParty: withoutEmpty(result.release) }, null, 2) + '\n' : manifestYaml(result.release, comment);
    if (options.out) {
      await writeAtomically(options.out, text);
      process.stderr.write(`payguard pin: wrote ${options.out} (${counted})\n`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  },
};

interface PinOptions {
  readonly dir: string;
  readonly base: string;
  readonly algorithm: Algorithm;
  readonly out: string | undefined;
  readonly policy: string | undefined;
  readonly json: boolean;
}

function parsePinArgs(argv: readonly string[]): PinOptions {
  const { values, positionals } = parseCommandLine(argv, {
    base: { type: 'string' },
    algorithm: { type: 'string' },
    out: { type: 'string' },
    policy: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new UsageError('give exactly one DIR (the build output)');
  const base = values.base;
  if (base === undefined) throw new UsageError('--base is required (the URL path DIR is served at, e.g. /static/)');
  if (!base.startsWith('/') || base.startsWith('//') || !base.endsWith('/') || /[?#;]/.test(base)) {
    throw new UsageError(`--base "${base}": a URL path starting and ending with "/", without query, fragment or ";"`);
  }
  const algorithm = (values.algorithm ?? 'sha384') as Algorithm;
  if (!ALGORITHMS.includes(algorithm)) throw new UsageError(`--algorithm "${values.algorithm}": one of ${ALGORITHMS.join(', ')}`);
  if (values.out !== undefined && values.policy !== undefined) throw new UsageError('give --out or --policy, not both');
  return { dir, base, algorithm, out: values.out, policy: values.policy, json: values.json === true };
}

/** A build that cannot be pinned as it is (exit 1). */
export class PinError extends Error {}

/** Walks DIR (no symbolic links followed) and hashes every script and JSON file under it. */
export async function pinDirectory(dir: string, base: string, algorithm: Algorithm = 'sha384'): Promise<PinResult> {
  const scripts: Record<string, string> = {};
  const data: Record<string, string> = {};
  const skipped: string[] = [];
  const owners = new Map<string, string>();
  const pending = [dir];
  let seen = 0;
  try {
    await lstat(dir);
  } catch (err) {
    throw new PinError(`${dir}: ${(err as Error).message}`);
  }
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) throw new PinError(`${dir}: more than ${MAX_ENTRIES} entries; is it the build output?`);
      const file = join(current, entry.name);
      if (entry.isSymbolicLink()) {
        skipped.push(`${file} (a symbolic link: pin what it points to under its own path)`);
        continue;
      }
      if (entry.isDirectory()) {
        pending.push(file);
        continue;
      }
      const ext = extname(entry.name).toLowerCase();
      const list = SCRIPT_EXTENSIONS.has(ext) ? scripts : DATA_EXTENSIONS.has(ext) ? data : undefined;
      if (!entry.isFile() || list === undefined) continue;
      const path = servedPath(base, relative(dir, file).split(sep));
      const key = firstPartyKey(path);
      const owner = owners.get(key);
      if (owner !== undefined) throw new PinError(`${path} and ${owner} are the same path to a server that ignores case; rename one`);
      owners.set(key, path);
      list[path] = `${algorithm}-${createHash(algorithm).update(await readFile(file)).digest('base64')}`;
    }
  }
  // The manifest is the list of the shop's scripts (`scripts` is required): a build without any is
  // not the build output, and an empty list would refuse every same-origin script.
  if (Object.keys(scripts).length === 0) throw new PinError(`${dir}: no .js, .mjs or .cjs file under it; is it the build output?`);
  return { release: { base: [base], scripts: sorted(scripts), data: sorted(data) }, skipped };
}

/**
 * The path a browser asks for to get this file: the segments percent-encoded as the WHATWG URL
 * parser's path state does (so a page's `src` and the manifest agree), `%`, `?` and `#` first
 * since the parser would read them as escapes, a query and a fragment.
 */
function servedPath(base: string, segments: readonly string[]): string {
  for (const segment of segments) {
    if (/[;\\]/.test(segment)) throw new PinError(`${segments.join('/')}: a ";" or "\\" in a file name is read differently by servers (path parameters, a separator); it cannot be pinned`);
  }
  const escaped = segments.map((s) => s.replace(/%/g, '%25').replace(/\?/g, '%3F').replace(/#/g, '%23'));
  return new URL(base + escaped.join('/'), 'http://payguard.invalid').pathname;
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function manifestYaml(release: PinnedRelease, comment: string): string {
  const doc = new Document({ firstParty: withoutEmpty(release) });
  doc.commentBefore = ` ${comment}`;
  return doc.toString({ lineWidth: 0 });
}

/** The section as it goes into a policy: `data: {}` would not validate (an empty mapping is a typo or a disabled check). */
export function withoutEmpty(release: PinnedRelease): object {
  return { base: release.base, scripts: release.scripts, ...(Object.keys(release.data).length > 0 ? { data: release.data } : {}) };
}

/**
 * The release's files replace the policy's files under the same base; other bases and the
 * generated scripts stay. The serial is raised (a new release is a new policy), and the result
 * must validate before it replaces the file.
 */
async function putIntoPolicy(policyFile: string, release: PinnedRelease): Promise<number> {
  const text = decodeUtf8(await readPolicyBytes(policyFile), policyFile);
  const isJson = policyFile.toLowerCase().endsWith('.json');
  const current = parsePolicyText(text, policyFile);
  const baseKey = firstPartyKey(release.base[0]!);
  const keep = (record: Readonly<Record<string, { path: string; integrity: readonly string[] }>> | undefined): Record<string, string> =>
    Object.fromEntries(Object.values(record ?? {}).filter((f) => !firstPartyKey(f.path).startsWith(baseKey)).map((f) => [f.path, f.integrity.join(' ')]));
  const existing = current.firstParty;
  const bases = [...new Set([...(existing?.base.map((b) => b.path) ?? []), ...release.base])];
  const scripts = sorted({ ...keep(existing?.scripts), ...release.scripts });
  const dataFiles = sorted({ ...keep(existing?.data), ...release.data });
  const generated = Object.values(existing?.generated ?? {}).map((g) => ({ path: g.path, why: g.why }));
  const firstParty = {
    base: bases,
    scripts,
    ...(Object.keys(dataFiles).length > 0 ? { data: dataFiles } : {}),
    ...(generated.length > 0 ? { generated } : {}),
  };
  const serial = current.serial + 1;
  let next: string;
  if (isJson) {
    const data = JSON.parse(text) as Record<string, unknown>;
    next = JSON.stringify({ ...data, serial, firstParty }, null, 2) + '\n';
  } else {
    // The YAML document is edited in place, so the reviewer's comments elsewhere survive.
    const doc = parseDocument(text, { version: '1.2' });
    doc.setIn(['serial'], serial);
    doc.setIn(['firstParty'], doc.createNode(firstParty));
    next = doc.toString({ lineWidth: 0 });
  }
  parsePolicyText(next, policyFile);
  await writeAtomically(policyFile, next);
  return serial;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
