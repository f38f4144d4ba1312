/**
 * Browser reports as payguard reads them, from either wire format:
 * - the legacy `report-uri` body, `application/csp-report`: `{"csp-report": {...}}` with
 *   hyphenated keys (CSP2 §4.4, still sent by browsers without the Reporting API);
 * - the Reporting API, `application/reports+json`: an array of `{type, url, body}` (Reporting §3.3),
 *   with `csp-violation` (CSP3 §5.3), `csp-hash` (hash reporting, w3c/webappsec-csp#693) and
 *   `integrity-violation` (SRI Integrity-Policy) bodies.
 * Reports are attacker-controllable data (anyone can post one), so every field is checked for its
 * type and nothing is trusted beyond counting and comparing.
 */

export type BrowserReport =
  | {
      readonly type: 'violation';
      /** The directive that was violated, e.g. `connect-src`, `form-action`, `script-src-elem`. */
      readonly directive: string;
      /** A URL, or a keyword such as `inline` or `eval`. */
      readonly blocked: string | undefined;
      readonly documentUrl: string | undefined;
      readonly sourceFile: string | undefined;
      readonly disposition: 'enforce' | 'report' | undefined;
    }
  /** The hash of a script the browser loaded (CSP `'report-sha256'`). */
  | { readonly type: 'script-hash'; readonly documentUrl: string | undefined; readonly scriptUrl: string; readonly hash: string }
  /** A script loaded without integrity metadata (Integrity-Policy-Report-Only). */
  | { readonly type: 'integrity'; readonly documentUrl: string | undefined; readonly blocked: string | undefined };

export const CSP_REPORT_TYPES = ['application/csp-report', 'application/reports+json'] as const;

/** Reports the body holds, or undefined when it is not a report at all (wrong type or shape, bad JSON). */
export function parseBrowserReports(contentType: string | undefined, body: string): BrowserReport[] | undefined {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // Chromium's legacy reports are application/csp-report; some older agents sent application/json.
  if (essence !== 'application/csp-report' && essence !== 'application/reports+json' && essence !== 'application/json') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (Array.isArray(data)) return data.flatMap((item) => reportingApiReport(item) ?? []);
  if (isRecord(data) && isRecord(data['csp-report'])) return [legacyReport(data['csp-report'])];
  return undefined;
}

function legacyReport(r: Record<string, unknown>): BrowserReport {
  return {
    type: 'violation',
    directive: directiveName(text(r['effective-directive']) ?? text(r['violated-directive'])),
    blocked: text(r['blocked-uri']),
    documentUrl: text(r['document-uri']),
    sourceFile: text(r['source-file']),
    disposition: disposition(r['disposition']),
  };
}

function reportingApiReport(item: unknown): BrowserReport | undefined {
  if (!isRecord(item) || !isRecord(item['body'])) return undefined;
  const body = item['body'];
  const documentUrl = text(body['documentURL']) ?? text(item['url']);
  switch (item['type']) {
    case 'csp-violation':
      return {
        type: 'violation',
        directive: directiveName(text(body['effectiveDirective'])),
        blocked: text(body['blockedURL']),
        documentUrl,
        sourceFile: text(body['sourceFile']),
        disposition: disposition(body['disposition']),
      };
    case 'csp-hash': {
      const scriptUrl = text(body['subresourceURL']);
      const hash = text(body['hash']);
      if (!scriptUrl || !hash || (body['destination'] !== undefined && body['destination'] !== 'script')) return undefined;
      return { type: 'script-hash', documentUrl, scriptUrl, hash };
    }
    case 'integrity-violation':
      return { type: 'integrity', documentUrl, blocked: text(body['blockedURL']) };
    default:
      return undefined;
  }
}

/**
 * Browser extensions inject scripts and styles into every page; their violations say nothing about
 * the shop (docs/vectors.md, "other section citations": reports are noisy). Reports whose blocked resource or
 * source file is an extension URL are dropped before counting.
 */
const EXTENSION_SCHEMES = ['chrome-extension:', 'moz-extension:', 'safari-extension:', 'safari-web-extension:', 'ms-browser-extension:'];

export function isExtensionNoise(report: BrowserReport): boolean {
  const urls = report.type === 'violation' ? [report.blocked, report.sourceFile] : report.type === 'integrity' ? [report.blocked] : [report.scriptUrl];
  return urls.some((u) => u !== undefined && EXTENSION_SCHEMES.some((scheme) => u.trim().toLowerCase().startsWith(scheme)));
}

/** The directive name only (a legacy `violated-directive` may carry its whole source list); bounded for labels. */
function directiveName(value: string | undefined): string {
  const name = (value ?? '').trim().split(/\s+/)[0]!.toLowerCase();
  return /^[a-z-]{1,40}$/.test(name) ? name : 'unknown';
}

function disposition(value: unknown): 'enforce' | 'report' | undefined {
  return value === 'enforce' || value === 'report' ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
