/**
 * Request smuggling (RFC 9112 §6.3 message body length, §11.2 request smuggling; PortSwigger's
 * CL.TE / TE.CL / TE.TE families): payguard and the storefront behind it must agree on where each
 * request ends. Invariant, for every attack on both paths (document path on undici, pass-through
 * on http-proxy-3): payguard refuses it (400) or the storefront, reading the bytes strictly, sees
 * exactly as many requests as payguard answered, each framed unambiguously. Never two where
 * payguard saw one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../proxy/support.js';
import { exchange } from './hostile/raw-client.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/upstreams.js';

let upstream: RecordingUpstream;
let harness: Harness;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  harness = await startHarness(undefined, { upstream: upstream.origin });
});

afterAll(async () => {
  await harness?.stop();
  await upstream?.close();
});

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: shop.example\r\n\r\n';

/** Request heads for the two paths: a POST goes to the document path, a script GET passes through. */
const PATHS = {
  document: 'POST /report/a HTTP/1.1\r\nHost: shop.example\r\n',
  'pass-through': 'GET /report/app.js HTTP/1.1\r\nHost: shop.example\r\nSec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\n',
} as const;

/** Each attack: the header lines after the request line and Host, and what follows the blank line. */
const ATTACKS: Record<string, { headers: string; body: string }> = {
  'CL.TE: Content-Length and chunked together': { headers: 'Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'TE.CL: chunked then a short Content-Length': { headers: 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', body: `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  'two different Content-Lengths': { headers: 'Content-Length: 0\r\nContent-Length: 47\r\n', body: SMUGGLED },
  'two equal Content-Lengths': { headers: 'Content-Length: 5\r\nContent-Length: 5\r\n', body: `hello${SMUGGLED}` },
  'Content-Length list "5, 5"': { headers: 'Content-Length: 5, 5\r\n', body: `hello${SMUGGLED}` },
  'Content-Length "+5"': { headers: 'Content-Length: +5\r\n', body: `hello${SMUGGLED}` },
  'Transfer-Encoding: chunked, identity': { headers: 'Transfer-Encoding: chunked, identity\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'Transfer-Encoding: identity, chunked with a Content-Length': { headers: 'Transfer-Encoding: identity, chunked\r\nContent-Length: 4\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'Transfer-Encoding: xchunked with a Content-Length': { headers: 'Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'two Transfer-Encoding lines, one bogus': { headers: 'Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'Transfer-Encoding with a space before the colon': { headers: 'Transfer-Encoding : chunked\r\nContent-Length: 5\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'obs-folded Transfer-Encoding': { headers: 'Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'obs-fold in an ordinary header': { headers: 'X-Note: first\r\n second\r\nContent-Length: 0\r\n', body: '' },
  'Transfer-Encoding with a vertical tab': { headers: 'Transfer-Encoding:\x0bchunked\r\nContent-Length: 5\r\n', body: `0\r\n\r\n${SMUGGLED}` },
  'chunk size with an extension': { headers: 'Transfer-Encoding: chunked\r\n', body: `5;name=value\r\nhello\r\n0\r\n\r\n` },
  'chunk size overflowing 64 bits': { headers: 'Transfer-Encoding: chunked\r\n', body: `1${'0'.repeat(16)}5\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  'chunk size with a leading space': { headers: 'Transfer-Encoding: chunked\r\n', body: ` 5\r\nhello\r\n0\r\n\r\n${SMUGGLED}` },
  'chunk ended by a bare LF': { headers: 'Transfer-Encoding: chunked\r\n', body: `5\nhello\n0\n\n${SMUGGLED}` },
  'Connection naming Content-Length (a hop-by-hop trick to strip the length)': { headers: `Connection: keep-alive, Content-Length\r\nContent-Length: ${SMUGGLED.length}\r\n`, body: SMUGGLED },
  'Connection naming Transfer-Encoding': { headers: 'Connection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n', body: `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n` },
  'Content-Length with a trailing space and tab': { headers: 'Content-Length: 5 \t\r\n', body: `hello${SMUGGLED}` },
  'a NUL in a header value': { headers: 'X-Note: a\x00b\r\nContent-Length: 0\r\n', body: SMUGGLED },
  'a second request hidden in a Content-Length body': { headers: `Content-Length: ${SMUGGLED.length}\r\n`, body: SMUGGLED },
  'a second request hidden in a chunked body': { headers: 'Transfer-Encoding: chunked\r\n', body: `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n` },
};

describe('request smuggling: the storefront sees the request boundaries payguard saw', () => {
  for (const [pathName, head] of Object.entries(PATHS)) {
    for (const [attack, { headers, body }] of Object.entries(ATTACKS)) {
      it(`${pathName} path, ${attack}`, async () => {
        upstream.reset();
        // Every request the storefront saw precedes its response: wait (bounded) until each is answered.
        const { statuses, timedOut } = await exchange(harness.payguard.publicUrl, head + headers + '\r\n' + body, 10_000, 500, (s) => s.length >= upstream.requests.length);
        expect(timedOut).toBe(false);
        const answered = statuses.filter((s) => s !== 400);
        const seen = upstream.requests;
        expect(upstream.unparsable).toEqual([]);
        expect(seen.flatMap((r) => r.ambiguities)).toEqual([]);
        expect(seen.length).toBe(answered.length);
        // A hidden request is either refused with the whole message or stays inside the body it came in.
        if (seen.some((r) => r.target === '/smuggled')) expect(statuses).toContain(200);
        expect(statuses.length).toBeGreaterThan(0);
      });
    }
  }

  it('bare LF line endings in the head are refused, not guessed at', async () => {
    upstream.reset();
    const { statuses } = await exchange(harness.payguard.publicUrl, 'GET /report/a HTTP/1.1\nHost: shop.example\nContent-Length: 0\n\n');
    expect(statuses).toEqual([400]);
    expect(upstream.requests).toEqual([]);
  });

  it('a body that is a request stays a body: one request upstream, with the whole body', async () => {
    upstream.reset();
    const { statuses } = await exchange(harness.payguard.publicUrl, `${PATHS.document}Content-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`);
    expect(statuses).toEqual([200]);
    expect(upstream.requests.map((r) => [r.method, r.target, r.bodyLength])).toEqual([['POST', '/report/a', SMUGGLED.length]]);
  });

  it('Content-Length with Transfer-Encoding is refused with 400 before anything reaches the storefront', async () => {
    upstream.reset();
    const { statuses } = await exchange(harness.payguard.publicUrl, `${PATHS.document}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`);
    expect(statuses).toEqual([400]);
    expect(upstream.requests).toEqual([]);
  });

  it('a well-formed pipeline of two requests is two requests on both sides', async () => {
    upstream.reset();
    const one = 'GET /report/a.js HTTP/1.1\r\nHost: shop.example\r\nSec-Fetch-Dest: script\r\n\r\n';
    const { statuses } = await exchange(harness.payguard.publicUrl, one + one.replace('a.js', 'b.js'));
    expect(statuses).toEqual([200, 200]);
    expect(upstream.requests.map((r) => r.target)).toEqual(['/report/a.js', '/report/b.js']);
  });
});
