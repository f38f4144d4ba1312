/**
 * Opens one corpus page in a real Chromium and records everything the page made live or tried:
 * the form targets, submitters, scripts, frames, objects and embeds in the DOM (shadow roots,
 * closed ones included, and srcdoc documents), every request it made, every piece of inline code
 * V8 compiled, and where a form submission went.
 *
 * Nothing leaves the machine: every request to a non-loopback origin is answered inside the
 * browser (playwright's route fulfil), and every top-level navigation after the page itself is
 * aborted (ERR_ABORTED commits no error page, so the DOM stays inspectable).
 */
import type { Browser, BrowserContext, CDPSession, Page, Route } from 'playwright-core';
import type { CorpusCase, OracleInstructions } from './cases.js';

/** A URL-bearing element Chromium made live, with the URL as Chromium resolved it (its IDL attribute). */
export interface LiveTarget {
  readonly kind: 'form' | 'formaction' | 'script' | 'frame' | 'object' | 'embed';
  readonly url: string;
  /** The document it is in (the page URL, or about:srcdoc). */
  readonly documentUrl: string;
  /** 'document', 'open' or 'closed' (shadow root mode). */
  readonly root: string;
}

export interface ObservedRequest {
  readonly url: string;
  /** CDP resource type: Document, Script, Image, … */
  readonly type: string;
  readonly method: string;
  /** CDP initiator type: parser, script, preload, other, … */
  readonly initiator: string;
  readonly mainFrame: boolean;
}

export interface CompiledCode {
  readonly source: string;
  /** The script's URL as V8 knows it (the document URL for inline code, "" for javascript: URLs). */
  readonly url: string;
}

export interface BrowserObservation {
  readonly pageUrl: string;
  readonly characterSet: string;
  readonly targets: readonly LiveTarget[];
  readonly requests: readonly ObservedRequest[];
  readonly code: readonly CompiledCode[];
  /** The top-level navigation the submit step caused, if any. */
  readonly submission?: { readonly url: string; readonly method: string };
  readonly navigationError?: string;
}

/** Upper bounds: every wait in the probe ends. */
const LOAD_TIMEOUT_MS = 30_000;
const QUIET_MS = 300;
const SETTLE_LIMIT_MS = 8_000;
const SUBMIT_LIMIT_MS = 15_000;
/** Generous: on 2 shared cores under load, playwright's actionability checks can take seconds. */
const ACTION_LIMIT_MS = 15_000;

export async function probeCase(browser: Browser, pageUrl: string, oracle: OracleInstructions): Promise<BrowserObservation> {
  const context = await browser.newContext();
  try {
    return await probeInContext(context, pageUrl, oracle);
  } finally {
    await context.close();
  }
}

async function probeInContext(context: BrowserContext, pageUrl: string, oracle: OracleInstructions): Promise<BrowserObservation> {
  const loopbackOrigin = new URL(pageUrl).origin;
  const state = { pageLoaded: false, submitting: false, submission: undefined as BrowserObservation['submission'] };
  const page = await context.newPage();
  await context.route('**/*', (route) => answer(route, page, loopbackOrigin, state));
  const cdp = await context.newCDPSession(page);
  const recorder = await startRecording(cdp);

  let navigationError: string | undefined;
  try {
    await page.goto(pageUrl, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS });
  } catch (err) {
    // A page whose own response redirects off-site ends in an aborted navigation: that is data.
    navigationError = (err as Error).message.split('\n')[0];
  }
  state.pageLoaded = true;
  await settle(recorder, oracle);

  const code = await recorder.compiledCode();
  const { targets, characterSet } = await collectLiveTargets(cdp);

  if (oracle.submit) {
    state.submitting = true;
    await submit(page, oracle.submit);
    await waitFor(() => state.submission !== undefined, SUBMIT_LIMIT_MS);
  }
  return {
    pageUrl,
    characterSet,
    targets,
    requests: recorder.requests,
    code,
    ...(state.submission ? { submission: state.submission } : {}),
    ...(navigationError ? { navigationError } : {}),
  };
}

/** Answer every request without touching the network beyond 127.0.0.1. */
async function answer(
  route: Route,
  page: Page,
  loopbackOrigin: string,
  state: { pageLoaded: boolean; submitting: boolean; submission: BrowserObservation['submission'] },
): Promise<void> {
  const request = route.request();
  const url = new URL(request.url());
  const isTopLevel = request.isNavigationRequest() && request.frame() === page.mainFrame();
  if (isTopLevel && state.pageLoaded) {
    if (state.submitting && !state.submission) state.submission = { url: request.url(), method: request.method() };
    return route.abort('aborted');
  }
  // Loopback requests reach the static server untouched (duplicate headers included). A redirect
  // from it is followed by Chromium without asking this handler again (playwright routes only the
  // first request of a redirect chain), so a foreign Location is requested for real: the reserved
  // .example names never resolve, and the attempt is still recorded from the DevTools protocol.
  if (url.origin === loopbackOrigin) return route.continue();
  if (isTopLevel) return route.abort('aborted');
  switch (request.resourceType()) {
    case 'document':
      return route.fulfill({ status: 200, contentType: 'text/html', body: '' });
    case 'script':
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: '' });
    case 'stylesheet':
      return route.fulfill({ status: 200, contentType: 'text/css', body: '' });
    default:
      return route.fulfill({ status: 204, body: '' });
  }
}

interface Recorder {
  readonly requests: ObservedRequest[];
  /** Sources fetched so far (compiledCode() waits for all of them). */
  readonly sourcesSeen: string[];
  lastActivity: number;
  compiledCode(): Promise<CompiledCode[]>;
}

/** Network requests and compiled scripts, through the DevTools protocol (initiator and source text are not in playwright's API). */
async function startRecording(cdp: CDPSession): Promise<Recorder> {
  const mainWorlds = new Set<number>();
  // Sources are fetched as soon as a script is parsed: a frame that goes away takes its scripts with it.
  const sources: Promise<(CompiledCode & { contextId: number }) | undefined>[] = [];
  const recorder: Recorder = {
    requests: [],
    sourcesSeen: [],
    lastActivity: Date.now(),
    async compiledCode() {
      const settled = await Promise.all(sources);
      // External scripts are answered with an empty body, so any non-empty source in a page's
      // main world is inline code (scripts, handlers, javascript: URLs). Playwright's own helpers
      // run in a separate utility world.
      return settled
        .filter((c): c is CompiledCode & { contextId: number } => c !== undefined && c.source !== '' && mainWorlds.has(c.contextId))
        .map(({ source, url }) => ({ source, url }));
    },
  };
  let frameTreeMain: string | undefined;
  cdp.on('Runtime.executionContextCreated', (e) => {
    const aux = e.context.auxData as { isDefault?: boolean; frameId?: string } | undefined;
    // Chromium's own error page (after a failed navigation) runs its scripts in a main world too.
    if (aux?.isDefault) mainWorlds.add(e.context.id);
  });
  cdp.on('Debugger.scriptParsed', (e) => {
    // Chromium's own error page (after a failed navigation) runs its scripts in a main world too.
    if (e.url.startsWith('chrome-error:')) mainWorlds.delete(e.executionContextId);
    if (!mainWorlds.has(e.executionContextId)) return;
    // Code compiled while other code runs (eval, new Function, string timers) is a consequence of
    // that code, which is judged itself; markup-born code (scripts, handlers) has no JS caller.
    if ((e.stackTrace?.callFrames.length ?? 0) > 0) return;
    recorder.lastActivity = Date.now();
    const contextId = e.executionContextId;
    sources.push(
      cdp.send('Debugger.getScriptSource', { scriptId: e.scriptId }).then(
        ({ scriptSource }) => {
          recorder.sourcesSeen.push(scriptSource);
          return { source: scriptSource, url: e.url, contextId };
        },
        () => undefined,
      ),
    );
  });
  cdp.on('Network.requestWillBeSent', (e) => {
    recorder.lastActivity = Date.now();
    frameTreeMain ??= e.frameId;
    recorder.requests.push({
      url: e.request.url + (e.request.urlFragment ?? ''),
      type: e.type ?? 'Other',
      method: e.request.method,
      initiator: e.initiator.type,
      mainFrame: e.frameId === frameTreeMain,
    });
  });
  await cdp.send('Runtime.enable');
  await cdp.send('Debugger.enable');
  await cdp.send('Network.enable');
  return recorder;
}

/**
 * Wait until the expected loads and code have happened and neither the network nor V8 has been
 * busy for a moment (bounded). Events fired after the load event (an image's error, a 0-second
 * refresh) land in this window.
 */
async function settle(recorder: Recorder, oracle: OracleInstructions): Promise<void> {
  recorder.lastActivity = Date.now();
  const loads = (oracle.loads ?? []).map(withoutFragment);
  const groups = (oracle.loadsOneOf ?? []).map((group) => group.map(withoutFragment));
  const runs = oracle.runs ?? [];
  const requested = (u: string): boolean => recorder.requests.some((r) => withoutFragment(r.url) === u);
  const seen = (): boolean => loads.every(requested) && groups.every((group) => group.some(requested)) && runs.every((source) => recorder.sourcesSeen.includes(source));
  await waitFor(() => seen() && Date.now() - recorder.lastActivity >= QUIET_MS, SETTLE_LIMIT_MS);
}

async function waitFor(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function submit(page: Page, how: NonNullable<OracleInstructions['submit']>): Promise<void> {
  try {
    if ('click' in how) await page.click(how.click, { timeout: ACTION_LIMIT_MS, noWaitAfter: true });
    else {
      await page.focus(how.enter, { timeout: ACTION_LIMIT_MS });
      await page.keyboard.press('Enter');
    }
  } catch {
    // The element may not be clickable in Chromium (that is itself an observation): no submission is recorded.
  }
}

/**
 * Run on one element: the URL Chromium made live through it, resolved by Chromium's own IDL
 * getters (form.action, button.formAction, script.src, …), or null.
 */
const TARGET_OF_ELEMENT = `function () {
  const el = this, tag = el.localName;
  const JS_TYPES = ['application/ecmascript', 'application/javascript', 'application/x-ecmascript', 'application/x-javascript',
    'text/ecmascript', 'text/javascript', 'text/javascript1.0', 'text/javascript1.1', 'text/javascript1.2', 'text/javascript1.3',
    'text/javascript1.4', 'text/javascript1.5', 'text/jscript', 'text/livescript', 'text/x-ecmascript', 'text/x-javascript'];
  const isExecutableType = (script) => {
    const type = script.getAttribute('type');
    if (type === null || type === '') {
      const language = script.getAttribute('language');
      return language === null || language === '' || JS_TYPES.includes('text/' + language.toLowerCase());
    }
    const t = type.trim().toLowerCase();
    return t === 'module' || JS_TYPES.includes(t);
  };
  const has = (name) => el.hasAttribute(name) && el.getAttribute(name).trim() !== '';
  if (el.namespaceURI === 'http://www.w3.org/2000/svg') {
    if (tag !== 'script') return null;
    // SVG 2: href wins over xlink:href.
    const href = el.getAttribute('href') ?? el.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    if (!href || href.trim() === '') return null;
    try { return { kind: 'script', url: new URL(href, el.baseURI).href }; } catch { return null; }
  }
  if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') return null;
  if (tag === 'form') return { kind: 'form', url: el.action };
  // A submitter's formaction decides where its submission goes (HTML §4.10.21.3 step 13).
  if ((tag === 'button' || tag === 'input') && (el.type === 'submit' || el.type === 'image') && el.hasAttribute('formaction')) return { kind: 'formaction', url: el.formAction };
  // Chromium strips HTML whitespace from src and treats an empty one as "no fetch" (ScriptLoader);
  // a data block (HTML §4.12.1.1: a type that is neither a JavaScript MIME type nor "module") is never fetched.
  if (tag === 'script' && has('src') && isExecutableType(el)) return { kind: 'script', url: el.src };
  if ((tag === 'iframe' || tag === 'frame') && has('src')) return { kind: 'frame', url: el.src };
  if (tag === 'object' && has('data')) return { kind: 'object', url: el.data };
  if (tag === 'embed' && has('src')) return { kind: 'embed', url: el.src };
  return null;
}`;

const CANDIDATE_ELEMENTS = new Set(['FORM', 'BUTTON', 'INPUT', 'SCRIPT', 'IFRAME', 'FRAME', 'OBJECT', 'EMBED']);

interface SnapshotDocument {
  documentURL: number;
  nodes: {
    nodeType?: number[];
    nodeName?: number[];
    backendNodeId?: number[];
    shadowRootType?: { index: number[]; value: number[] };
  };
}

/**
 * The DOM snapshot is flat (no depth limit, unlike DOM.getDocument) and includes the contents
 * of shadow roots, open and closed, and of srcdoc documents. Template contents are not in it:
 * they are inert in Chromium. Frames loaded from a URL are separate responses, inspected on
 * their own, so only the page and its srcdoc documents are read.
 */
async function collectLiveTargets(cdp: CDPSession): Promise<{ targets: LiveTarget[]; characterSet: string }> {
  const snapshot = (await cdp.send('DOMSnapshot.captureSnapshot', { computedStyles: [] })) as unknown as {
    documents: SnapshotDocument[];
    strings: string[];
  };
  const targets: LiveTarget[] = [];
  let characterSet = '';
  for (const [docIndex, doc] of snapshot.documents.entries()) {
    const documentUrl = snapshot.strings[doc.documentURL] ?? '';
    if (docIndex !== 0 && documentUrl !== 'about:srcdoc') continue;
    const { nodeType = [], nodeName = [], backendNodeId = [], shadowRootType } = doc.nodes;
    const rootOf = new Map<number, string>();
    shadowRootType?.index.forEach((nodeIndex, k) => rootOf.set(nodeIndex, snapshot.strings[shadowRootType.value[k] ?? -1] ?? 'shadow'));
    if (docIndex === 0) characterSet = String(await callOn(cdp, backendNodeId[0] ?? 0, 'function () { return this.characterSet; }'));
    for (let i = 0; i < nodeType.length; i++) {
      if (nodeType[i] !== 1 || !CANDIDATE_ELEMENTS.has((snapshot.strings[nodeName[i] ?? -1] ?? '').toUpperCase())) continue;
      const target = (await callOn(cdp, backendNodeId[i] ?? 0, TARGET_OF_ELEMENT)) as { kind: LiveTarget['kind']; url: string } | null;
      const root = docIndex === 0 ? (rootOf.get(i) ?? 'document') : 'srcdoc';
      if (target) targets.push({ ...target, documentUrl, root });
    }
  }
  return { targets, characterSet };
}

async function callOn(cdp: CDPSession, backendNodeId: number, functionDeclaration: string): Promise<unknown> {
  const { object } = await cdp.send('DOM.resolveNode', { backendNodeId });
  if (!object.objectId) return null;
  const { result } = await cdp.send('Runtime.callFunctionOn', { objectId: object.objectId, functionDeclaration, returnByValue: true });
  return result.value;
}

export function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash < 0 ? url : url.slice(0, hash);
}

/** The public URL a case is served at, for a given server origin. */
export function caseUrl(origin: string, c: CorpusCase): string {
  return origin + c.path;
}
