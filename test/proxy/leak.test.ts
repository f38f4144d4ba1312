/**
 * Leak test (undici's habit): after clients abort mid-body, payguard keeps no reference to their
 * requests and responses. Each server-side request/response pair is watched with a
 * FinalizationRegistry (through Node's `http.server.request.start` diagnostics channel), then the
 * garbage collector is run and every one of them must have been collected.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { NAVIGATION, page, startHarness, type Harness } from './support.js';

// --expose-gc at run time: the flag makes `gc` available to contexts created from now on.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('no leak after client aborts', () => {
  let storefront: Storefront;
  let harness: Harness;
  beforeAll(async () => {
    const chunk = Buffer.alloc(32 * 1024, 0x61);
    storefront = await startStorefront({
      '/report/download': { headers: [['content-type', 'application/zip']], body: Buffer.concat(Array.from({ length: 64 }, () => chunk)), chunkSize: 32 * 1024, chunkDelayMs: 5 },
      '/checkout/slow-page': { headers: [['content-type', 'text/html']], body: Buffer.concat([page('clean-checkout.html'), Buffer.alloc(200_000, 0x20)]), chunkSize: 4096, chunkDelayMs: 5 },
    });
    harness = await startHarness(storefront);
  });
  afterAll(async () => {
    await harness.stop();
    await storefront.close();
  });

  it('frees every aborted request and response (streaming and buffering paths)', async () => {
    let collected = 0;
    let watched = 0;
    const registry = new FinalizationRegistry<string>(() => {
      collected++;
    });
    const onRequest = (message: unknown): void => {
      const { request: req, response: res, server } = message as { request: object; response: object; server: { address(): { port: number } | null } };
      // Only payguard's public listener (the storefront's server emits on the same channel).
      if (String(server.address()?.port) !== new URL(harness.payguard.publicUrl).port) return;
      registry.register(req, 'request');
      registry.register(res, 'response');
      watched += 2;
    };
    subscribe('http.server.request.start', onRequest);
    try {
      for (let i = 0; i < 10; i++) {
        for (const path of ['/report/download', '/checkout/slow-page']) {
          const controller = new AbortController();
          const pending = request(`${harness.payguard.publicUrl}${path}`, { headers: NAVIGATION, signal: controller.signal })
            .then(async (res) => {
              for await (const _ of res.body) break;
            })
            .catch(() => undefined);
          await new Promise((r) => setTimeout(r, 30));
          controller.abort();
          await pending;
        }
      }
    } finally {
      unsubscribe('http.server.request.start', onRequest);
    }
    expect(watched).toBe(40);
    for (let i = 0; i < 100 && collected < watched; i++) {
      await new Promise((r) => setTimeout(r, 50));
      gc();
    }
    expect(collected).toBe(watched);
  });
});
