/**
 * The paced (open-loop) load generator: every request of the schedule is sent and answered, with
 * the headers asked for, over no more than the connections asked for. How evenly they are spaced is
 * a matter of timing, which tests here never assert.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../bench/load.js';

describe('runLoad at a fixed overall rate', () => {
  const seen: IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.end(req.url === '/missing' ? '' : 'x'.repeat(1000));
  });
  server.on('connection', (socket) => sockets.add(socket));
  let origin: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends rate × duration requests, counts every response and its bytes, within the connection limit', async () => {
    const result = await runLoad({ url: `${origin}/page?x=1`, connections: 4, durationSeconds: 0.5, overallRate: 40, headers: { 'sec-fetch-dest': 'document' } });
    expect(result.responses).toBe(20);
    expect(result.statusCodes).toEqual({ 200: 20 });
    expect(result.non2xx).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.bytesPerResponse).toBe(1000);
    expect(result.latencyMs.p50).toBeGreaterThan(0);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
    expect(seen.slice(-20).every((h) => h['sec-fetch-dest'] === 'document')).toBe(true);
    expect(sockets.size).toBeLessThanOrEqual(4);
  });
});
