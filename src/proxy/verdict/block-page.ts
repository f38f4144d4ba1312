/**
 * The page a blocked response is replaced with. It says nothing about what was found (an attacker
 * testing a tampered page learns nothing), only the request id the shop can look up in its logs.
 */
import type { ServerResponse } from 'node:http';

export function blockPageHtml(requestId: string): string {
  // The id is restricted to [A-Za-z0-9._:-] (forwarded.ts), so it needs no escaping; escape anyway.
  const id = requestId.replace(/[^A-Za-z0-9._:-]/g, '');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Page unavailable</title></head>
<body><h1>This page is temporarily unavailable</h1>
<p>The page could not be delivered safely. Please try again later.</p>
<p>If you contact the shop, quote this reference: <code>${id}</code></p>
</body></html>
`;
}

export function sendBlockPage(res: ServerResponse, status: number, requestId: string, headOnly: boolean): void {
  const body = Buffer.from(blockPageHtml(requestId), 'utf8');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    // A block must not be cached by the browser or a shared cache and shown after the shop is fixed.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // The page itself loads nothing, submits nothing and cannot be framed.
    'content-security-policy': "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    'x-request-id': requestId,
  });
  res.end(headOnly ? undefined : body);
}
