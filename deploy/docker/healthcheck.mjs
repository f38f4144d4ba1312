#!/usr/bin/env node
// Container health probe: GET /healthz on payguard's admin port, exit 0 when it answers 2xx/3xx
// and 1 otherwise (Docker's HEALTHCHECK contract: 0 healthy, 1 unhealthy).
// Written in plain Node because the slim runtime image has neither curl nor wget.
//
//   node healthcheck.mjs            probes the admin address in PAYGUARD_ADMIN (default 127.0.0.1:9464)
//   node healthcheck.mjs URL        probes URL (used for the demo storefront in docker-compose.yml)
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';

const TIMEOUT_MS = 2500;

/** The admin address as payguard reads it; a wildcard bind is probed on loopback. */
export function probeUrl(argv, env) {
  if (argv[0]) return new URL(argv[0]);
  const admin = env.PAYGUARD_ADMIN || '127.0.0.1:9464';
  const url = new URL(`http://${admin}/healthz`);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url;
}

export function probe(url, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = probeUrl(process.argv.slice(2), process.env);
  probe(url).then((healthy) => {
    if (!healthy) process.stderr.write(`unhealthy: ${url.href}\n`);
    process.exit(healthy ? 0 : 1);
  });
}
