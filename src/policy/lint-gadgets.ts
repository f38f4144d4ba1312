/**
 * Hosts whose presence in an allowlist makes it hollow. Curated, small on purpose: each entry
 * names the list it comes from so a reviewer can check it.
 *
 * - JSONP and AngularJS gadget hosts come from Google's csp-evaluator bypass lists
 *   (https://github.com/google/csp-evaluator, Apache-2.0): `allowlist_bypasses/jsonp.ts` (JSONP
 *   endpoints: a `callback=` parameter turns the response into attacker-chosen script) and
 *   `allowlist_bypasses/angular.ts` (AngularJS copies: template expressions in the page run as
 *   code). `flash.ts` is not used: Chromium removed Flash in version 88 (January 2021).
 * - Path-shared hosts serve many tenants from one origin (any npm package, any bucket, any GTM
 *   container), so an origin entry trusts every tenant.
 * - Per-tenant subdomain platforms give each tenant its own origin; the risk there is a dangling
 *   name claimed by someone else after the shop stops using it (subdomain takeover).
 */
import { ALLOW_KINDS, type AllowKind, type OriginEntry, type Policy, type UrlEntry } from './model.js';
import { dottedField } from './policy-text.js';

export interface GadgetHost {
  readonly host: string;
  readonly gadget: 'jsonp' | 'angularjs';
  /** The path csp-evaluator lists for this host (one example; other paths may work too). */
  readonly example: string;
  readonly source: string;
}

const JSONP_SOURCE = 'google/csp-evaluator allowlist_bypasses/jsonp.ts';
const ANGULAR_SOURCE = 'google/csp-evaluator allowlist_bypasses/angular.ts';

export const GADGET_HOSTS: readonly GadgetHost[] = [
  { host: 'www.google-analytics.com', gadget: 'jsonp', example: '/gtm/js', source: JSONP_SOURCE },
  { host: 'ssl.google-analytics.com', gadget: 'jsonp', example: '/gtm/js', source: JSONP_SOURCE },
  { host: 'www.googletagmanager.com', gadget: 'jsonp', example: '/gtm/js', source: JSONP_SOURCE },
  { host: 'googletagmanager.com', gadget: 'jsonp', example: '/gtm/js', source: JSONP_SOURCE },
  { host: 'www.googleadservices.com', gadget: 'jsonp', example: '/pagead/conversion/1070110417/wcm', source: JSONP_SOURCE },
  { host: 'googleads.g.doubleclick.net', gadget: 'jsonp', example: '/pagead/conversion/1036918760/wcm', source: JSONP_SOURCE },
  { host: 'securepubads.g.doubleclick.net', gadget: 'jsonp', example: '/gampad/ads', source: JSONP_SOURCE },
  { host: 'pagead2.googlesyndication.com', gadget: 'jsonp', example: '/relatedsearch', source: JSONP_SOURCE },
  { host: 'www.google.com', gadget: 'jsonp', example: '/tools/feedback/escalation-options', source: JSONP_SOURCE },
  { host: 'accounts.google.com', gadget: 'jsonp', example: '/o/oauth2/revoke', source: JSONP_SOURCE },
  { host: 'translate.googleapis.com', gadget: 'jsonp', example: '/translate_a/l', source: JSONP_SOURCE },
  { host: 'maps.googleapis.com', gadget: 'jsonp', example: '/maps/api/js/GeoPhotoService.GetMetadata', source: JSONP_SOURCE },
  { host: 'www.googleapis.com', gadget: 'jsonp', example: '/freebase/v1/topic/m/0344_', source: JSONP_SOURCE },
  { host: 'ajax.googleapis.com', gadget: 'jsonp', example: '/ajax/services/search/news', source: JSONP_SOURCE },
  { host: 'api.facebook.com', gadget: 'jsonp', example: '/restserver.php', source: JSONP_SOURCE },
  { host: 'www.facebook.com', gadget: 'jsonp', example: '/restserver.php', source: JSONP_SOURCE },
  { host: 'graph.facebook.com', gadget: 'jsonp', example: '/1/', source: JSONP_SOURCE },
  { host: 'api.twitter.com', gadget: 'jsonp', example: '/1/statuses/oembed.json', source: JSONP_SOURCE },
  { host: 'syndication.twitter.com', gadget: 'jsonp', example: '/widgets/timelines/765840589183213568', source: JSONP_SOURCE },
  { host: 'cdn.syndication.twimg.com', gadget: 'jsonp', example: '/widgets/timelines/599200054310604802', source: JSONP_SOURCE },
  { host: 'www.youtube.com', gadget: 'jsonp', example: '/profile_style', source: JSONP_SOURCE },
  { host: 'vimeo.com', gadget: 'jsonp', example: '/api/oembed.json/', source: JSONP_SOURCE },
  { host: 'api.mixpanel.com', gadget: 'jsonp', example: '/track/', source: JSONP_SOURCE },
  { host: 'www.sharethis.com', gadget: 'jsonp', example: '/get-publisher-info.php', source: JSONP_SOURCE },
  { host: 'api.vk.com', gadget: 'jsonp', example: '/method/wall.get', source: JSONP_SOURCE },
  { host: 'mc.yandex.ru', gadget: 'jsonp', example: '/watch/24306916/1', source: JSONP_SOURCE },
  { host: 'suggest.taobao.com', gadget: 'jsonp', example: '/sug', source: JSONP_SOURCE },
  { host: 'cdn.jsdelivr.net', gadget: 'jsonp', example: '/', source: JSONP_SOURCE },
  { host: 'cdnjs.cloudflare.com', gadget: 'angularjs', example: '/ajax/libs/angular.js/1.2.16/angular.min.js', source: ANGULAR_SOURCE },
  { host: 'www.gstatic.com', gadget: 'angularjs', example: '/fsn/angular_js-bundle1.js', source: ANGULAR_SOURCE },
  { host: 'gstatic.com', gadget: 'angularjs', example: '/fsn/angular_js-bundle1.js', source: ANGULAR_SOURCE },
  { host: 'yastatic.net', gadget: 'angularjs', example: '/angularjs/1.2.23/angular.min.js', source: ANGULAR_SOURCE },
  { host: 'oss.maxcdn.com', gadget: 'angularjs', example: '/angularjs/1.2.20/angular.min.js', source: ANGULAR_SOURCE },
  { host: 'cdn.bootcss.com', gadget: 'angularjs', example: '/angular.js/1.2.0/angular.min.js', source: ANGULAR_SOURCE },
  { host: 'cdn.shopify.com', gadget: 'angularjs', example: '/s/files/1/0225/6463/t/1/assets/angular-animate.min.js', source: ANGULAR_SOURCE },
  { host: 'raw.githubusercontent.com', gadget: 'angularjs', example: '/angular/code.angularjs.org/master/1.0.7/angular-resource.js', source: ANGULAR_SOURCE },
];

export interface SharedHost {
  readonly host: string;
  /** Leading path segments that name one tenant (`/npm/<package>/` is 2). */
  readonly tenantDepth: number;
  readonly what: string;
}

/** One origin, many tenants told apart by path. */
export const PATH_SHARED_HOSTS: readonly SharedHost[] = [
  { host: 'cdn.jsdelivr.net', tenantDepth: 2, what: 'public CDN for every npm package and GitHub repository' },
  { host: 'unpkg.com', tenantDepth: 1, what: 'public CDN for every npm package' },
  { host: 'cdnjs.cloudflare.com', tenantDepth: 3, what: 'public CDN for community-submitted libraries' },
  { host: 'esm.sh', tenantDepth: 1, what: 'public CDN for every npm package' },
  { host: 'ajax.googleapis.com', tenantDepth: 3, what: 'Google-hosted libraries (including AngularJS)' },
  { host: 'raw.githubusercontent.com', tenantDepth: 2, what: 'any GitHub repository' },
  { host: 'gist.githubusercontent.com', tenantDepth: 2, what: 'any GitHub gist' },
  { host: 's3.amazonaws.com', tenantDepth: 1, what: 'any S3 bucket (path-style)' },
  { host: 'storage.googleapis.com', tenantDepth: 1, what: 'any Google Cloud Storage bucket' },
  { host: 'firebasestorage.googleapis.com', tenantDepth: 3, what: 'any Firebase project storage' },
  { host: 'www.googletagmanager.com', tenantDepth: 1, what: 'any Google Tag Manager container (id in the query)' },
  { host: 'googletagmanager.com', tenantDepth: 1, what: 'any Google Tag Manager container (id in the query)' },
  { host: 'cdn.shopify.com', tenantDepth: 4, what: 'every Shopify store' },
];

/** Host suffixes where each tenant gets a subdomain anyone can register. */
export const TENANT_SUBDOMAIN_SUFFIXES: readonly string[] = [
  'herokuapp.com',
  'github.io',
  'netlify.app',
  'vercel.app',
  'pages.dev',
  'workers.dev',
  'web.app',
  'firebaseapp.com',
  'appspot.com',
  'azurewebsites.net',
  'blob.core.windows.net',
  'cloudfront.net',
  's3.amazonaws.com',
  'onrender.com',
  'glitch.me',
];

export type LintSeverity = 'error' | 'warning';

export interface LintFinding {
  readonly severity: LintSeverity;
  /** Dotted field path of the entry, e.g. `allow.script[2]`. */
  readonly field: string;
  readonly message: string;
  /** Where the fact behind the rule comes from (the bypass list), when it is one. */
  readonly source?: string;
}

/**
 * What makes an allowlist hollow. Errors: `payguard sign` refuses them. Warnings: reviewed, signed.
 * An entry with `integrity` is not hollow: the served body must match the hash, so neither a
 * JSONP response nor another tenant's file passes.
 */
export function lintAllowlist(policy: Policy): LintFinding[] {
  const findings: LintFinding[] = [];
  const protectsPages = policy.routes.some((r) => r.mode !== 'report');
  for (const kind of ALLOW_KINDS) {
    policy.allow[kind].forEach((entry, i) => {
      const field = dottedField(['allow', kind, i])!;
      if (entry.type === 'hash' || entry.type === 'template') return;
      findings.push(...lintEntry(kind, entry, field));
      if (kind === 'form' && entry.type === 'origin' && protectsPages) {
        findings.push({
          severity: 'warning',
          field,
          message: `form actions allowed to any URL on ${entry.origin}; pin the gateway's action URL with a url entry so a look-alike path on the same host cannot receive card data`,
        });
      }
    });
  }
  Object.values(policy.firstParty?.generated ?? {}).forEach((script, i) => {
    // Issue 17, class 3: code the shop builds per request has no bytes to pin; the risk is named in review.
    findings.push({
      severity: 'warning',
      field: dottedField(['firstParty', 'generated', i])!,
      message: `${script.path} is first-party code generated per request and served without integrity (a tampered generator is not detected): ${script.why}`,
    });
  });
  return findings;
}

function lintEntry(kind: AllowKind, entry: OriginEntry | UrlEntry, field: string): LintFinding[] {
  const address = new URL(entry.type === 'origin' ? entry.origin : entry.url);
  const host = address.hostname;
  const pinned = (entry.integrity?.length ?? 0) > 0;
  const wide = entry.type === 'origin' || (entry.prefix && pathSegments(entry.url).length === 0);
  const findings: LintFinding[] = [];
  if (entry.type === 'url' && entry.prefix && pathSegments(entry.url).length === 0) {
    findings.push({ severity: 'error', field, message: `url prefix ${entry.url} covers the whole origin: it is an origin entry in disguise; name the exact URL` });
  }
  const gadget = GADGET_HOSTS.find((g) => g.host === host);
  // A prefix is hollow when it covers the gadget path csp-evaluator lists for the host.
  const coversGadget = gadget !== undefined && entry.type === 'url' && entry.prefix && gadget.example.startsWith(address.pathname);
  if (kind === 'script' && gadget && !pinned && (wide || coversGadget)) {
    findings.push({
      severity: 'error',
      field,
      message: `${host} hosts ${gadget.gadget === 'jsonp' ? 'a JSONP endpoint' : 'AngularJS'} (e.g. ${gadget.example}): allowing it lets injected markup run attacker-chosen script; allow the exact URL with integrity`,
      source: gadget.source,
    });
  }
  const shared = PATH_SHARED_HOSTS.find((s) => s.host === host);
  if (shared && !pinned && (entry.type === 'origin' || (entry.prefix && pathSegments(entry.url).length < shared.tenantDepth))) {
    findings.push({ severity: 'error', field, message: `${host} is a ${shared.what}: ${entry.type === 'origin' ? 'the bare origin' : 'this prefix'} trusts every tenant; allow the exact URL with integrity` });
  }
  const suffix = TENANT_SUBDOMAIN_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  if (suffix && !shared && !pinned) {
    findings.push({ severity: 'warning', field, message: `${host} is on ${suffix}, where anyone can register a name: if the shop stops using it, a stranger can take it over; prefer a url entry with integrity` });
  }
  return findings;
}

function pathSegments(url: string): string[] {
  return new URL(url).pathname.split('/').filter((s) => s !== '');
}
