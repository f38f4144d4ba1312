/**
 * What a `<link>` element or a `Link` header makes the browser fetch, by relation and `as`
 * (HTML §4.6.7 link types; Fetch "destination" of a preload, HTML §4.6.7.12 "translate a
 * preload destination"), and the allow list that decides each. One table for markup and headers,
 * so that a relation cannot be judged in one and forgotten in the other.
 */
import type { AllowKind } from '../policy/model.js';
import type { ViolationReason } from '../reasons.js';
import type { FindingKind } from './types.js';

export interface LinkDestination {
  readonly kind: FindingKind;
  readonly list: Exclude<AllowKind, 'inline'>;
  readonly reason: ViolationReason;
  /** preconnect and dns-prefetch: allowed when any list (or the site) names the origin. */
  readonly anyList?: boolean;
}

const IMAGE: LinkDestination = { kind: 'image', list: 'image', reason: 'foreign-image' };
const STYLE: LinkDestination = { kind: 'stylesheet', list: 'style', reason: 'foreign-style' };
const FONT: LinkDestination = { kind: 'font', list: 'font', reason: 'foreign-font' };
const MEDIA: LinkDestination = { kind: 'media', list: 'media', reason: 'foreign-media' };
const MANIFEST: LinkDestination = { kind: 'manifest', list: 'manifest', reason: 'foreign-manifest' };
const SCRIPT: LinkDestination = { kind: 'module-preload', list: 'script', reason: 'foreign-script' };
const NAVIGATE: LinkDestination = { kind: 'speculation-rules', list: 'navigate', reason: 'speculation-rules' };
const PRECONNECT: LinkDestination = { kind: 'preconnect', list: 'connect', reason: 'foreign-preconnect', anyList: true };
const FETCH: LinkDestination = { kind: 'preload', list: 'connect', reason: 'foreign-connect' };
const DOCUMENT: LinkDestination = { kind: 'preload', list: 'frame', reason: 'foreign-frame' };

/** `as` values that preload a script-like destination (links.ts judges them in markup). */
export const SCRIPT_AS: ReadonlySet<string> = new Set(['script', 'worker', 'sharedworker', 'serviceworker', 'audioworklet', 'paintworklet', 'xslt']);

/**
 * The destination of `<link rel=preload as=…>` by its `as`. An `as` Chromium does not know
 * preloads nothing; it is judged as a plain fetch (connect-src, CSP's destination "" rule) so an
 * unknown spelling is never a way around the lists.
 */
export function preloadDestination(as: string | undefined): LinkDestination {
  switch (as) {
    case 'image':
      return IMAGE;
    case 'style':
      return STYLE;
    case 'font':
      return FONT;
    case 'audio':
    case 'video':
    case 'track':
      return MEDIA;
    case 'manifest':
      return MANIFEST;
    case 'document':
    case 'iframe':
    case 'frame':
    case 'embed':
    case 'object':
      return DOCUMENT;
    default:
      return as !== undefined && SCRIPT_AS.has(as) ? SCRIPT : FETCH;
  }
}

/**
 * Every destination a set of relations loads or connects to, script and navigation relations
 * included (for Link headers; the `<link>` finders split them between links.ts and passive.ts).
 * Relations that fetch nothing (canonical, alternate without stylesheet, author, next…) give none.
 */
export function linkDestinations(rels: readonly string[], as: string | undefined): LinkDestination[] {
  const out: LinkDestination[] = [];
  const add = (d: LinkDestination): void => {
    if (!out.includes(d)) out.push(d);
  };
  for (const rel of rels) {
    if (rel === 'stylesheet') add(STYLE);
    // icon, shortcut icon, apple-touch-icon(-precomposed), mask-icon, fluid-icon: fetched as images.
    else if (rel === 'icon' || rel.endsWith('-icon') || rel === 'apple-touch-startup-image') add(IMAGE);
    else if (rel === 'manifest') add(MANIFEST);
    else if (rel === 'preload') add(preloadDestination(as));
    else if (rel === 'modulepreload') add(SCRIPT);
    else if (rel === 'prefetch' || rel === 'prerender') add(NAVIGATE);
    else if (rel === 'preconnect' || rel === 'dns-prefetch') add(PRECONNECT);
    // Compression Dictionary Transport (Chromium 130+): the dictionary is fetched in the background.
    else if (rel === 'compression-dictionary' || rel === 'dictionary') add(FETCH);
  }
  return out;
}
