/**
 * Who sent a request, as far as payguard can believe it. X-Forwarded-* and X-Request-Id are
 * taken from the connecting peer only when it is a configured trusted proxy; from anyone else
 * they are dropped (anyone can write them) and payguard writes its own.
 */
import { BlockList, isIP } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LIMITS } from '../../limits.js';
import { redactText } from '../../observe/redact.js';

export class TrustedProxies {
  readonly #list = new BlockList();
  #empty = true;

  /** Throws a RangeError naming the entry that is neither an address nor a CIDR range. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address, bits, extra] = entry.trim().split('/');
      const family = isIP(address ?? '');
      if (!address || family === 0 || extra !== undefined) throw new RangeError(`not an IP address or CIDR range: "${entry}"`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        this.#list.addAddress(address, type);
      } else {
        const prefix = Number(bits);
        if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new RangeError(`bad prefix length in "${entry}"`);
        this.#list.addSubnet(address, prefix, type);
      }
      this.#empty = false;
    }
  }

  trusts(peer: string | undefined): boolean {
    if (this.#empty || !peer) return false;
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    const v4 = peer.startsWith('::ffff:') ? peer.slice(7) : peer;
    return isIP(v4) === 4 ? this.#list.check(v4, 'ipv4') : this.#list.check(peer, 'ipv6');
  }
}

/** What the upstream is told about the client, and the id a response and its log lines carry. */
export interface ClientIdentity {
  readonly requestId: string;
  readonly forwardedFor: string;
  readonly forwardedProto: string;
  readonly forwardedHost: string | undefined;
}

// Request ids end up in HTML and log lines: a conservative alphabet, bounded length.
const REQUEST_ID = new RegExp(`^[A-Za-z0-9._:-]{1,${LIMITS.maxRequestIdLength}}$`);

/**
 * A fresh request id that survives the log intact. The log's last guard (observe/redact.ts) replaces
 * any 13–19 digit run, dashes allowed, that passes the Luhn check, and about one random UUID in
 * 400 holds such a run ("…-5c12-4434-9164-403a…"): the id on that block page was then
 * nowhere in the log for the shop to look up. Found by the soak (bench/soak.ts).
 */
export function newRequestId(): string {
  let id = randomUUID();
  // Bounded: each draw fails with p ≈ 0.0025.
  for (let attempt = 0; attempt < 16 && redactText(id) !== id; attempt++) id = randomUUID();
  return id;
}

export function identify(req: IncomingMessage, trusted: TrustedProxies): ClientIdentity {
  const peer = req.socket.remoteAddress ?? '';
  const fromTrusted = trusted.trusts(peer);
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const incomingId = fromTrusted ? header('x-request-id') : undefined;
  const priorFor = fromTrusted ? header('x-forwarded-for') : undefined;
  return {
    requestId: incomingId && REQUEST_ID.test(incomingId) ? incomingId : newRequestId(),
    forwardedFor: priorFor ? `${priorFor}, ${peer}` : peer,
    forwardedProto: (fromTrusted ? header('x-forwarded-proto') : undefined) ?? 'http',
    forwardedHost: (fromTrusted ? header('x-forwarded-host') : undefined) ?? header('host'),
  };
}
