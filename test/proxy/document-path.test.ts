/**
 * Issue 4 "Every response" and "After the verdict", over real HTTP on 127.0.0.1: a scriptable
 * storefront, payguard in-process, an undici client. Pages are the files in ./pages.
 */
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutGuard } from '../helpers/navigation-guard.js';
import { startStorefront, type PageSpec, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, rawRequest, startHarness, SUBRESOURCE, type Harness } from './support.js';

const CLEAN = page('clean-checkout.html');
const FAKE_FORM = page('fake-payment-form.html');
const HTML = [['content-type', 'text/html; charset=utf-8']] as const;

let storefront: Storefront;
let harness: Harness;

beforeAll(async () => {
  storefront = await startStorefront();
  harness = await startHarness(storefront);
});
afterAll(async () => {
  await harness.stop();
  await storefront.close();
});

function serveAt(path: string, spec: PageSpec): string {
  storefront.page(path, spec);
  return `${harness.payguard.publicUrl}${path}`;
}

async function get(url: string, headers: Record<string, string> = NAVIGATION, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(url, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

function refusalsFor(requestId: unknown): unknown[] {
  return harness.logLines().filter((l) => l.requestId === requestId && l.event === 'refusal').map((l) => l.reason);
}

describe('verdicts', () => {
  it('serves a clean page byte-identical to the storefront, with one normalised Content-Type', async () => {
    const res = await get(serveAt('/checkout/clean', { headers: HTML, body: CLEAN }));
    expect(res.status).toBe(200);
    expect(res.body.equals(CLEAN)).toBe(true);
    expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8$/i);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('pins the charset the verifier decoded with when the storefront stated none', async () => {
    const res = await get(serveAt('/checkout/no-charset', { headers: [['content-type', 'text/html']], body: CLEAN }));
    expect(res.status).toBe(200);
    // The page's <meta charset="utf-8"> decided; the browser is now told the same in the header.
    expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8$/i);
    expect(res.body.equals(CLEAN)).toBe(true);
  });

  it('blocks the 2019 fake payment form with a 502 that carries no upstream byte', async () => {
    const res = await get(serveAt('/checkout/fake', { headers: [...HTML, ['set-cookie', 'session=abc'], ['etag', '"v1"']], body: FAKE_FORM }));
    expect(res.status).toBe(502);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers.etag).toBeUndefined();
    const text = res.body.toString('utf8');
    expect(text).not.toContain('pay-gateway.example.net');
    expect(text).toContain(String(res.headers['x-request-id']));
    const line = harness.logLines().find((l) => l.requestId === res.headers['x-request-id'] && l.event === 'violation');
    expect(line).toBeDefined();
  });

  it('blocks a 404 page carrying a skimmer (error pages render too)', async () => {
    const res = await get(serveAt('/checkout/missing', { status: 404, headers: HTML, body: page('not-found-skimmer.html') }));
    expect(res.status).toBe(502);
  });

  it('blocks a POST answered with an auto-submitting foreign form, after streaming the body upstream', async () => {
    const url = serveAt('/checkout/place-order', { headers: HTML, body: page('auto-submit.html') });
    const form = 'card=4111111111111111&exp=12%2F30';
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-dest': 'document' },
      body: form,
    });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    expect(storefront.requestsFor('/checkout/place-order').at(-1)?.bodyLength).toBe(form.length);
    expect(harness.logText()).not.toContain('4111111111111111');
  });

  it('reports but serves the original bytes on a report route', async () => {
    const res = await get(serveAt('/report/fake', { headers: HTML, body: FAKE_FORM }));
    expect(res.status).toBe(200);
    expect(res.body.equals(FAKE_FORM)).toBe(true);
    const line = harness.logLines().find((l) => l.requestId === res.headers['x-request-id'] && l.event === 'violation');
    expect(line).toMatchObject({ verdict: 'reported' });
  });

  it('rewrites a Shift_JIS page and keeps it Shift_JIS: only the form action bytes change', async () => {
    const original = page('shift-jis-fake-form.html');
    const res = await get(
      serveAt('/rewrite/pay', { headers: [['content-type', 'text/html; charset=Shift_JIS'], ['etag', '"sjis-1"']], body: original }),
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html; charset=shift_jis$/i);
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    const foreign = Buffer.from('https://pay-gateway.example.net/pay', 'latin1');
    expect(res.body.includes(foreign)).toBe(false);
    // Every byte before and after the action attribute is the storefront's own (no re-encoding),
    // the navigation guard aside (a rewrite route with its CSP: browser/navigation-guard.ts).
    const body = withoutGuard(res.body);
    const start = original.indexOf(Buffer.from('<form ', 'latin1'));
    const end = original.indexOf(Buffer.from('method="post">', 'latin1'));
    expect(body.subarray(0, start).equals(original.subarray(0, start))).toBe(true);
    const tail = original.subarray(end);
    expect(body.subarray(body.length - tail.length).equals(tail)).toBe(true);
    const text = new TextDecoder('shift_jis').decode(res.body);
    expect(text).toContain('お支払い情報の入力');
    expect(text).toContain('/.well-known/payguard/sink');
  });

  it('answers the rewriter sink itself and never forwards it', async () => {
    const before = storefront.requests.length;
    const res = await request(`${harness.payguard.publicUrl}/.well-known/payguard/sink`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-dest': 'document' },
      body: 'card=4111111111111111',
    });
    const text = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(text).toContain('not sent');
    const other = await request(`${harness.payguard.publicUrl}/.well-known/PAYGUARD/other`, { headers: NAVIGATION });
    await other.body.dump();
    expect(other.statusCode).toBe(404);
    expect(storefront.requests.length).toBe(before);
  });
});

describe('verdict cache', () => {
  it('never serves a verdict for other bytes: a page tampered at the same URL is blocked at once', async () => {
    const url = serveAt('/checkout/cached', { headers: HTML, body: CLEAN });
    for (let i = 0; i < 3; i++) expect((await get(url)).status).toBe(200);
    storefront.page('/checkout/cached', { headers: HTML, body: FAKE_FORM });
    expect((await get(url)).status).toBe(502);
    // One byte differs from the clean page: a different key, verified afresh.
    const tampered = Buffer.from(CLEAN);
    tampered[CLEAN.indexOf('pay.gateway.example')] = 'q'.charCodeAt(0);
    storefront.page('/checkout/cached', { headers: HTML, body: tampered });
    expect((await get(url)).status).toBe(502);
    storefront.page('/checkout/cached', { headers: HTML, body: CLEAN });
    expect((await get(url)).status).toBe(200);
  });

  it('keys on the charset too: the same bytes under another encoding are verified again', async () => {
    const sjis = page('shift-jis-fake-form.html');
    const url = serveAt('/rewrite/charset', { headers: [['content-type', 'text/html; charset=Shift_JIS']], body: sjis });
    const first = await get(url);
    storefront.page('/rewrite/charset', { headers: [['content-type', 'text/html; charset=EUC-JP']], body: sjis });
    const second = await get(url);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/shift_jis/i);
    // Read as EUC-JP the page is another document (rewritten as EUC-JP, or refused as undecodable):
    // what it must not be is the Shift_JIS verdict again.
    expect(second.headers['content-type']).not.toMatch(/shift_jis/i);
  });
});

describe('what counts as a document', () => {
  it('inspects a page sent with text/plain and then text/html (the last type wins, Fetch extract a MIME type)', async () => {
    const res = await get(serveAt('/checkout/dup-ct', { headers: [['content-type', 'text/plain'], ['content-type', 'text/html']], body: FAKE_FORM }));
    expect(res.status).toBe(502);
    const clean = await get(serveAt('/checkout/dup-ct-clean', { headers: [['content-type', 'text/plain'], ['content-type', 'text/html']], body: CLEAN }));
    expect(clean.status).toBe(200);
    // Exactly one Content-Type line goes out: the one payguard judged the body by.
    expect(typeof clean.headers['content-type']).toBe('string');
    expect(clean.headers['content-type']).toMatch(/^text\/html/);
  });

  it('sniffs a page with no Content-Type and inspects it as HTML', async () => {
    const res = await get(serveAt('/checkout/untyped', { body: page('sniffed-skimmer.html') }));
    expect(res.status).toBe(502);
  });

  it('keeps text/plain a text file: inspected, served with its own type and nosniff (Chromium never sniffs it into HTML)', async () => {
    const res = await get(serveAt('/checkout/notes.txt', { headers: [['content-type', 'text/plain']], body: CLEAN }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; charset=/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body.equals(CLEAN)).toBe(true);
    const untyped = await get(serveAt('/checkout/untyped-clean', { body: CLEAN }));
    expect(untyped.headers['content-type']).toMatch(/^text\/html; charset=utf-8$/i);
  });

  it('passes an untyped non-HTML body through unchanged, with nosniff', async () => {
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
    const res = await get(serveAt('/checkout/blob', { body: binary }));
    expect(res.status).toBe(200);
    expect(res.body.equals(binary)).toBe(true);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses XHTML and SVG documents on protected routes, passes them on report routes', async () => {
    const xhtml = '<html xmlns="http://www.w3.org/1999/xhtml"><body><form action="https://evil.example/"/></body></html>';
    expect((await get(serveAt('/checkout/page.xhtml', { headers: [['content-type', 'application/xhtml+xml']], body: xhtml }))).status).toBe(502);
    expect((await get(serveAt('/checkout/pay.svg', { headers: [['content-type', 'image/svg+xml']], body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }))).status).toBe(502);
    expect((await get(serveAt('/report/page.xhtml', { headers: [['content-type', 'application/xhtml+xml']], body: xhtml }))).status).toBe(200);
  });
});

describe('content codings', () => {
  const codings: [string, (b: Buffer) => Buffer, [string, string][]][] = [
    ['gzip', gzipSync, [['content-encoding', 'gzip']]],
    ['x-gzip', gzipSync, [['content-encoding', 'x-gzip']]],
    ['deflate (zlib)', deflateSync, [['content-encoding', 'deflate']]],
    ['deflate (raw)', deflateRawSync, [['content-encoding', 'deflate']]],
    ['br', brotliCompressSync, [['content-encoding', 'br']]],
    ['gzip then br, one line', (b) => brotliCompressSync(gzipSync(b)), [['content-encoding', 'gzip, br']]],
    ['gzip then br, two lines', (b) => brotliCompressSync(gzipSync(b)), [['content-encoding', 'gzip'], ['content-encoding', 'br']]],
  ];
  for (const [name, encode, encodingHeaders] of codings) {
    it(`decodes ${name}: blocks the fake form, serves the clean page's compressed bytes unchanged`, async () => {
      const slug = name.replace(/\W+/g, '-');
      const blocked = await get(serveAt(`/checkout/${slug}-fake`, { headers: [...HTML, ...encodingHeaders], body: encode(FAKE_FORM) }), {
        ...NAVIGATION,
        'accept-encoding': 'gzip, deflate, br',
      });
      expect(blocked.status).toBe(502);
      const compressed = encode(CLEAN);
      const clean = await get(serveAt(`/checkout/${slug}-clean`, { headers: [...HTML, ...encodingHeaders], body: compressed }), {
        ...NAVIGATION,
        'accept-encoding': 'gzip, deflate, br',
      });
      expect(clean.status).toBe(200);
      expect(clean.body.equals(compressed)).toBe(true);
    });
  }

  it('offers upstream only the codings both the client offered and payguard can decode', async () => {
    await get(serveAt('/checkout/ae', { headers: HTML, body: CLEAN }), { ...NAVIGATION, 'accept-encoding': 'zstd, dcb, gzip' });
    const ae = String(storefront.requestsFor('/checkout/ae').at(-1)?.headers['accept-encoding']);
    expect(ae.split(/,\s*/)).toContain('gzip');
    expect(ae).not.toContain('br'); // the client did not offer it: the original bytes must stay readable
    expect(ae).not.toContain('dcb');
  });

  it.each([
    ['an unknown coding', [['content-encoding', 'compress']], FAKE_FORM, 'unsupported-content-coding'],
    ['three stacked codings', [['content-encoding', 'gzip, gzip, gzip']], gzipSync(gzipSync(gzipSync(CLEAN))), 'unsupported-content-coding'],
    ['a corrupt gzip stream', [['content-encoding', 'gzip']], Buffer.concat([gzipSync(CLEAN).subarray(0, 40), Buffer.from('garbage')]), 'content-coding-error'],
  ] as const)('blocks %s on a protected route', async (_name, encodingHeaders, body, reason) => {
    const res = await get(serveAt(`/checkout/coding-${reason}-${body.length}`, { headers: [...HTML, ...encodingHeaders], body }));
    expect(res.status).toBe(502);
    expect(refusalsFor(res.headers['x-request-id'])).toContain(reason);
  });
});

describe('framing and connections', () => {
  it('verifies a chunked page split into 7-byte pieces, over one keep-alive connection', async () => {
    const pool = new Pool(harness.payguard.publicUrl, { connections: 1 });
    try {
      serveAt('/checkout/chunked-clean', { headers: HTML, body: CLEAN, chunkSize: 7 });
      serveAt('/checkout/chunked-fake', { headers: HTML, body: FAKE_FORM, chunkSize: 7 });
      for (let i = 0; i < 4; i++) {
        const clean = await pool.request({ path: '/checkout/chunked-clean', method: 'GET', headers: NAVIGATION });
        expect(clean.statusCode).toBe(200);
        expect(Buffer.from(await clean.body.arrayBuffer()).equals(CLEAN)).toBe(true);
        const fake = await pool.request({ path: '/checkout/chunked-fake', method: 'GET', headers: NAVIGATION });
        await fake.body.dump();
        expect(fake.statusCode).toBe(502);
      }
      // payguard kept its upstream connections alive too: far fewer than the 8 requests.
      expect(storefront.openConnections()).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });

  it('strips hop-by-hop headers and untrusted X-Forwarded-*, and writes its own', async () => {
    serveAt('/checkout/hops', { headers: HTML, body: CLEAN });
    const response = await rawRequest(
      harness.payguard.publicUrl,
      'GET /checkout/hops HTTP/1.1\r\nHost: shop.example\r\nSec-Fetch-Dest: document\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\n' +
        'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Request-Id: forged-by-client\r\nTE: trailers\r\n\r\n',
    );
    expect(response.slice(0, 12)).toBe("HTTP/1.1 200");
    const seen = storefront.requestsFor('/checkout/hops').at(-1)!;
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers.host).toBe('shop.example');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).not.toBe('evil.example');
    expect(seen.headers['x-request-id']).not.toBe('forged-by-client');
  });
});

describe('behind a trusted proxy', () => {
  let behind: Harness;
  beforeAll(async () => {
    behind = await startHarness(storefront, { trustedProxies: ['127.0.0.0/8'] });
  });
  afterAll(async () => {
    await behind.stop();
  });

  it('keeps the X-Request-Id and X-Forwarded-* chain a configured proxy sent', async () => {
    storefront.page('/checkout/behind', { headers: HTML, body: CLEAN });
    const res = await request(`${behind.payguard.publicUrl}/checkout/behind`, {
      headers: { ...NAVIGATION, 'x-request-id': 'lb-1234', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
    });
    await res.body.dump();
    expect(res.headers['x-request-id']).toBe('lb-1234');
    const seen = storefront.requestsFor('/checkout/behind').at(-1)!;
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-request-id']).toBe('lb-1234');
  });
});

describe('random chunk boundaries', () => {
  // lol-html's habit: a random piece size per run, printed so a failure replays (CHUNK_SIZE=n).
  const size = Number(process.env.CHUNK_SIZE) || 1 + Math.floor(Math.random() * 64);
  it(`gives the same verdicts whatever the piece size (CHUNK_SIZE=${size})`, async () => {
    const sjis = page('shift-jis-fake-form.html');
    const cases: [string, Buffer, readonly (readonly [string, string])[], number][] = [
      ['/checkout/rc-clean', CLEAN, HTML, 200],
      ['/checkout/rc-fake', FAKE_FORM, HTML, 502],
      ['/checkout/rc-sjis', sjis, [['content-type', 'text/html; charset=Shift_JIS']], 502],
      ['/checkout/rc-gzip', gzipSync(FAKE_FORM), [...HTML, ['content-encoding', 'gzip']], 502],
    ];
    for (const [path, body, headers, status] of cases) {
      const res = await get(serveAt(path, { headers, body, chunkSize: size }));
      expect(res.status, `${path} with CHUNK_SIZE=${size}`).toBe(status);
      if (status === 200) expect(res.body.equals(body)).toBe(true);
    }
  });
});

describe('HEAD, 304, 206, redirects', () => {
  it('gives HEAD the verdict GET would (fetched with GET upstream on protected routes)', async () => {
    const url = serveAt('/checkout/head-fake', { headers: HTML, body: FAKE_FORM });
    const blocked = await get(url, NAVIGATION, 'HEAD');
    expect(blocked.status).toBe(502);
    expect(blocked.body.length).toBe(0);
    expect(storefront.requestsFor('/checkout/head-fake').at(-1)?.method).toBe('GET');
    const clean = await get(serveAt('/checkout/head-clean', { headers: HTML, body: CLEAN }), NAVIGATION, 'HEAD');
    expect(clean.status).toBe(200);
    expect(Number(clean.headers['content-length'])).toBe(CLEAN.length);
    expect(clean.body.length).toBe(0);
  });

  it.each([
    ['Location', ['location', 'https://pay-gateway.example.net/pay']],
    ['Refresh', ['refresh', '0; url=https://pay-gateway.example.net/pay']],
    ['Link', ['link', '<https://skimmer.attacker.example/s.js>; rel=preload; as=script']],
  ] as const)('blocks a 304 carrying a foreign %s (the browser merges it into its cached copy)', async (name, header) => {
    const res = await get(serveAt(`/checkout/304-${name}`, { status: 304, headers: [header] }));
    expect(res.status).toBe(502);
  });

  it('passes a 304 with no active headers, and strips conditional headers upstream on protected routes', async () => {
    const res = await get(serveAt('/checkout/304-plain', { status: 304, headers: [['etag', '"x"']] }), { ...NAVIGATION, 'if-none-match': '"x"' });
    expect(res.status).toBe(304);
    expect(storefront.requestsFor('/checkout/304-plain').at(-1)?.headers['if-none-match']).toBeUndefined();
  });

  it('blocks a 302 to a look-alike, passes a 302 to the allowed gateway', async () => {
    expect((await get(serveAt('/checkout/redirect-bad', { status: 302, headers: [['location', 'https://pay-gateway.example.net/']] }))).status).toBe(502);
    const ok = await get(serveAt('/checkout/redirect-ok', { status: 302, headers: [['location', 'https://pay.gateway.example/session/1']] }));
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe('https://pay.gateway.example/session/1');
  });

  it('refuses several different Location lines as ambiguous', async () => {
    const res = await get(serveAt('/checkout/two-locations', { status: 302, headers: [['location', '/a'], ['location', 'https://pay.gateway.example/']] }));
    expect(res.status).toBe(502);
    expect(refusalsFor(res.headers['x-request-id'])).toContain('ambiguous-header');
  });

  it('refuses a 206 for a document on a protected route, and never forwards Range there', async () => {
    const res = await get(
      serveAt('/checkout/partial', { status: 206, headers: [...HTML, ['content-range', 'bytes 0-9/100']], body: CLEAN.subarray(0, 10) }),
      { ...NAVIGATION, range: 'bytes=0-9' },
    );
    expect(res.status).toBe(502);
    expect(storefront.requestsFor('/checkout/partial').at(-1)?.headers.range).toBeUndefined();
  });
});

describe('limits', () => {
  let small: Harness;
  beforeAll(async () => {
    small = await startHarness(storefront, { maxInspectBytes: 256 * 1024 });
  });
  afterAll(async () => {
    await small.stop();
  });

  it('blocks a decompression bomb (64 MiB of zeros in ~64 KiB of gzip) at the cap', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('<!DOCTYPE html><p>'), Buffer.alloc(64 * 1024 * 1024, 0x20)]));
    storefront.page('/checkout/bomb', { headers: [...HTML, ['content-encoding', 'gzip']], body: bomb });
    const res = await request(`${small.payguard.publicUrl}/checkout/bomb`, { headers: NAVIGATION });
    await res.body.dump();
    expect(res.statusCode).toBe(502);
    expect(small.logLines().some((l) => l.requestId === res.headers['x-request-id'] && l.reason === 'too-large')).toBe(true);
  });

  it('blocks an oversize page on a protected route, streams it unchanged on a report route', async () => {
    const big = Buffer.concat([CLEAN, Buffer.alloc(512 * 1024, 0x20)]);
    storefront.page('/checkout/big', { headers: HTML, body: big, chunkSize: 16 * 1024 });
    storefront.page('/report/big', { headers: HTML, body: big, chunkSize: 16 * 1024 });
    const blocked = await request(`${small.payguard.publicUrl}/checkout/big`, { headers: NAVIGATION });
    await blocked.body.dump();
    expect(blocked.statusCode).toBe(502);
    const passed = await request(`${small.payguard.publicUrl}/report/big`, { headers: NAVIGATION });
    expect(passed.statusCode).toBe(200);
    expect(Buffer.from(await passed.body.arrayBuffer()).equals(big)).toBe(true);
  });
});

describe('pass-through path', () => {
  it('streams a subresource untouched and marks HTML-capable responses no-store and nosniff', async () => {
    const js = Buffer.from('console.log("shop");\n');
    const script = await get(serveAt('/static/shop.js', { headers: [['content-type', 'text/javascript'], ['cache-control', 'max-age=600']], body: js }), SUBRESOURCE);
    expect(script.status).toBe(200);
    expect(script.body.equals(js)).toBe(true);
    expect(script.headers['cache-control']).toBe('max-age=600');
    // An HTML body fetched as a subresource must never be cached and later rendered unverified.
    const html = await get(serveAt('/checkout/fragment', { headers: [...HTML, ['cache-control', 'max-age=600']], body: FAKE_FORM }), SUBRESOURCE);
    expect(html.headers['cache-control']).toBe('no-store');
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    expect(html.headers['x-request-id']).toBeDefined();
  });

  it('blocks a script redirect to a foreign host on a protected route', async () => {
    const res = await get(serveAt('/checkout/loader.js', { status: 302, headers: [['location', 'https://skimmer.attacker.example/s.js']] }), SUBRESOURCE);
    expect(res.status).toBe(502);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('client abort', () => {
  it('aborts the upstream request when the client goes away mid-body', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    storefront.page('/report/download', {
      headers: [['content-type', 'application/zip']],
      body: Buffer.concat(Array.from({ length: 64 }, () => chunk)),
      chunkSize: 64 * 1024,
      chunkDelayMs: 20,
    });
    const res = await request(`${harness.payguard.publicUrl}/report/download`, { headers: NAVIGATION });
    expect(res.statusCode).toBe(200);
    for await (const _ of res.body) break; // read one piece, then go away
    const record = storefront.requestsFor('/report/download').at(-1)!;
    for (let i = 0; i < 100 && !record.aborted; i++) await new Promise((r) => setTimeout(r, 50));
    expect(record.aborted).toBe(true);
  });

  it('leaves no upstream connection behind after many aborted downloads, and logs no error for them', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    storefront.page('/report/many', { headers: [['content-type', 'application/zip']], body: Buffer.concat(Array.from({ length: 32 }, () => chunk)), chunkSize: 64 * 1024, chunkDelayMs: 10 });
    for (let i = 0; i < 20; i++) {
      const res = await request(`${harness.payguard.publicUrl}/report/many`, { headers: NAVIGATION });
      for await (const _ of res.body) break;
    }
    const records = storefront.requestsFor('/report/many');
    for (let i = 0; i < 200 && !records.every((r) => r.aborted || r.finished); i++) await new Promise((r) => setTimeout(r, 25));
    expect(records.filter((r) => r.aborted).length).toBeGreaterThanOrEqual(19);
    // Aborted upstream connections are closed, not parked: what stays open is a few keep-alive sockets.
    for (let i = 0; i < 200 && storefront.openConnections() > 4; i++) await new Promise((r) => setTimeout(r, 25));
    expect(storefront.openConnections()).toBeLessThanOrEqual(4);
    expect(harness.logLines().filter((l) => l.event === 'request-failed' && l.path === '/report/many')).toEqual([]);
  });

  it('aborts the upstream request when the client goes away while a page is being buffered', async () => {
    storefront.page('/checkout/slow-page', { headers: HTML, body: Buffer.concat([CLEAN, Buffer.alloc(100_000, 0x20)]), chunkSize: 1024, chunkDelayMs: 20 });
    const controller = new AbortController();
    const pending = request(`${harness.payguard.publicUrl}/checkout/slow-page`, { headers: NAVIGATION, signal: controller.signal }).catch((e: unknown) => e);
    for (let i = 0; i < 100 && storefront.requestsFor('/checkout/slow-page').length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await pending;
    const record = storefront.requestsFor('/checkout/slow-page').at(-1)!;
    for (let i = 0; i < 100 && !record.aborted; i++) await new Promise((r) => setTimeout(r, 50));
    expect(record.aborted).toBe(true);
  });
});
