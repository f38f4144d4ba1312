/**
 * Can this response become a document? Decided as the browser will (docs/vectors.md M-01..M-07):
 * the MIME type from ALL Content-Type lines (Fetch §3.1.7 "extract a MIME type"), sniffed when
 * missing or sniffable, and every XML-family type that Chromium renders counted as a document.
 */
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
  if (!mime) return { kind: 'sniff', essence: undefined };
  const essence = mime.essence;
  if (essence === 'text/html') return { kind: 'html', essence, charset: mime.charset };
  if (XML_DOCUMENT_TYPES.has(essence) || essence.endsWith('+xml')) return { kind: 'xml-document', essence };
  if (UNKNOWN_TYPES.has(essence)) return { kind: 'sniff', essence };
  // text/plain is sniffed unless nosniff is set (Chromium's sniffer treats text/plain as sniffable;
  // sniffing more only costs an inspection, sniffing less could pass a page unverified).
  if (essence === 'text/plain' && !hasNosniff(headers)) return { kind: 'sniff', essence };
  return { kind: 'other', essence };
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
