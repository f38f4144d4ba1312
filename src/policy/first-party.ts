/**
 * The release manifest (`firstParty` in the policy): which of the site's own files a path names.
 * One lookup for the three places that ask (docs/policy.md "First-party code"):
 * - the verifier, for a same-origin script a page names (src/verify/judge.ts);
 * - the proxy, for a request to the site (src/proxy/passthrough/pinned-script.ts);
 * - the CSP, whose script-src lists the manifest's paths instead of the whole site (csp.ts).
 *
 * A path is looked up whatever its spelling: the query and fragment are dropped, unreserved
 * percent-encodings decoded, `;params` dropped, slashes folded and case folded (the normalisation
 * route matching uses, allow.ts), the sub-delimiters a browser leaves raw decoded (firstPartyKey), and a path with dot segments or encoded slashes is looked up
 * under every reading an upstream might take (otherReadings). Mapping many spellings onto one entry
 * is safe in this direction: the proxy hashes the bytes the upstream returns for that spelling, so a
 * spelling the upstream reads as another file fails the entry's integrity and is refused.
 */
import { RESERVED_PREFIX } from '../reserved-paths.js';
import { normaliseRequestPath, otherReadings } from './allow.js';
import type { FirstPartyFile, FirstPartyManifest, GeneratedScript, Policy } from './model.js';

/** The lookup key of a path: what every spelling of it that an upstream may serve as one file reduces to. */
export function firstPartyKey(path: string): string {
  // Beyond route normalisation: static servers percent-decode the whole path, so `a%281%29.js` is
  // the file `a(1).js`. The characters decoded here are those the WHATWG URL parser's path state
  // leaves as they are (URL §4.4 "path percent-encode set"), so a key stays one spelling of what a
  // browser sends: `;` stays encoded (a raw one starts path parameters), and so do `/`, `\`, `%`.
  return normaliseRequestPath(path).replace(/%(2[146789abc]|3a|3d|40|5b|5d|7c)/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * A path whose last segment (or any segment under a base: `/static/app.js/x` is app.js to servers
 * with path info) names a script, a module or JSON. Browsers run scripts by MIME type, not by
 * extension; the extension only says what a release put under its base, which is what this
 * decides. Script-like requests are told apart by their Sec-Fetch-Dest, not by this.
 */
const CODE_FILE = /\.(?:js|mjs|cjs|json)(?:\/|$)/;

/**
 * Fetch §"script-like" destinations (audioworklet, paintworklet, script, serviceworker,
 * sharedworker, worker) and `json` (JSON modules, `import … with { type: 'json' }`): what a browser
 * sends when the response will run as code or be read by a module as its data.
 */
export const SCRIPT_DESTINATIONS: ReadonlySet<string> = new Set(['script', 'worker', 'sharedworker', 'serviceworker', 'audioworklet', 'paintworklet', 'json']);

/** What the request says about how its response will be used (Sec-Fetch-Dest; absent on old browsers). */
export type FetchUse = 'code' | 'other' | 'unknown';

/** What the manifest says of one request to the site. */
export type FirstPartyRequest =
  /** A listed script or data file: served only when its decoded body matches `file.integrity`. */
  | { readonly kind: 'listed'; readonly list: 'scripts' | 'data'; readonly file: FirstPartyFile }
  /** A script the shop builds per request: served without a hash, counted. */
  | { readonly kind: 'generated'; readonly script: GeneratedScript }
  /** Not listed, and either requested as code or a code file under the manifest's base: refused. */
  | { readonly kind: 'unlisted'; readonly why: string };

/**
 * The manifest's verdict on a request target (path and query, as received), or undefined when the
 * manifest has nothing to say (a page, an image, an API call outside the base).
 */
export function firstPartyRequest(manifest: FirstPartyManifest, target: string, use: FetchUse): FirstPartyRequest | undefined {
  const key = firstPartyKey(target);
  if (key.startsWith(RESERVED_PREFIX)) return undefined;
  const readings = [key, ...otherReadings(key)];
  const listed = listedFiles(manifest, readings);
  if (listed.length > 1) {
    // Two readings of the path name two different files: whichever the upstream picks, the other
    // pin would be checked against the wrong bytes. Nothing legitimate spells a path so.
    return { kind: 'unlisted', why: `the path reads as ${listed.map((l) => l.file.path).join(' and ')}` };
  }
  if (listed.length === 1) return listed[0];
  const underBase = readings.find((reading) => CODE_FILE.test(reading) && manifest.base.some((base) => reading.startsWith(base.key)));
  if (underBase !== undefined) return { kind: 'unlisted', why: `a code file under the manifest's base that it does not list (${underBase})` };
  // Browsers send normalised paths: a generated script is matched only where no other reading exists.
  const generated = readings.length === 1 && Object.hasOwn(manifest.generated, key) ? manifest.generated[key] : undefined;
  if (generated) return { kind: 'generated', script: generated };
  if (use === 'code') return { kind: 'unlisted', why: 'requested as a script (Sec-Fetch-Dest) and not in the manifest' };
  return undefined;
}

/** What the manifest says of a same-origin script URL a page names: listed, generated, or undefined (unlisted). */
export function firstPartyScript(manifest: FirstPartyManifest, path: string): FirstPartyFile | GeneratedScript | undefined {
  const key = firstPartyKey(path);
  if (key.startsWith(RESERVED_PREFIX)) return { path: RESERVED_PREFIX, why: "payguard's own path, answered by payguard" };
  const readings = [key, ...otherReadings(key)];
  // A page may name a listed script by any spelling: the proxy verifies what that spelling returns.
  for (const reading of readings) if (Object.hasOwn(manifest.scripts, reading)) return manifest.scripts[reading];
  if (readings.length === 1 && Object.hasOwn(manifest.generated, key)) return manifest.generated[key];
  return undefined;
}

function listedFiles(manifest: FirstPartyManifest, readings: readonly string[]): Extract<FirstPartyRequest, { kind: 'listed' }>[] {
  const found: Extract<FirstPartyRequest, { kind: 'listed' }>[] = [];
  for (const reading of readings) {
    for (const list of ['scripts', 'data'] as const) {
      const file = Object.hasOwn(manifest[list], reading) ? manifest[list][reading] : undefined;
      if (file && !found.some((f) => f.file === file)) found.push({ kind: 'listed', list, file });
    }
  }
  return found;
}

/**
 * script-src's sources for the site's own code when the policy has a manifest: each listed script
 * and generated path on the site's origin, instead of the whole origin (CSP3 §6.7.2.12 path-part
 * matching: an exact path, the query ignored). Past `cap` paths the header would weigh on every
 * page, so the paths under a base are folded into the base directory (`https://shop/static/`): the
 * proxy refuses every code file under a base that the manifest does not list, so the browser's
 * wider reading there lets nothing unlisted run. Undefined without a manifest.
 */
export function firstPartyScriptSources(policy: Policy, cap: number): string[] | undefined {
  const manifest = policy.firstParty;
  if (!manifest) return undefined;
  const paths = [...Object.values(manifest.scripts), ...Object.values(manifest.generated)].map((f) => f.path);
  const sources = new Set<string>();
  const folded = paths.length > cap;
  if (folded) for (const base of manifest.base) sources.add(pathSource(policy.site, base.path));
  for (const path of paths) {
    if (folded && manifest.base.some((base) => firstPartyKey(path).startsWith(base.key))) continue;
    sources.add(pathSource(policy.site, path));
  }
  return [...sources];
}

/** A path on the site as a CSP source; `;` and `,` end a source or a directive, so they are percent-encoded (CSP3 §2.3.1). */
function pathSource(site: string, path: string): string {
  return new URL(site).origin + path.replace(/;/g, '%3B').replace(/,/g, '%2C');
}
