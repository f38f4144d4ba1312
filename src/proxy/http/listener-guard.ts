/**
 * Event listeners run inside another module's emit(): a throw in http-proxy-3's `proxyRes`, in a
 * request body's 'data' or in the server's 'upgrade' unwinds through Node's HTTP parser and ends
 * the process, taking every other customer's checkout with it. Every listener payguard registers on
 * the request path is wrapped here; a throw becomes the listener's own failure handling (one 502,
 * counted as internal-error, via verdict/fail-safe.ts) and the process lives on.
 */

/** The listeners payguard guards, by name (what a test injects a fault into, and what the log says). */
export const GUARDED_LISTENERS = [
  'request',
  'upgrade',
  'proxy-request',
  'proxy-response',
  'proxy-error',
  'report-body',
  'sink-body',
] as const;
export type GuardedListener = (typeof GUARDED_LISTENERS)[number];

/**
 * A fault raised at the start of a named listener. Tests only (STYLE: mocks are for faults you
 * cannot cause otherwise): no real input makes these listeners throw today, which is the point.
 */
export interface ListenerFaults {
  inject(listener: GuardedListener): void;
}

/** `listener`, with a throw (or an injected fault) handed to `onThrow` instead of the emitter. */
export function guarded<A extends unknown[]>(
  name: GuardedListener,
  faults: ListenerFaults | undefined,
  onThrow: (err: unknown, ...args: A) => void,
  listener: (...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      faults?.inject(name);
      listener(...args);
    } catch (err) {
      onThrow(err, ...args);
    }
  };
}
