/**
 * Learning from live traffic (issue 18 item 4, `payguard serve --learn FILE`). On report routes,
 * every page payguard inspects and every CSP report browsers send are the inventory's raw
 * material, seen by real shoppers: the checkout with a real cart, and the scripts a vendor bundle
 * injects at run time, which no crawl of the markup can see. The record (inventory/record.ts) is
 * written every LIMITS.learnFlushMs and at shutdown; `payguard policy draft FILE` turns it into a
 * policy with `why: TODO` on every entry.
 *
 * Privacy: nothing from a request is read (no body, no cookie, no query). Inline code is held in
 * memory only (bounded), and what is written is its hash, or a template whose fixed text every
 * rendering shared: the literals that varied (names, tokens, carts) are slots whose values are not
 * written. Code holding a number that passes the Luhn check is not learned at all.
 * Cost: only on report routes, only for pages not seen before (a verification-cache hit is the
 * same bytes), and each page path stops being learned from after LIMITS.learnRenderingsPerPage
 * renderings; the work runs after the response has been sent.
 */
import { chmod, rename, writeFile } from 'node:fs/promises';
import { LearningRecordError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { containsCardNumber } from '../../observe/redact.js';
import { addressOf } from '../../inventory/inventory.js';
import { readLearningRecordIfAny, RECORD_FORMAT, type LearningRecord, type RecordedLoad, type ReportedLoad } from '../../inventory/record.js';
import { learnInlineTemplates, type InlineSample, type LearnedInline } from '../../inventory/templates.js';
import type { AllowKind } from '../../policy/model.js';
import { inlineCodeOf } from '../../verify/inline-code.js';
import type { ObservedDocument, ObservedReport, ProxyLogger, TrafficRecorder } from '../ports.js';

/** The CSP directive a browser reported → the allow list that names such a load. */
const DIRECTIVE_LISTS: Readonly<Record<string, AllowKind>> = {
  'script-src': 'script',
  'script-src-elem': 'script',
  'style-src': 'style',
  'style-src-elem': 'style',
  'img-src': 'image',
  'font-src': 'font',
  'media-src': 'media',
  'manifest-src': 'manifest',
  'connect-src': 'connect',
  'frame-src': 'frame',
  'child-src': 'frame',
  'form-action': 'form',
};

/** Reporting clients counted per load: enough to tell one client from many. */
const MAX_COUNTED_CLIENTS = 100;

interface LoadSeen {
  readonly list: AllowKind;
  readonly kinds: Set<string>;
  /** Origin and path. */
  readonly place: string;
  /** The query every observation had (a script's `?v=3`), or null once two differed; '' for none. */
  query: string | null;
  readonly origin: string | undefined;
  readonly pages: Set<string>;
}

interface ReportSeen extends Omit<ReportedLoad, 'reports' | 'clients' | 'pages'> {
  reports: number;
  readonly clients: Set<string>;
  readonly pages: Set<string>;
}

export class TrafficLearner implements TrafficRecorder {
  private site: string | undefined;
  private firstSeen: string | undefined;
  private lastSeen: string | undefined;
  private documents = 0;
  private readonly renderings = new Map<string, number>();
  private readonly loads = new Map<string, LoadSeen>();
  private readonly reported = new Map<string, ReportSeen>();
  private readonly samples = new Map<string, InlineSample>();
  private sampleBytes = 0;
  private readonly skipped = new Map<string, number>();
  private readonly evalPages = new Set<string>();
  /** Inline entries of the record found at start: kept, since the samples they came from are gone. */
  private readonly earlierInline: LearnedInline[];
  private dirty = false;
  private learnedInline: LearnedInline[] = [];
  private samplesAtLastLearn = -1;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly logger: ProxyLogger,
    earlier: LearningRecord | undefined,
  ) {
    this.earlierInline = [...(earlier?.inline ?? [])];
    if (earlier) this.resume(earlier);
  }

  /** Opens FILE: an earlier record there is carried on (a restart does not forget a week of learning); a file that is not one is an error. */
  static async open(file: string, logger: ProxyLogger): Promise<TrafficLearner> {
    const learner = new TrafficLearner(file, logger, await readLearningRecordIfAny(file));
    // Written at once: a path payguard cannot write is refused at start (serve exits 2 naming
    // it), not found after a day of traffic.
    const problem = await learner.write();
    if (problem) throw new LearningRecordError(file, undefined, `cannot write: ${problem.message}`, { cause: problem });
    learner.timer = setInterval(() => void learner.flush(), LIMITS.learnFlushMs);
    learner.timer.unref();
    return learner;
  }

  /** Takes in one inspected page; the inline code is read after the response went out. */
  document(observed: ObservedDocument): void {
    const page = pageOf(observed.url);
    if (!page) return;
    if (this.site === undefined) this.site = observed.site;
    if (observed.site !== this.site) return this.skip('other-site');
    if (!this.renderings.has(page) && this.renderings.size >= LIMITS.learnMaxPages) return this.skip('pages-over-cap');
    const seen = this.renderings.get(page) ?? 0;
    this.renderings.set(page, seen + 1);
    this.documents++;
    this.touch();
    for (const finding of observed.verified.findings) {
      if (finding.list === 'inline') continue;
      const address = addressOf(finding);
      if (address === undefined) continue;
      this.addLoad(finding.list, finding.kind, address, finding.origin, page);
    }
    if (seen >= LIMITS.learnRenderingsPerPage) return;
    setImmediate(() => {
      observed.bytes().then(
        (bytes) => (bytes ? this.learnInline(bytes, observed, page) : this.skip('body-not-held')),
        (err: unknown) => this.logger.error('learning-failed', err, { page }),
      );
    });
  }

  /** Takes in one CSP violation report about a page of the site on a report route. */
  browserReport(report: ObservedReport): void {
    const list = DIRECTIVE_LISTS[report.directive.toLowerCase()];
    const page = report.documentUrl === undefined ? undefined : pageOf(report.documentUrl);
    // The shop's code compiles strings (Knockout, underscore templates): the route needs scriptEval.
    if (list === 'script' && report.blocked === 'eval' && page) {
      if (this.evalPages.size < LIMITS.learnMaxPages) this.evalPages.add(page);
      this.touch();
      return;
    }
    if (!list || !page || report.blocked === undefined || !URL.canParse(report.blocked)) return this.skip('report-not-a-load');
    const blocked = new URL(report.blocked);
    if (blocked.protocol !== 'http:' && blocked.protocol !== 'https:') return this.skip('report-not-a-load');
    // Origin and path: a reported query can carry anything the page put there (a card number, a token).
    const address = blocked.origin + blocked.pathname;
    const key = `${list} ${address}`;
    let seen = this.reported.get(key);
    if (!seen) {
      if (this.reported.size >= LIMITS.learnMaxLoads) return this.skip('loads-over-cap');
      seen = { list, address, origin: blocked.origin, directive: report.directive.toLowerCase(), reports: 0, clients: new Set(), pages: new Set() };
      this.reported.set(key, seen);
    }
    seen.reports++;
    if (seen.clients.size < MAX_COUNTED_CLIENTS) seen.clients.add(report.client);
    if (seen.pages.size < LIMITS.learnPagesPerEntry) seen.pages.add(page);
    this.touch();
  }

  /** Writes the record (to a temp file, then renamed: a crash never leaves half a record). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => void (await this.write()));
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.dirty = true;
    await this.flush();
  }

  /** The record as it stands. */
  record(): LearningRecord {
    if (this.samplesAtLastLearn !== this.samples.size) {
      this.learnedInline = learnInlineTemplates([...this.samples.values()]);
      this.samplesAtLastLearn = this.samples.size;
    }
    const fresh = new Set(this.learnedInline.map(inlineKey));
    const now = new Date().toISOString();
    return {
      format: RECORD_FORMAT,
      site: this.site ?? 'null',
      firstSeen: this.firstSeen ?? now,
      lastSeen: this.lastSeen ?? now,
      documents: this.documents,
      pages: [...this.renderings.keys()].sort(),
      loads: [...this.loads.values()].map((l): RecordedLoad => ({ list: l.list, kinds: [...l.kinds, ...(l.query === null ? ['query-varies'] : [])].sort(), address: l.place + (l.query ?? ''), origin: l.origin, pages: [...l.pages].sort() })),
      reported: [...this.reported.values()].map((r): ReportedLoad => ({ list: r.list, address: r.address, origin: r.origin, directive: r.directive, reports: r.reports, clients: r.clients.size, pages: [...r.pages].sort() })),
      inline: [...this.earlierInline.filter((e) => !fresh.has(inlineKey(e))), ...this.learnedInline],
      evalPages: [...this.evalPages].sort(),
      skipped: Object.fromEntries([...this.skipped].sort()),
    };
  }

  /** Writes the record if anything changed; the error when it could not (logged, and kept for the next try). */
  private async write(): Promise<Error | undefined> {
    if (!this.dirty && this.samplesAtLastLearn !== -1) return undefined;
    this.dirty = false;
    const record = this.record();
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      // Owner-only: the record names the shop's pages and what they load.
      await writeFile(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
      await chmod(temp, 0o600);
      await rename(temp, this.file);
      return undefined;
    } catch (err) {
      this.dirty = true;
      this.logger.error('learning-record-write-failed', err, { file: this.file });
      return err as Error;
    }
  }

  private learnInline(bytes: Uint8Array, observed: ObservedDocument, page: string): void {
    for (const code of inlineCodeOf(bytes, observed.headers, observed.defaultCharset)) {
      const key = `${page}\u0000${code.goal}\u0000${code.text}`;
      if (this.samples.has(key)) continue;
      if (containsCardNumber(code.text)) {
        this.skip('card-like-number');
        continue;
      }
      if (this.sampleBytes + code.text.length > LIMITS.learnInlineBytes) {
        this.skip('inline-over-cap');
        continue;
      }
      this.sampleBytes += code.text.length;
      this.samples.set(key, { goal: code.goal, text: code.text, page });
      this.dirty = true;
    }
  }

  /**
   * A load by origin and path. The query is kept only for scripts and form targets, which the draft
   * allows by exact URL (a cache-busting `?v=3` is part of it), and only while every observation had
   * the same one: a query that varies can carry a shopper's token, so it is dropped and marked.
   */
  private addLoad(list: AllowKind, kind: string, address: string, origin: string | undefined, page: string): void {
    const url = URL.canParse(address) ? new URL(address) : undefined;
    const place = url && (url.protocol === 'http:' || url.protocol === 'https:') ? url.origin + url.pathname : address;
    const query = url && place !== address && (list === 'script' || list === 'form') ? url.search : '';
    const key = `${list} ${place}`;
    let seen = this.loads.get(key);
    if (!seen) {
      if (this.loads.size >= LIMITS.learnMaxLoads) return this.skip('loads-over-cap');
      seen = { list, kinds: new Set(), place, query, origin, pages: new Set() };
      this.loads.set(key, seen);
    } else if (seen.query !== query) {
      seen.query = null;
    }
    seen.kinds.add(kind);
    if (seen.pages.size < LIMITS.learnPagesPerEntry) seen.pages.add(page);
  }

  private resume(earlier: LearningRecord): void {
    this.site = earlier.site;
    this.firstSeen = earlier.firstSeen;
    this.lastSeen = earlier.lastSeen;
    this.documents = earlier.documents;
    for (const page of earlier.pages) this.renderings.set(page, 0);
    for (const l of earlier.loads) {
      const varies = l.kinds.includes('query-varies');
      const place = URL.canParse(l.address) && /^https?:/.test(l.address) ? new URL(l.address).origin + new URL(l.address).pathname : l.address;
      const query = varies ? null : l.address.slice(place.length);
      this.loads.set(`${l.list} ${place}`, { list: l.list, kinds: new Set(l.kinds.filter((k) => k !== 'query-varies')), place, query, origin: l.origin, pages: new Set(l.pages) });
    }
    for (const r of earlier.reported) {
      // Client addresses are not written, only their count: stand-ins keep the count across a restart.
      const clients = new Set(Array.from({ length: r.clients }, (_, i) => `earlier-${i}`));
      this.reported.set(`${r.list} ${r.address}`, { ...r, clients, pages: new Set(r.pages) });
    }
    for (const [why, n] of Object.entries(earlier.skipped)) this.skipped.set(why, n);
    for (const page of earlier.evalPages) this.evalPages.add(page);
  }

  private touch(): void {
    const now = new Date().toISOString();
    this.firstSeen ??= now;
    this.lastSeen = now;
    this.dirty = true;
  }

  private skip(why: string): void {
    this.skipped.set(why, (this.skipped.get(why) ?? 0) + 1);
    this.dirty = true;
  }
}

/** Origin and path: the query is never kept (it can carry tokens, search terms, an email). */
function pageOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  return u.origin + u.pathname;
}

function inlineKey(entry: LearnedInline): string {
  return entry.kind === 'hash' ? `hash ${entry.hash}` : `template ${entry.template}`;
}
