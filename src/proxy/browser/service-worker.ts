/**
 * Service workers (docs/vectors.md S-11, S-16): once registered, a worker answers every navigation
 * in its scope from the browser itself, so the proxy never sees those pages again. Its script is
 * the one place a single injection becomes permanent; payguard lets the browser fetch only a
 * worker script the policy names, and refuses a response that widens the worker's scope.
 */
import type { IncomingMessage } from 'node:http';
import type { AllowEntry, Policy } from '../../policy/model.js';

/**
 * Service Workers §"Update" (step "Let serviceWorkerAllowed be…"): the browser sends
 * `Service-Worker: script` on the fetch of a worker's main script (and its updates).
 */
export function isServiceWorkerScriptRequest(req: IncomingMessage): boolean {
  const value = req.headers['service-worker'];
  return typeof value === 'string' && value.trim().toLowerCase() === 'script';
}

/**
 * The allow.script entry naming this worker script by its exact URL. An origin entry, the site's
 * implicit "self", or a prefix is not enough: a worker takes over pages, so it is named one by one.
 */
export function namedServiceWorker(policy: Policy, scriptUrl: URL): AllowEntry | undefined {
  const href = scriptUrl.href.split('#')[0]!;
  return policy.allow.script.find((entry) => entry.type === 'url' && !entry.prefix && entry.url === href);
}

/**
 * Whether a `Service-Worker-Allowed` response header lets the worker claim more than the default
 * maximum scope, the directory of its script (Service Workers §"Update", steps on maxScopeString):
 * e.g. `/` for `/static/sw.js`. A value the browser would reject (another origin, unparsable) does
 * not widen anything, but is treated as widening too: there is no legitimate reason to send it.
 */
export function widensScope(scriptUrl: URL, serviceWorkerAllowed: readonly string[]): boolean {
  if (serviceWorkerAllowed.length === 0) return false;
  const defaultScope = scriptUrl.pathname.slice(0, scriptUrl.pathname.lastIndexOf('/') + 1);
  return serviceWorkerAllowed.some((value) => {
    if (!URL.canParse(value.trim(), scriptUrl.href)) return true;
    const maxScope = new URL(value.trim(), scriptUrl);
    return maxScope.origin !== scriptUrl.origin || !maxScope.pathname.startsWith(defaultScope);
  });
}
