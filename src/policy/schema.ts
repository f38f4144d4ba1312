/**
 * The policy's JSON Schema: the one source of truth for its shape. policies/policy.schema.json is
 * this object serialised by `schemaFileText()` (test/policy/schema-file.test.ts keeps them equal;
 * regenerate with `node dist/src/policy/write-schema.js` after a build).
 *
 * `additionalProperties: false` everywhere, because a typo (`alow:`, `orgin:`) must be an error:
 * an unknown key that was silently ignored would loosen or disable a check.
 * What a schema cannot say (origins are bare WHATWG origins, hashes decode to the right length,
 * route paths use only `*`/`**`) is checked afterwards in semantic.ts.
 */

/** `why` is the written justification PCI DSS 6.4.3 asks for; whitespace alone is not one. */
const WHY = {
  type: 'string',
  pattern: '\\S',
  description: 'Why this entry is allowed: the business justification PCI DSS 6.4.3 requires. Required, not blank.',
} as const;

const ORIGIN = {
  type: 'string',
  minLength: 1,
  description: 'A bare origin (scheme://host[:port]), compared as a WHATWG URL origin.',
} as const;

const URL_ENTRY = {
  type: 'string',
  minLength: 1,
  description: 'An exact URL, or a prefix of URLs when it ends in "/".',
} as const;

/** Exactly one of `origin` and `url`: an entry naming both would be ambiguous about its reach. */
const ORIGIN_OR_URL = [{ required: ['origin'] }, { required: ['url'] }];

const targetEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['why'],
  oneOf: ORIGIN_OR_URL,
  properties: { origin: ORIGIN, url: URL_ENTRY, why: WHY },
} as const;

const scriptEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['why'],
  oneOf: ORIGIN_OR_URL,
  properties: {
    origin: ORIGIN,
    url: URL_ENTRY,
    integrity: {
      type: 'string',
      minLength: 1,
      description:
        'Subresource Integrity metadata as in the HTML integrity attribute: one or more space-separated sha256-/sha384-/sha512-<base64> tokens; the script must match one.',
    },
    why: WHY,
  },
} as const;

/** One typed slot of an inline template (src/policy/inline-template.ts). */
const slotSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['string', 'number', 'boolean', 'null', 'json'], description: 'What literal the slot holds: a string, a number, true/false, null, or a JSON value (an array or object of literals only).' },
    charset: {
      enum: ['digits', 'hex', 'alnum', 'base64', 'base64url', 'token', 'text'],
      description: "string slots: the characters the decoded value may hold (token = A-Z a-z 0-9 . _ ~ -; text = any). Default text.",
    },
    length: {
      type: 'array',
      items: { type: 'integer' },
      minItems: 2,
      maxItems: 2,
      description: 'string slots: [min, max] decoded characters. Default [0, 4096].',
    },
    min: { type: 'number', description: 'number slots: the smallest value allowed.' },
    max: { type: 'number', description: 'number slots: the largest value allowed.' },
    integer: { type: 'boolean', description: 'number slots: only integers.' },
    maxLength: { type: 'integer', description: 'json slots: the most source characters the value may take. Default 1048576.' },
  },
} as const;

/** Exactly one of `hash` and `template` (with its slots). */
const inlineEntry = {
  type: 'object',
  additionalProperties: false,
  required: ['why'],
  oneOf: [{ required: ['hash'] }, { required: ['template', 'slots'] }],
  dependencies: { slots: ['template'] },
  properties: {
    hash: {
      type: 'string',
      minLength: 1,
      description: "A CSP hash source for an inline script or event handler: sha256-<base64> (quotes as in CSP, 'sha256-…', are accepted).",
    },
    template: {
      type: 'string',
      minLength: 1,
      description: 'Inline code whose literals vary per rendering: the script (or handler) as JavaScript, with $slot$<name> where a literal varies. Every other token must be identical.',
    },
    slots: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: slotSpec,
      description: 'The slots of the template by name, each with its type and constraints.',
    },
    why: WHY,
  },
} as const;

/** The headers a route baseline may name (lower case, as HTTP/2 sends them). */
export const BASELINE_HEADER_NAMES = [
  'strict-transport-security',
  'x-frame-options',
  'referrer-policy',
  'permissions-policy',
  'x-content-type-options',
  'cross-origin-opener-policy',
] as const;

/** A header value: visible ASCII and spaces only, so no line break can smuggle another header in. */
const HEADER_VALUE = { type: 'string', pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$', description: 'The header value as it must be sent.' } as const;

function nonEmptyList(items: object, description: string): object {
  return { type: 'array', minItems: 1, items, description };
}

/**
 * path → SRI integrity. The paths (keys) are checked in semantic.ts, where the message can say
 * what is wrong with one (a schema pattern on property names cannot).
 */
function manifestFiles(description: string): object {
  return {
    type: 'object',
    minProperties: 1,
    additionalProperties: {
      type: 'string',
      minLength: 1,
      description: 'Subresource Integrity metadata of the file as served (decoded): sha256-/sha384-/sha512-<base64> tokens, space-separated.',
    },
    description,
  };
}

/** The signed release manifest of the shop's own code (docs/policy.md "First-party code"). */
const FIRST_PARTY = {
  type: 'object',
  additionalProperties: false,
  required: ['scripts'],
  description:
    "The shop's own scripts and the JSON files they read, by path and integrity (payguard pin writes it). With it, a same-origin script the manifest does not list is refused.",
  properties: {
    base: nonEmptyList(
      { type: 'string', minLength: 1, description: 'A directory of the release, starting and ending with "/".' },
      'Directories under which every .js, .mjs, .cjs and .json file must be listed: any other is refused, whatever requests it.',
    ),
    scripts: manifestFiles("The site's own scripts and modules: path (/static/app.3f9a.js) → integrity."),
    data: manifestFiles('JSON files the scripts read (asset manifests, configuration): path → integrity.'),
    generated: nonEmptyList(
      {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'why'],
        properties: {
          path: { type: 'string', minLength: 1, description: 'The path of a script the shop builds per request.' },
          why: WHY,
        },
      },
      'Scripts built per request (no fixed bytes): served without a hash, named so the risk is visible in review.',
    ),
  },
} as const;

export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:payguard:policy-schema:1',
  title: 'payguard policy',
  description:
    'The signed allowlist payguard enforces: where a page may send data, load code or navigate. Sign it with `payguard sign` after every change.',
  type: 'object',
  additionalProperties: false,
  required: ['schema', 'serial', 'site', 'routes', 'allow'],
  properties: {
    $schema: { type: 'string', description: 'Editor hint only (the path or URL of this schema); ignored by payguard.' },
    schema: { const: 1, description: 'The policy format version.' },
    serial: {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Raise it every release: a serial lower than one already accepted is refused (rollback protection).',
    },
    site: { ...ORIGIN, description: 'The storefront\'s public origin ("self"), always allowed.' },
    charset: {
      type: 'string',
      minLength: 1,
      description:
        'The encoding a page is decoded with when it declares none (WHATWG encoding label, e.g. shift_jis). Default windows-1252.',
    },
    clearSiteData: {
      type: 'boolean',
      description: 'Send Clear-Site-Data: "storage" on block and rewrite routes (unregisters service workers, clears storage): the emergency reset after an incident.',
    },
    firstParty: FIRST_PARTY,
    routes: nonEmptyList(
      {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'mode'],
        properties: {
          path: {
            type: 'string',
            pattern: '^/',
            description: 'A request path pattern: * matches one path segment, ** any number of segments.',
          },
          mode: { enum: ['block', 'rewrite', 'report'], description: 'What payguard does with a violation on this route.' },
          csp: {
            enum: ['enforce', 'report-only', 'off'],
            description:
              'How the Content-Security-Policy built from this policy is sent. Default: enforce on block and rewrite routes, report-only on report routes.',
          },
          strictDynamic: { type: 'boolean', description: "Add 'strict-dynamic' to script-src: scripts an allowed script loads are trusted too." },
          scriptEval: {
            type: 'boolean',
            description:
              "Add 'unsafe-eval' to script-src: for a shop whose own code compiles strings at run time (Magento 2's Knockout bindings and underscore templates, wp.template). Without it the browser refuses eval, new Function and string timers on this route.",
          },
          codeRemoval: {
            enum: ['block', 'serve'],
            description:
              'Rewrite routes: a page whose rewrite would remove code it runs or loads (a script, a handler, an import map) is blocked (default), or served rewritten and counted as code removed.',
          },
          headers: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            description: 'Security-header baseline: added when the storefront omits one, counted and logged as drift when it sends another value.',
            properties: Object.fromEntries(BASELINE_HEADER_NAMES.map((name) => [name, HEADER_VALUE])),
          },
        },
      },
      'First match wins; paths no route matches are inspected in report mode.',
    ),
    allow: {
      type: 'object',
      additionalProperties: false,
      description: 'The allowlists, one per kind of place a page can send data, load code or navigate.',
      properties: {
        form: nonEmptyList(targetEntry, 'Where forms may submit (action, formaction).'),
        script: nonEmptyList(scriptEntry, 'Where scripts may load from (script src, module, preload, import maps).'),
        frame: nonEmptyList(targetEntry, 'What iframes, frames, objects and embeds may load.'),
        navigate: nonEmptyList(targetEntry, 'Where redirects, Refresh and navigation may lead.'),
        connect: nonEmptyList(targetEntry, 'Where the page may connect (ping, report endpoints, APIs, preload as=fetch, preconnect).'),
        image: nonEmptyList(targetEntry, 'Where images may load from (img, srcset, picture source, video poster, input type=image, icons, CSS url() and image-set()). Absent: the site only.'),
        style: nonEmptyList(targetEntry, 'Where stylesheets may load from (link rel=stylesheet, preload as=style, CSS @import). Absent: the site only.'),
        font: nonEmptyList(targetEntry, 'Where fonts may load from (@font-face src, preload as=font). Absent: the site only.'),
        media: nonEmptyList(targetEntry, 'Where audio, video and text tracks may load from (audio, video, source, track src). Absent: the site only.'),
        manifest: nonEmptyList(targetEntry, 'Where the web app manifest may load from (link rel=manifest). Absent: the site only.'),
        inline: nonEmptyList(inlineEntry, 'Inline scripts and event handlers allowed by their CSP hash, or by a template whose slots hold the literals that vary.'),
      },
    },
  },
} as const;

/** The exact text of policies/policy.schema.json. */
export function schemaFileText(): string {
  return JSON.stringify(POLICY_SCHEMA, null, 2) + '\n';
}
