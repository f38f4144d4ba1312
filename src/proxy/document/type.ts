/**
 * Can this response become a document? Decided as the browser will (docs/vectors.md M-01..M-07):
 * the MIME type from ALL Content-Type lines, read both as Fetch §3.1.7 "extract a MIME type" and as
 * Chromium's network stack reads them (a document if either says so: docs/headers.md), sniffed when
 * missing or sniffable, and every XML-family type that Chromium renders counted as a document.
 */
import { VerifyRefusal } from '../../errors.js';
import { extractMimeType } from '../../verify/index.js';
import type { HeaderList } from '../../verify/types.js';
import { headerTokens } from '../http/header-list.js';

export type ResponseType =
  /** text/html: inspected. */
  | { readonly kind: 'html'; readonly essence: string; readonly charset: string | undefined }
  /** XHTML, XML, SVG, XSL…: Chromium renders them with forms and scripts; payguard does not inspect them. */
  | { readonly kind: 'xml-document'; readonly essence: string }
  /** Missing or sniffable type: the body decides (MIME Sniffing §7.1 "identifying a resource with an unknown MIME type"). */
  | { readonly kind: 'sniff'; readonly essence: string | undefined }
  /** Scripts, styles, images, JSON…: never rendered as a document when sent with nosniff. */
  | { readonly kind: 'other'; readonly essence: string };

/**
 * What the type decides before any body byte is read, shared by serve (examine.ts, stage 2) and
 * `payguard scan`, so that both give a response the same verdict: not a document (only its headers
 * matter), a document payguard cannot verify (refused: fail closed on protected routes), or one to
 * inspect.
 */
export type TypeDecision =
  | { readonly kind: 'inspect' }
  | { readonly kind: 'not-a-document' }
  | { readonly kind: 'refuse'; readonly refusal: VerifyRefusal };

export function typeDecision(type: ResponseType, status: number): TypeDecision {
  if (type.kind === 'other') return { kind: 'not-a-document' };
  if (status === 206) return { kind: 'refuse', refusal: new VerifyRefusal('partial-content', `206 for a ${type.essence ?? 'untyped'} response`) };
  if (type.kind === 'xml-document') {
    return { kind: 'refuse', refusal: new VerifyRefusal('unsupported-document-type', `${type.essence} is rendered as a document and not inspected`) };
  }
  return { kind: 'inspect' };
}

/** Types the MIME Sniffing Standard §7 treats as "unknown" and sniffs for HTML. */
const UNKNOWN_TYPES = new Set(['unknown/unknown', 'application/unknown', '*/*', 'application/octet-stream']);

/** Non-HTML types Chromium renders as documents able to hold forms, scripts or frames (M-03, M-06). */
const XML_DOCUMENT_TYPES = new Set([
  'application/xhtml+xml',
  'application/xml',
  'text/xml',
  'image/svg+xml',
  'text/xsl',
  'application/xslt+xml',
  'application/mathml+xml',
  'application/rdf+xml',
  'text/rdf',
  'application/vnd.wap.xhtml+xml',
  // Multipart replacement renders each part as a document; payguard does not split parts.
  'multipart/x-mixed-replace',
]);

export function classifyResponse(headers: HeaderList): ResponseType {
  const mime = extractMimeType(headers);
  // Fetch's reading and Chromium's can differ (below): a response either would render as a
  // document is treated as one. Treating a non-document as a document only costs an inspection (the
  // verified page is then sent under the one type payguard judged it as); the other way round
  // would pass a live page unverified.
  const chromium = chromiumEssence(headers);
  if (chromium !== undefined && chromium !== mime?.essence) {
    if (chromium === 'text/html') return { kind: 'html', essence: chromium, charset: mime?.essence === 'text/html' ? mime.charset : undefined };
    if (isXmlDocument(chromium)) return { kind: 'xml-document', essence: chromium };
  }
  if (!mime) return { kind: 'sniff', essence: undefined };
  const essence = mime.essence;
  if (essence === 'text/html') return { kind: 'html', essence, charset: mime.charset };
  if (isXmlDocument(essence)) return { kind: 'xml-document', essence };
  if (UNKNOWN_TYPES.has(essence)) return { kind: 'sniff', essence };
  // text/plain is sniffed unless nosniff is set (Chromium's sniffer treats text/plain as sniffable;
  // sniffing more only costs an inspection, sniffing less could pass a page unverified).
  if (essence === 'text/plain' && !hasNosniff(headers)) return { kind: 'sniff', essence };
  return { kind: 'other', essence };
}

function isXmlDocument(essence: string): boolean {
  return XML_DOCUMENT_TYPES.has(essence) || essence.endsWith('+xml');
}

/**
 * The MIME type Chromium's network stack reads from the Content-Type lines (net
 * HttpResponseHeaders::GetMimeTypeAndCharset, HttpUtil::ParseContentType): every line split on
 * commas outside double quotes, each item's type ending at the first space, tab, ';' or '(' (not
 * Fetch's token check: "text/html garbage" and "text/html (x)" are text/html to Chromium and no
 * type at all to Fetch), lower-cased, items without a slash and the wildcard type skipped, the last one
 * winning. Oracle: test/verify/oracle-headers.test.ts "Content-Type"; docs/headers.md.
 */
export function chromiumEssence(headers: HeaderList): string | undefined {
  let essence: string | undefined;
  for (const [name, value] of headers) {
    if (name !== 'content-type') continue;
    for (const item of splitOutsideQuotes(value)) {
      const trimmed = item.replace(/^[\t ]+/, '');
      const end = trimmed.search(/[\t ;(]/);
      const type = (end < 0 ? trimmed : trimmed.slice(0, end)).toLowerCase();
      if (type.includes('/') && type !== '*/*') essence = type;
    }
  }
  return essence;
}

/** Comma-separated items, commas inside a double-quoted string (with backslash escapes) kept. */
function splitOutsideQuotes(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) {
      current += c + value[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      items.push(current);
      current = '';
    } else current += c;
  }
  items.push(current);
  return items;
}

/**
 * The essence a verified document is sent with. Missing and "unknown" types are sniffed into HTML
 * by the browser, so payguard says text/html outright. text/plain and application/octet-stream are
 * inspected too (conservatively: old browsers sniff them) but Chromium never renders them as HTML
 * (net/base/mime_sniffer.cc sniffs text/plain only for binary, octet-stream only for extensions),
 * so they keep their type and, with nosniff, render exactly as before.
 */
export function documentEssence(type: ResponseType | undefined): string {
  if (type?.kind === 'sniff' && (type.essence === 'text/plain' || type.essence === 'application/octet-stream')) return type.essence;
  return 'text/html';
}

/** `X-Content-Type-Options: nosniff` (Fetch §3.6: the first value, compared case-insensitively). */
export function hasNosniff(headers: HeaderList): boolean {
  return headerTokens(headers, 'x-content-type-options')[0] === 'nosniff';
}

/** Statuses that never carry a body (RFC 9110 §6.4.1), and HEAD answers. */
export function hasNoBody(status: number, method: string): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}
