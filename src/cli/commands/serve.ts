/**
 * `payguard serve`: the sidecar. Flags and their environment variables are validated once into a
 * ServeConfig; then the policy is opened (a bad policy at start is a clear error, exit 2), the proxy
 * started, SIGTERM drains (exit 0) and SIGHUP reloads the policy.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ListenError, UsageError } from '../../errors.js';
import { parseListenAddress } from '../../listen.js';
import { TrustedProxies } from '../../proxy/http/forwarded.js';
import { createPayguard, DEFAULTS, type ListenAddress } from '../../proxy/index.js';
import { parseCommandLine } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: payguard serve --upstream URL --policy FILE --public-key FILE [options]

Runs payguard in front of the storefront at URL: every response that can become a page is
verified against the signed policy before it reaches the browser.

Options (each also read from the environment variable shown; a flag wins):
  --upstream URL            the storefront, http:// or https://         PAYGUARD_UPSTREAM
  --policy FILE             the signed policy (FILE.minisig beside it)  PAYGUARD_POLICY
  --public-key FILE         a trusted minisign public key; repeat        PAYGUARD_PUBLIC_KEY
                            during a key rotation (env: comma-separated)
  --listen HOST:PORT        public listener (default 0.0.0.0:8080)      PAYGUARD_LISTEN
  --admin HOST:PORT         /metrics, /healthz, /readyz                 PAYGUARD_ADMIN
                            (default 127.0.0.1:9464)
  --state-dir DIR           the accepted serial and the evidence log    PAYGUARD_STATE_DIR
                            (default $XDG_STATE_HOME/payguard or ~/.local/state/payguard)
  --max-inspect-bytes N     cap on a page, raw and decoded (default     PAYGUARD_MAX_INSPECT_BYTES
                            8MiB; suffixes KiB, MiB, k, M)
  --upstream-timeout T      connect/headers/body-idle timeout (default  PAYGUARD_UPSTREAM_TIMEOUT
                            30s; ms or s suffix, bare number = ms)
  --verify-timeout T        time limit of one verification (2s)         PAYGUARD_VERIFY_TIMEOUT
  --drain-timeout T         grace period on SIGTERM (10s)               PAYGUARD_DRAIN_TIMEOUT
  --header-timeout T        a client's request line and headers must    PAYGUARD_HEADER_TIMEOUT
                            arrive within T, else 408 and the connection is closed
                            (10s; at least 100ms)
  --request-timeout T       a client's whole request, body included,    PAYGUARD_REQUEST_TIMEOUT
                            within T, else it is cut (60s; at least --header-timeout)
  --keep-alive-timeout T    an idle client connection is closed after   PAYGUARD_KEEP_ALIVE_TIMEOUT
                            T (5s); keep it above a load balancer's idle timeout
  --trusted-proxy ADDR      address or CIDR whose X-Forwarded-* and     PAYGUARD_TRUSTED_PROXIES
                            X-Request-Id are believed; repeat (env: comma-separated)
  --shadow-policy FILE      a signed candidate policy judged on every   PAYGUARD_SHADOW_POLICY
                            response, never enforced; disagreements are counted
                            (payguard_shadow_disagreements_total) and logged;
                            it never delays an enforced page: under load some
                            responses are skipped (payguard_shadow_skipped_total)
  --learn FILE              learn from live traffic: on report routes,  PAYGUARD_LEARN
                            record what pages load, their inline code (hashes,
                            and templates of what varies) and browsers' CSP
                            reports into FILE (JSON, owner-only, rewritten every
                            30s and at exit); "payguard policy draft FILE" turns
                            it into a policy. Never a request body, cookie or query.
  -h, --help                show this help

Every limit, its default and why: docs/limits.md.

Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the policy, and so does a change to
the policy or its signature file (a bad one is refused and the last good one stays in force).
Exit status: 0 after a drain; 1 when it cannot listen; 2 on a usage error or a policy that
does not verify at start.
`;

export interface ServeConfig {
  readonly upstream: URL;
  readonly policyFile: string;
  readonly publicKeyFiles: readonly string[];
  readonly listen: ListenAddress;
  readonly admin: ListenAddress;
  readonly stateDir: string;
  readonly maxInspectBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly verifyTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly headerTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly trustedProxies: readonly string[];
  readonly shadowPolicyFile: string | undefined;
  readonly learnFile: string | undefined;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run payguard in front of the storefront',
  usage: USAGE,
  async run(argv) {
    const config = parseServeConfig(argv, process.env);
    return serve(config);
  },
};

async function serve(config: ServeConfig): Promise<number> {
  let payguard;
  try {
    // A policy that does not verify throws a PolicyError / KeyError naming the file, line and
    // field: main prints it, exit 2.
    payguard = await createPayguard({ ...config, evidence: true, log: process.stdout });
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    process.stderr.write(`payguard serve: ${err.message}\n`);
    return 1;
  }
  payguard.followPolicyChanges();
  const inForce = payguard.holder.current();
  process.stderr.write(
    `payguard: listening on ${payguard.publicUrl} in front of ${config.upstream.href}\n` +
      `payguard: admin (metrics, health) on ${payguard.adminUrl}/metrics\n` +
      `payguard: policy ${inForce.file} serial ${inForce.policy.serial} key ${inForce.keyId}\n` +
      (config.learnFile ? `payguard: learning from report routes into ${config.learnFile} ("payguard policy draft ${config.learnFile}")\n` : ''),
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(sig);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  payguard.logger.event('draining', { signal, graceMs: config.drainTimeoutMs });
  await payguard.drain();
  payguard.logger.event('stopped', { signal });
  return 0;
}

/** Flags over environment over defaults, each value checked here once (UsageError names the flag). */
export function parseServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { values } = parseCommandLine(argv, {
    upstream: { type: 'string' },
    policy: { type: 'string' },
    'public-key': { type: 'string', multiple: true },
    listen: { type: 'string' },
    admin: { type: 'string' },
    'state-dir': { type: 'string' },
    'max-inspect-bytes': { type: 'string' },
    'upstream-timeout': { type: 'string' },
    'verify-timeout': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'header-timeout': { type: 'string' },
    'request-timeout': { type: 'string' },
    'keep-alive-timeout': { type: 'string' },
    'trusted-proxy': { type: 'string', multiple: true },
    'shadow-policy': { type: 'string' },
    learn: { type: 'string' },
  }, false);
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? nonEmpty(env[name]);
  const list = (flag: string[] | undefined, name: string): string[] =>
    flag && flag.length > 0 ? flag : (nonEmpty(env[name])?.split(',').map((s) => s.trim()).filter(Boolean) ?? []);

  const upstreamText = pick(values.upstream, 'PAYGUARD_UPSTREAM');
  if (!upstreamText) throw new UsageError('--upstream URL is required (or PAYGUARD_UPSTREAM)');
  const policyFile = pick(values.policy, 'PAYGUARD_POLICY');
  if (!policyFile) throw new UsageError('--policy FILE is required (or PAYGUARD_POLICY)');
  const publicKeyFiles = list(values['public-key'], 'PAYGUARD_PUBLIC_KEY');
  if (publicKeyFiles.length === 0) throw new UsageError('at least one --public-key FILE is required (or PAYGUARD_PUBLIC_KEY)');
  const trustedProxies = list(values['trusted-proxy'], 'PAYGUARD_TRUSTED_PROXIES');
  try {
    new TrustedProxies(trustedProxies);
  } catch (err) {
    throw new UsageError(`--trusted-proxy: ${(err as Error).message}`);
  }
  const clientTimeouts = parseClientTimeouts(
    pick(values['header-timeout'], 'PAYGUARD_HEADER_TIMEOUT'),
    pick(values['request-timeout'], 'PAYGUARD_REQUEST_TIMEOUT'),
    pick(values['keep-alive-timeout'], 'PAYGUARD_KEEP_ALIVE_TIMEOUT'),
  );
  return {
    upstream: parseUpstream(upstreamText),
    policyFile,
    publicKeyFiles,
    listen: listenAddress('--listen', pick(values.listen, 'PAYGUARD_LISTEN'), DEFAULTS.listen),
    admin: listenAddress('--admin', pick(values.admin, 'PAYGUARD_ADMIN'), DEFAULTS.admin),
    stateDir: pick(values['state-dir'], 'PAYGUARD_STATE_DIR') ?? defaultStateDir(env),
    maxInspectBytes: parseSize('--max-inspect-bytes', pick(values['max-inspect-bytes'], 'PAYGUARD_MAX_INSPECT_BYTES'), DEFAULTS.maxInspectBytes),
    upstreamTimeoutMs: parseDuration('--upstream-timeout', pick(values['upstream-timeout'], 'PAYGUARD_UPSTREAM_TIMEOUT'), DEFAULTS.upstreamTimeoutMs),
    verifyTimeoutMs: parseDuration('--verify-timeout', pick(values['verify-timeout'], 'PAYGUARD_VERIFY_TIMEOUT'), DEFAULTS.verifyTimeoutMs),
    drainTimeoutMs: parseDuration('--drain-timeout', pick(values['drain-timeout'], 'PAYGUARD_DRAIN_TIMEOUT'), DEFAULTS.drainTimeoutMs),
    ...clientTimeouts,
    trustedProxies,
    shadowPolicyFile: pick(values['shadow-policy'], 'PAYGUARD_SHADOW_POLICY'),
    learnFile: pick(values.learn, 'PAYGUARD_LEARN'),
  };
}

/** Below this a header timeout would cut real clients on a slow link, and its check would run every 10 ms. */
const MIN_HEADER_TIMEOUT_MS = 100;

/**
 * The three limits on a client's connection. The request timeout counts from the request's first
 * byte, headers included, so it cannot be shorter than the header timeout (Node refuses that too).
 */
function parseClientTimeouts(
  headerText: string | undefined,
  requestText: string | undefined,
  keepAliveText: string | undefined,
): Pick<ServeConfig, 'headerTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'> {
  const headerTimeoutMs = parseDuration('--header-timeout', headerText, DEFAULTS.headerTimeoutMs);
  if (headerTimeoutMs < MIN_HEADER_TIMEOUT_MS) {
    throw new UsageError(`--header-timeout: ${headerTimeoutMs} ms is below ${MIN_HEADER_TIMEOUT_MS}ms`);
  }
  const requestTimeoutMs = parseDuration('--request-timeout', requestText, DEFAULTS.requestTimeoutMs);
  if (requestTimeoutMs < headerTimeoutMs) {
    throw new UsageError(
      `--request-timeout: ${requestTimeoutMs} ms is shorter than --header-timeout (${headerTimeoutMs} ms); the headers are part of the request`,
    );
  }
  const keepAliveTimeoutMs = parseDuration('--keep-alive-timeout', keepAliveText, DEFAULTS.keepAliveTimeoutMs);
  return { headerTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseUpstream(text: string): URL {
  if (!URL.canParse(text)) throw new UsageError(`--upstream: not a URL: "${text}"`);
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--upstream: must be http:// or https://, not ${url.protocol}`);
  if (url.username || url.password) throw new UsageError('--upstream: credentials in the URL are not supported');
  if (url.search || url.hash) throw new UsageError('--upstream: no query string or fragment');
  return url;
}

/** `:8080` and `8080` keep the default host (all interfaces for --listen, loopback for --admin). */
function listenAddress(flag: string, text: string | undefined, fallback: ListenAddress): ListenAddress {
  return text === undefined ? fallback : parseListenAddress(flag, text, fallback.host);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1000, kib: 1024, m: 1_000_000, mb: 1_000_000, mib: 1024 * 1024, g: 1e9, gib: 1024 ** 3 };

export function parseSize(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new UsageError(`${flag}: expected a size such as 8MiB or 8388608, got "${text}"`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1024 || bytes > 1024 ** 3) throw new UsageError(`${flag}: ${bytes} bytes is outside 1KiB..1GiB`);
  return bytes;
}

export function parseDuration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(text);
  if (!m) throw new UsageError(`${flag}: expected a duration such as 500ms, 30s or 30000, got "${text}"`);
  const ms = Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
  if (ms < 1 || ms > 3_600_000) throw new UsageError(`${flag}: ${ms} ms is outside 1ms..1h`);
  return ms;
}

function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return join(nonEmpty(env.XDG_STATE_HOME) ?? join(homedir(), '.local', 'state'), 'payguard');
}
