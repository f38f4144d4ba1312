/**
 * Before measuring: does each target answer each page the way its row assumes? A clean page
 * must come out of payguard with the upstream's content (the proxy issue: "verification must
 * not alter clean pages", apart from the navigation guard on protected routes), a tampered page
 * must come out changed. One request each, with the
 * same headers as the load; bodies compared after content decoding, since a proxy may ask the
 * upstream for another coding than the client did.
 */
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { withoutGuard } from '../src/proxy/browser/navigation-guard.js';
import { browserRequestHeaders, type BenchPage } from './pages/index.js';

interface RawResponse {
  readonly status: number;
  readonly contentEncoding: string;
  readonly body: Buffer;
}

export interface ProbeFinding {
  /** A problem means the page's rows do not measure what they claim; info is worth knowing. */
  readonly severity: 'problem' | 'info';
  readonly text: string;
}

function fetchRaw(url: string, headers: Readonly<Record<string, string>>, timeoutMs = 30_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentEncoding: (res.headers['content-encoding'] ?? '').toLowerCase(), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The body with its content codings undone (RFC 9110 §8.4.1: listed in the order applied). */
function decoded(response: RawResponse): Buffer {
  const codings = response.contentEncoding.split(',').map((c) => c.trim()).filter((c) => c && c !== 'identity');
  return codings.reverse().reduce((body, coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return gunzipSync(body);
    if (coding === 'br') return brotliDecompressSync(body);
    if (coding === 'deflate') return inflateSync(body);
    throw new Error(`unknown content coding "${coding}"`);
  }, response.body);
}

/**
 * What is wrong with, or worth knowing about, `targetUrl`'s answer for `page` compared with the
 * upstream's. `rewrites`: the target is payguard in rewrite mode, which must change a tampered
 * page (every other target must pass every page unchanged).
 */
export async function probePage(upstreamUrl: string, targetUrl: string, page: BenchPage, rewrites: boolean): Promise<ProbeFinding[]> {
  const headers = browserRequestHeaders(page);
  const [expected, actual] = [await fetchRaw(upstreamUrl + page.path, headers), await fetchRaw(targetUrl + page.path, headers)];
  const findings: ProbeFinding[] = [];
  if (actual.status !== expected.status) return [{ severity: 'problem', text: `${page.id}: status ${actual.status}, upstream ${expected.status}` }];
  if (actual.contentEncoding !== expected.contentEncoding) {
    findings.push({
      severity: 'info',
      text: `${page.id}: answered with content-encoding "${actual.contentEncoding}" where the upstream, asked with the same request headers, sends "${expected.contentEncoding}"`,
    });
  }
  if (page.uniquePerRequest) return findings;
  const identical = withoutGuard(decoded(actual)).equals(decoded(expected));
  const mustChange = rewrites && page.mustBeRewritten;
  if (mustChange && identical) findings.push({ severity: 'problem', text: `${page.id}: came out unchanged, expected a rewrite` });
  if (!mustChange && !identical) findings.push({ severity: 'problem', text: `${page.id}: content differs from the upstream's (a clean page must pass unchanged)` });
  return findings;
}
