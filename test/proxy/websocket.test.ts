/** Issue 4: "passes WebSocket upgrades through" (the pass-through path, http-proxy-3's ws support). */
import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorefront, type Storefront } from '../helpers/upstreams.js';
import { startHarness, type Harness } from './support.js';

describe('WebSocket pass-through', () => {
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

  function open(path: string): Promise<WebSocket> {
    const ws = new WebSocket(`${harness.payguard.publicUrl.replace('http:', 'ws:')}${path}`);
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(ws), { once: true });
      ws.addEventListener('error', () => reject(new Error('websocket failed to open')), { once: true });
    });
  }

  function nextMessage(ws: WebSocket): Promise<string> {
    return new Promise((resolve) => ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true }));
  }

  it('echoes text frames through payguard to the storefront and back', async () => {
    const ws = await open('/live/cart');
    try {
      for (const text of ['hello', 'x'.repeat(1000), 'カート']) {
        const reply = nextMessage(ws);
        ws.send(text);
        expect(await reply).toBe(text);
      }
      const upgrade = storefront.requestsFor('/live/cart');
      // The upgrade reached the storefront's 'upgrade' handler, not its request handler.
      expect(upgrade.length).toBe(0);
    } finally {
      ws.close();
    }
  });

  it('never forwards an upgrade to payguard\'s reserved paths', async () => {
    await expect(open('/.well-known/payguard/sink')).rejects.toThrow();
  });
});
