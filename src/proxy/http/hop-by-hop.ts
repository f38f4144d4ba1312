/**
 * Hop-by-hop headers: they describe one connection, not the message, so a proxy must not
 * forward them (RFC 9110 §7.6.1). The list follows caddy's reverseproxy `hopHeaders` and
 * undici's docs/examples/proxy/proxy.js.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection', // non-standard, still sent by old clients
  'te',
  'trailer',
  'transfer-encoding', // each hop frames the body itself; payguard re-frames what it inspected (H-05)
  'upgrade', // WebSocket upgrades take the http-proxy-3 path, never the document path
  'http2-settings',
]);

/**
 * The names to drop from a message: the fixed list plus every name the Connection header lists
 * ("Connection: close, X-Foo" makes X-Foo hop-by-hop too, RFC 9110 §7.6.1).
 */
export function hopByHopNames(connectionValues: readonly string[]): ReadonlySet<string> {
  if (connectionValues.length === 0) return HOP_BY_HOP;
  const names = new Set(HOP_BY_HOP);
  for (const value of connectionValues) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name) names.add(name);
    }
  }
  return names;
}
