/**
 * One case run: a shopper in a fresh Chromium context opens the case page through a fresh forward
 * proxy, waits until the page is quiet, fills in the card, presses pay, and waits until the
 * network is quiet again. What comes back is everything the browser sent, to any host.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEFAULT_FILL, DEFAULT_SUBMIT, entryPath, type E2ECase } from './cases.js';
import { startForwardProxy, type ForwardProxy, type RecordedRequest } from './forward-proxy.js';
import { SHOP_HOST, SHOP_ORIGIN } from './world.js';

export interface CaseRun {
  readonly requests: readonly RecordedRequest[];
  /** `window.__markers` of the page before submitting (allowed scripts that ran). */
  readonly markers: readonly string[];
  /** Selectors that existed and were filled. */
  readonly filled: readonly string[];
  /** The submit button (or field) was there and was clicked (or pressed). */
  readonly submitted: boolean;
}

/**
 * How long the network must stay silent before a step counts as finished, and the cap on waiting.
 * Chromium posts a form submission or a refresh as a task, so on busy cores its request can start
 * well after the click or the load event: a step waits that long for its first request, unless a
 * request has already come and gone.
 */
const QUIET_MS = 600;
const FIRST_REQUEST_WAIT_MS = { afterLoad: 1_000, afterSubmit: 2_500 } as const;
const SETTLE_CAP_MS = 12_000;
const STEP_TIMEOUT_MS = 15_000;

/** Run `c` with shop.test served by `shopTarget` (payguard or the bare storefront). */
export async function runCase(browser: Browser, c: E2ECase, shopTarget: string): Promise<CaseRun> {
  const proxy = await startForwardProxy(SHOP_HOST, shopTarget);
  const context = await browser.newContext({ proxy: { server: proxy.url }, javaScriptEnabled: true });
  const network = watchNetwork(context, proxy);
  try {
    const page = await context.newPage();
    await page.goto(SHOP_ORIGIN + entryPath(c), { waitUntil: 'load', timeout: STEP_TIMEOUT_MS }).catch(() => {
      // A refresh or redirect may interrupt the first navigation: what the browser sent is what counts.
    });
    await settle(network, FIRST_REQUEST_WAIT_MS.afterLoad);
    const markers = await readMarkers(page);
    const filled = await fillFields(page, c.fill ?? DEFAULT_FILL);
    const submitted = await submit(page, c);
    if (submitted) await settle(network, FIRST_REQUEST_WAIT_MS.afterSubmit);
    return { requests: [...proxy.requests], markers, filled, submitted };
  } finally {
    await context.close();
    await proxy.close();
  }
}

/** The network as both ends see it: requests the browser has started and the proxy has not answered. */
interface NetworkWatch {
  busy(): boolean;
  /** Changes whenever a request starts or ends on either side. */
  activity(): number;
}

function watchNetwork(context: BrowserContext, proxy: ForwardProxy): NetworkWatch {
  let browserInFlight = 0;
  let events = 0;
  context.on('request', () => {
    browserInFlight++;
    events++;
  });
  const ended = (): void => {
    browserInFlight = Math.max(0, browserInFlight - 1);
    events++;
  };
  context.on('requestfinished', ended);
  context.on('requestfailed', ended);
  return {
    busy: () => browserInFlight > 0 || proxy.inFlight() > 0,
    activity: () => events + proxy.requests.length,
  };
}

/**
 * Wait until no request is open on either side and nothing has happened for QUIET_MS, and either a
 * request has happened or `firstRequestWaitMs` has passed (bounded by SETTLE_CAP_MS): ending a run
 * early could hide a leak.
 */
async function settle(network: NetworkWatch, firstRequestWaitMs: number): Promise<void> {
  const start = Date.now();
  const initial = network.activity();
  let seen = initial;
  let quietSince = start;
  while (Date.now() - start < SETTLE_CAP_MS) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (network.activity() !== seen || network.busy()) {
      seen = network.activity();
      quietSince = Date.now();
      continue;
    }
    const stepStarted = seen !== initial || Date.now() - start >= firstRequestWaitMs;
    if (stepStarted && Date.now() - quietSince >= QUIET_MS) return;
  }
}

async function readMarkers(page: Page): Promise<string[]> {
  try {
    const value = await page.evaluate(() => (globalThis as { __markers?: unknown }).__markers ?? []);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/** Fill every field that exists on the page now (a blocked page has none). */
async function fillFields(page: Page, fill: Readonly<Record<string, string>>): Promise<string[]> {
  const filled: string[] = [];
  for (const [selector, value] of Object.entries(fill)) {
    const element = await page.$(selector).catch(() => null);
    if (!element) continue;
    const ok = await element.fill(value, { timeout: STEP_TIMEOUT_MS }).then(
      () => true,
      () => false,
    );
    if (ok) filled.push(selector);
  }
  return filled;
}

/** Click or press as the case says; true when the element was there and the action was attempted. */
async function submit(page: Page, c: E2ECase): Promise<boolean> {
  const how = c.submit ?? DEFAULT_SUBMIT;
  if (how === 'none') return false;
  const selector = 'click' in how ? how.click : how.press;
  const element = await page.$(selector).catch(() => null);
  if (!element) return false;
  // Without noWaitAfter, Playwright returns only once a navigation the click scheduled has started,
  // so a slow machine cannot end the run between the click and the submission's request.
  const action = 'click' in how ? element.click({ timeout: STEP_TIMEOUT_MS }) : element.press(how.key, { timeout: STEP_TIMEOUT_MS });
  // A failed or timed-out action may still have submitted: the run waits for the network either way.
  await action.catch(() => undefined);
  return true;
}
