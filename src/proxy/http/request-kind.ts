/**
 * Which of payguard's two paths a request takes, decided from the request alone (before any
 * upstream byte): a response that can become a document must be inspected, so every request that
 * may get one back takes the document path.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Fetch §3.1 request destinations whose response the browser renders as a document (navigations
 * of a top-level browsing context or a child navigable, and plugin documents).
 */
const DOCUMENT_DESTINATIONS = new Set(['document', 'iframe', 'frame', 'object', 'embed', 'fencedframe']);

export function mayReceiveDocument(req: IncomingMessage): boolean {
  // Anything but GET/HEAD: a POST (the checkout's own form submission) can be answered with an
  // auto-submitting page, whatever the browser said it expected.
  if (req.method !== 'GET' && req.method !== 'HEAD') return true;
  const dest = req.headers['sec-fetch-dest'];
  // Absent: a non-Chromium or old browser, or a client that lies by omission; treat it as a navigation.
  if (dest === undefined || Array.isArray(dest)) return true;
  // Several Sec-Fetch-Dest lines reach here joined by Node ("document, script"): not a structured
  // token (Fetch Metadata §2.1), so as good as absent, never a reason to skip inspection. Found by the proxy fuzz.
  const token = dest.trim().toLowerCase();
  return token.includes(',') || DOCUMENT_DESTINATIONS.has(token);
}

/**
 * The request target as path and query (origin-form, RFC 9112 §3.2.1). An absolute-form target
 * (`GET http://host/x`) is reduced to its path so it can never name another host; `*` and anything
 * unparsable become `/`.
 */
export function requestTarget(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  if (raw.startsWith('/')) return raw;
  if (URL.canParse(raw)) {
    const u = new URL(raw);
    return u.pathname + u.search;
  }
  return '/';
}

/** The path without the query string: what logs and route matching see (query values may carry card data). */
export function pathOnly(target: string): string {
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

/**
 * The URL the browser sees for this response: the policy's public site origin plus the target.
 * Concatenated, not resolved, so that `//evil.example/x` stays a path on the site.
 */
export function publicUrl(site: string, target: string): string {
  return new URL(site + target).href;
}
