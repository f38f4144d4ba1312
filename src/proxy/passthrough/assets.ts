/**
 * The pass-through path: subresource requests (scripts, styles, images, fetch…) and WebSocket
 * upgrades, through http-proxy-3 with a keep-alive agent (docs/vectors.md, performance notes B.1 pitfall 1: without one every
 * request opens a connection). A response here is never rendered as a document by the request that
 * fetched it; what payguard guards against is its reuse as one, from a cache or by sniffing.
 */
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { VerifyRefusal } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { extractMimeType, verifyHeaders } from '../../verify/index.js';
import type { HeaderList } from '../../verify/types.js';
import { classifyResponse } from '../document/type.js';
import { classifyUpstreamError, upstreamRefusal } from '../document/upstream.js';
import type { RequestFacts } from '../http/facts.js';
import type { TrustedProxies } from '../http/forwarded.js';
import { headerListFromRaw, headerValues } from '../http/header-list.js';
import { guarded, type ListenerFaults } from '../http/listener-guard.js';
import { publicUrl } from '../http/request-kind.js';
import type { PolicySource } from '../ports.js';
import { sendBlockPage } from '../verdict/block-page.js';
import { decide, type Inspection } from '../verdict/decide.js';
import { failSafe } from '../verdict/fail-safe.js';
import { recordDecision, type DecisionRecorder } from '../verdict/record.js';

/** What the pass-through path needs from the running payguard. */
export interface AssetServices extends DecisionRecorder {
  readonly upstream: URL;
  readonly policy: PolicySource;
  readonly trusted: TrustedProxies;
  readonly upstreamTimeoutMs: number;
  readonly listenerFaults?: ListenerFaults | undefined;
}

export interface SubresourceProxy {
  web(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): void;
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, facts: RequestFacts): void;
  close(): void;
}

/** Headers payguard writes on this path; an incoming copy from an untrusted peer is dropped. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-request-id'];

/** Response headers that navigate or load, checked on every response (docs/vectors.md H-08..H-11). */
const ACTIVE_HEADERS = ['location', 'refresh', 'link'];

export function createSubresourceProxy(ctx: AssetServices): SubresourceProxy {
  const Agent = ctx.upstream.protocol === 'https:' ? https.Agent : http.Agent;
  // As many idle connections kept as may be busy: with fewer, every burst above maxFreeSockets
  // closes upstream connections that the next burst reopens (asset rows at 256 connections ran
  // at 0.4× the pass-through with 64; docs/bench.md).
  const agent = new Agent({ keepAlive: true, maxSockets: LIMITS.assetSockets, maxFreeSockets: LIMITS.assetSockets });
  const proxy = createProxyServer({ target: ctx.upstream.href, agent, xfwd: true, ws: true, proxyTimeout: ctx.upstreamTimeoutMs });
  const factsOf = new WeakMap<IncomingMessage, RequestFacts>();
  const timedOut = new WeakSet<IncomingMessage>();
  /** Storefront responses already being piped into the client's response (counted as passed). */
  const piping = new WeakMap<IncomingMessage, IncomingMessage>();

  /** A listener that threw: the storefront's response (if any) is dropped and the client gets one 502. */
  const listenerFailed = (err: unknown, req: IncomingMessage, res: ServerResponse | Duplex): void => {
    const facts = factsOf.get(req);
    if (!('writeHead' in res) || !facts) {
      ctx.logger.error('request-failed', err, facts ? { requestId: facts.client.requestId, path: facts.path } : {});
      res.destroy();
      return;
    }
    failSafe(ctx, res, facts, err);
  };

  const onProxyRequest = (proxyReq: ClientRequest, req: IncomingMessage, _res: ServerResponse): void => {
    proxyReq.once('timeout', () => timedOut.add(req));
  };

  const onProxyResponse = (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void => {
    piping.set(req, proxyRes);
    const facts = factsOf.get(req);
    if (!facts) return;
    // An upstream that closes before its body's end (short of Content-Length, a reset mid-body, a
    // read-until-close body cut by the timeout): pipe() never ends the client's response, which then
    // hangs until the client gives up. Cut it: once the status line is out, only a cut says
    // "incomplete" (RFC 9112 §8). Not `complete`: Node sets it on a close-delimited body it aborted.
    // Found by the proxy fuzz.
    proxyRes.once('close', () => {
      if (!proxyRes.readableEnded && !res.writableEnded) res.destroy();
    });
    proxyRes.headers['x-request-id'] = facts.client.requestId;
    const headers = headerListFromRaw(proxyRes.rawHeaders);
    const type = classifyResponse(headers);
    if (type.kind !== 'other') {
      // This response could render as a page if a cache served it to a navigation later, or if the
      // browser sniffed it: it must never be stored, and never be sniffed into HTML (M-02, H-07).
      proxyRes.headers['cache-control'] = 'no-store';
      proxyRes.headers['x-content-type-options'] = 'nosniff';
    }
    if (headerValues(headers, 'content-type').length > 1) {
      // Node keeps only the first line; send the one the Fetch algorithm extracts from all of them (M-01).
      const mime = extractMimeType(headers);
      if (mime) proxyRes.headers['content-type'] = mime.charset ? `${mime.essence}; charset=${mime.charset}` : mime.essence;
      else delete proxyRes.headers['content-type'];
    }
    checkActiveHeaders(ctx, proxyRes, facts, headers);
  };

  const onProxyError = (err: Error, req: IncomingMessage, res: ServerResponse | Duplex): void => {
    const failure = classifyUpstreamError(timedOut.has(req) ? Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' }) : err);
    ctx.metrics.recordUpstreamError(failure.kind);
    const facts = factsOf.get(req);
    if (!('writeHead' in res)) {
      (res as Duplex).destroy();
      return;
    }
    const started = piping.get(req);
    if (started) {
      // The storefront's response is already piped into the client's (bytes past its
      // Content-Length broke the connection, say): a block page written now races that body,
      // "write after end", an unhandled error that ended the process. Found by the proxy fuzz.
      started.unpipe(res);
      started.destroy();
      res.destroy();
      return;
    }
    // A listener's own failure already answered (listenerFailed): nothing more to send.
    if (res.writableEnded) return;
    if (res.headersSent || !facts) {
      res.destroy();
      return;
    }
    const match = ctx.policy.current().compiled.route(facts.path);
    const decision = decide(match.mode, { kind: 'refused', refusal: upstreamRefusal(failure, err), headerViolations: [] });
    recordDecision(ctx, facts, match.label, decision);
    if (decision.action === 'block') sendBlockPage(res, decision.status, facts.client.requestId, req.method === 'HEAD');
  };

  proxy.on(
    'proxyReq',
    guarded('proxy-request', ctx.listenerFaults, (err, proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse) => {
      proxyReq.destroy();
      listenerFailed(err, req, res);
    }, onProxyRequest),
  );
  proxy.on(
    'proxyRes',
    guarded('proxy-response', ctx.listenerFaults, (err, proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
      // Before http-proxy-3 copies the status line: the block page ends the response, so it neither
      // writes the storefront's headers nor pipes its body (web-incoming "if (!res.finished)").
      proxyRes.destroy();
      listenerFailed(err, req, res);
    }, onProxyResponse),
  );
  proxy.on(
    'error',
    guarded('proxy-error', ctx.listenerFaults, (err, _cause: Error, req: IncomingMessage, res: ServerResponse | Duplex) => listenerFailed(err, req, res), onProxyError),
  );

  // A client that resets mid-response: http-proxy-3 already destroys the upstream request.
  proxy.on('econnreset', () => undefined);

  const prepare = (req: IncomingMessage, facts: RequestFacts): void => {
    factsOf.set(req, facts);
    req.url = facts.target;
    if (!ctx.trusted.trusts(req.socket.remoteAddress)) {
      for (const name of FORWARDING_HEADERS) delete req.headers[name];
    }
    req.headers['x-request-id'] = facts.client.requestId;
  };

  return {
    web(req, res, facts) {
      prepare(req, facts);
      proxy.web(req, res);
    },
    ws(req, socket, head, facts) {
      // A socket error after the upgrade (a client that vanishes) must not become an uncaught exception.
      socket.on('error', () => socket.destroy());
      prepare(req, facts);
      proxy.ws(req, socket, head);
    },
    close() {
      agent.destroy();
      proxy.close?.();
    },
  };
}

/**
 * Location, Refresh and Link on a pass-through response: a redirect of a script or a frame to a
 * foreign host is as dangerous as a foreign src. On protected routes the headers are removed and the
 * status turned into 502 so nothing is followed; elsewhere they are reported.
 */
function checkActiveHeaders(ctx: AssetServices, proxyRes: IncomingMessage, facts: RequestFacts, headers: HeaderList): void {
  const { policy, compiled } = ctx.policy.current();
  const match = compiled.route(facts.path);
  if (!headers.some(([name]) => ACTIVE_HEADERS.includes(name))) {
    ctx.metrics.recordResponse(match.label, 'passed');
    return;
  }
  let inspection: Inspection;
  try {
    const violations = verifyHeaders(headers, publicUrl(policy.site, facts.target), policy).filter((f) => !f.allowed);
    inspection = { kind: 'headers-only', headerViolations: violations };
  } catch (err) {
    if (!(err instanceof VerifyRefusal)) throw err;
    inspection = { kind: 'refused', refusal: err, headerViolations: [] };
  }
  const decision = decide(match.mode, inspection);
  recordDecision(ctx, facts, match.label, decision);
  if (decision.action !== 'block') return;
  // The status line and headers are not sent yet (proxyRes listeners run before http-proxy copies
  // them): nothing is followed, and the body of a redirect is not a document for a subresource request.
  for (const name of ACTIVE_HEADERS) delete proxyRes.headers[name];
  proxyRes.statusCode = 502;
  proxyRes.statusMessage = 'Bad Gateway';
}
