/**
 * Issue 16, "Limits a person can read": the client timeouts are payguard's own settings
 * (--header-timeout, --request-timeout, --keep-alive-timeout), and they are enforced. Tried as a
 * new user would, a client that dribbled its request headers kept its connection 90 s (Node's 60 s
 * headers timeout, checked every 30 s); here it is cut while it is still dribbling.
 *
 * Real sockets on 127.0.0.1 and no timed assertions: each slow client is a bounded loop whose
 * budget is many times the timeout under test, and the test asserts only that payguard closed the
 * connection before that loop ran out.
 */
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../src/cli/commands/serve.js';
import { UsageError } from '../../src/errors.js';
import { nodeServerTimeouts, SETTING_DEFAULTS } from '../../src/limits.js';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, startHarness, type Harness } from './support.js';

const CLEAN = page('clean-checkout.html');

const HEADER_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1_000;
const KEEP_ALIVE_TIMEOUT_MS = 500;
/** One byte per step; a loop's budget is STEPS steps, at least 20 times the longest timeout above. */
const STEP_MS = 25;
const STEPS = 1_000;

/** A raw client connection, with what it received and whether the server has closed it. */
interface RawClient {
  readonly socket: Socket;
  received(): string;
  closed(): boolean;
}

async function openClient(baseUrl: string): Promise<RawClient> {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  let closed = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  // The server ending or resetting the connection both count as cut.
  socket.on('end', () => {
    closed = true;
  });
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => {
    closed = true;
  });
  return { socket, received: () => received, closed: () => closed };
}

/**
 * Writes `text` one byte per step until the server closes the connection or the text runs out.
 * Returns how many bytes were written; `onStep` runs after each byte (for work done meanwhile).
 */
async function dribble(client: RawClient, text: string, onStep?: (sent: number) => Promise<void>): Promise<number> {
  let sent = 0;
  while (sent < text.length && !client.closed()) {
    client.socket.write(text[sent]!);
    sent++;
    await onStep?.(sent);
    await sleep(STEP_MS);
  }
  return sent;
}

/** Waits, a step at a time and at most STEPS steps, until the server closes the connection. */
async function waitUntilClosed(client: RawClient): Promise<number> {
  let steps = 0;
  while (steps < STEPS && !client.closed()) {
    await sleep(STEP_MS);
    steps++;
  }
  return steps;
}

/** A response payguard cut for being slow: nothing at all, or Node's 408. */
function expectTimedOutAnswer(received: string): void {
  if (received !== '') expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
}

describe('client timeouts on the public listener', () => {
  let storefront: Storefront;
  let harness: Harness;
  const opened: RawClient[] = [];
  const client = async (): Promise<RawClient> => {
    const c = await openClient(harness.payguard.publicUrl);
    opened.push(c);
    return c;
  };

  beforeAll(async () => {
    storefront = await startStorefront({ '/checkout/pay': { headers: [['content-type', 'text/html; charset=utf-8']], body: CLEAN } });
    harness = await startHarness(storefront, {
      headerTimeoutMs: HEADER_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    });
  });
  afterAll(async () => {
    for (const c of opened) c.socket.destroy();
    await harness.stop();
    await storefront.close();
  });

  const served = async (): Promise<void> => {
    const res = await request(`${harness.payguard.publicUrl}/checkout/pay`, { headers: NAVIGATION });
    expect(res.statusCode).toBe(200);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(CLEAN)).toBe(true);
  };

  it('answers 408 and closes the connection of a client dribbling its headers, while it still dribbles', async () => {
    const slow = await client();
    // The request line and a header value long enough to last the whole budget, never finished.
    const headers = `GET /checkout/pay HTTP/1.1\r\nHost: shop.example\r\nX-Slow: ${'a'.repeat(STEPS)}`;
    let servedMeanwhile = false;
    const sent = await dribble(slow, headers, async (n) => {
      // Other customers are served while the slow client holds its connection.
      if (n === 3) {
        await served();
        servedMeanwhile = true;
      }
    });
    expect(slow.closed(), `still open after ${sent} bytes`).toBe(true);
    expect(sent).toBeLessThan(headers.length);
    expect(servedMeanwhile).toBe(true);
    expectTimedOutAnswer(slow.received());
  });

  it('closes the connection of a client that connects and sends nothing', async () => {
    const silent = await client();
    const steps = await waitUntilClosed(silent);
    expect(silent.closed(), `still open after ${steps} steps`).toBe(true);
    expect(steps).toBeLessThan(STEPS);
    expectTimedOutAnswer(silent.received());
  });

  it('cuts a client that sends its headers at once and dribbles its body past the request timeout', async () => {
    const slow = await client();
    const body = 'card=4111111111111111&'.padEnd(STEPS * 2, 'x');
    slow.socket.write(
      'POST /checkout/pay HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    // The budget is STEPS bytes of a body twice as long: the request never completes on its own.
    const sent = await dribble(slow, body.slice(0, STEPS));
    expect(slow.closed(), `still open after ${sent} body bytes`).toBe(true);
    expect(sent).toBeLessThan(STEPS);
    expectTimedOutAnswer(slow.received());
  });

  it('closes an idle keep-alive connection after a request was served on it', async () => {
    const idle = await client();
    idle.socket.write('GET /checkout/pay HTTP/1.1\r\nHost: shop.example\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n\r\n');
    // The whole response first (Content-Length framed), so the connection is idle from then on.
    let steps = 0;
    const complete = (): boolean => {
      const text = idle.received();
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text)?.[1];
      return end >= 0 && length !== undefined && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length);
    };
    while (steps < STEPS && !complete() && !idle.closed()) {
      await sleep(STEP_MS);
      steps++;
    }
    expect(complete(), idle.received().slice(0, 200)).toBe(true);
    expect(idle.received().split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(idle.received()).not.toMatch(/\r\nconnection: close\r\n/i);
    expect(idle.closed()).toBe(false);

    const waited = await waitUntilClosed(idle);
    expect(idle.closed(), `still open after ${waited} idle steps`).toBe(true);
    expect(waited).toBeLessThan(STEPS);
  });

  it('still serves a normal request afterwards', async () => {
    await served();
  });
});

describe('what Node is given (nodeServerTimeouts)', () => {
  const headerTimeouts = [100, 101, 150, 999, 1_000, 2_500, SETTING_DEFAULTS.headerTimeoutMs, 59_999, 3_600_000];

  it.each(headerTimeouts)('cuts within a %d ms header timeout, with a valid Node configuration', (headerTimeoutMs) => {
    for (const requestTimeoutMs of [headerTimeoutMs, headerTimeoutMs + 1, SETTING_DEFAULTS.requestTimeoutMs, 3_600_000].filter((r) => r >= headerTimeoutMs)) {
      const given = nodeServerTimeouts({ headerTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs: SETTING_DEFAULTS.keepAliveTimeoutMs });
      // Node cuts at its first check after the timeout it was given: at most one interval later.
      expect(given.headersTimeoutMs + given.connectionsCheckingIntervalMs).toBeLessThanOrEqual(headerTimeoutMs);
      expect(given.requestTimeoutMs + given.connectionsCheckingIntervalMs).toBeLessThanOrEqual(requestTimeoutMs);
      // Not needlessly early: at least nine tenths of what is documented.
      expect(given.headersTimeoutMs).toBeGreaterThanOrEqual(Math.floor(headerTimeoutMs * 0.9) - 1);
      expect(given.headersTimeoutMs).toBeGreaterThan(0);
      expect(given.headersTimeoutMs).toBeLessThanOrEqual(given.requestTimeoutMs);
      expect(given.keepAliveTimeoutMs).toBe(SETTING_DEFAULTS.keepAliveTimeoutMs);
      // Node's own validation of the combination (it throws ERR_OUT_OF_RANGE on a bad one).
      expect(() =>
        createServer({
          headersTimeout: given.headersTimeoutMs,
          requestTimeout: given.requestTimeoutMs,
          keepAliveTimeout: given.keepAliveTimeoutMs,
          connectionsCheckingInterval: given.connectionsCheckingIntervalMs,
        }).close(),
      ).not.toThrow();
    }
  });

  it('bounds the headers by a request timeout shorter than the header timeout', () => {
    const given = nodeServerTimeouts({ headerTimeoutMs: 10_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 5_000 });
    expect(given.headersTimeoutMs).toBeLessThanOrEqual(given.requestTimeoutMs);
    expect(given.requestTimeoutMs + given.connectionsCheckingIntervalMs).toBeLessThanOrEqual(2_000);
  });
});

describe('payguard serve: --header-timeout, --request-timeout, --keep-alive-timeout', () => {
  const REQUIRED = ['--upstream', 'http://127.0.0.1:3000', '--policy', 'policy.yaml', '--public-key', 'a.pub'];

  it('defaults to 10 s, 60 s and 5 s (limits.ts)', () => {
    const config = parseServeConfig(REQUIRED, {});
    expect(config.headerTimeoutMs).toBe(10_000);
    expect(config.requestTimeoutMs).toBe(60_000);
    expect(config.keepAliveTimeoutMs).toBe(5_000);
    expect([config.headerTimeoutMs, config.requestTimeoutMs, config.keepAliveTimeoutMs]).toEqual([
      SETTING_DEFAULTS.headerTimeoutMs,
      SETTING_DEFAULTS.requestTimeoutMs,
      SETTING_DEFAULTS.keepAliveTimeoutMs,
    ]);
  });

  it('reads them from flags', () => {
    const config = parseServeConfig([...REQUIRED, '--header-timeout', '2s', '--request-timeout', '30000', '--keep-alive-timeout', '75s'], {});
    expect(config.headerTimeoutMs).toBe(2_000);
    expect(config.requestTimeoutMs).toBe(30_000);
    expect(config.keepAliveTimeoutMs).toBe(75_000);
  });

  it('reads them from the environment, and a flag wins', () => {
    const env = { PAYGUARD_HEADER_TIMEOUT: '500ms', PAYGUARD_REQUEST_TIMEOUT: '1.5s', PAYGUARD_KEEP_ALIVE_TIMEOUT: '65s' };
    const config = parseServeConfig(REQUIRED, env);
    expect(config.headerTimeoutMs).toBe(500);
    expect(config.requestTimeoutMs).toBe(1_500);
    expect(config.keepAliveTimeoutMs).toBe(65_000);
    const flagged = parseServeConfig([...REQUIRED, '--keep-alive-timeout', '10s'], env);
    expect(flagged.keepAliveTimeoutMs).toBe(10_000);
    expect(flagged.headerTimeoutMs).toBe(500);
  });

  it.each([
    [['--header-timeout', '10 seconds'], {}, '--header-timeout'],
    [['--header-timeout', '-1s'], {}, '--header-timeout'],
    [['--header-timeout', '50ms'], {}, '--header-timeout'],
    [['--header-timeout', '2h'], {}, '--header-timeout'],
    [['--request-timeout', 'soon'], {}, '--request-timeout'],
    [['--request-timeout', '5s'], {}, '--request-timeout'],
    [['--header-timeout', '30s', '--request-timeout', '20s'], {}, '--request-timeout'],
    [[], { PAYGUARD_REQUEST_TIMEOUT: '9s' }, '--request-timeout'],
    [['--keep-alive-timeout', '0'], {}, '--keep-alive-timeout'],
    [['--keep-alive-timeout', '5m'], {}, '--keep-alive-timeout'],
    [[], { PAYGUARD_KEEP_ALIVE_TIMEOUT: 'forever' }, '--keep-alive-timeout'],
    [[], { PAYGUARD_HEADER_TIMEOUT: '99' }, '--header-timeout'],
  ] as const)('rejects %j (env %j) with a UsageError naming %s', (argv, env, flag) => {
    let error: unknown;
    try {
      parseServeConfig([...REQUIRED, ...argv], env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(flag);
  });
});
