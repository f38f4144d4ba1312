/**
 * The security-header baseline of a route (PCI DSS 11.6.1 asks for the HTTP headers of payment
 * pages to be watched for unauthorised change): a header the route must carry is added when the
 * storefront omits it, and an upstream value that differs is reported as drift, on every response
 * rather than in a weekly scan. The storefront's own value is kept: the baseline detects, it does
 * not silently overrule what the shop deployed.
 */
import type { HeaderList } from '../../verify/types.js';
import { headerValues } from '../http/header-list.js';

export interface HeaderDrift {
  readonly header: string;
  readonly expected: string;
  readonly actual: string;
}

export interface BaselineOutcome {
  /** Headers to add: the baseline's value for each one the storefront did not send. */
  readonly added: [string, string][];
  readonly drift: HeaderDrift[];
}

export function applyHeaderBaseline(baseline: Readonly<Record<string, string>> | undefined, upstream: HeaderList): BaselineOutcome {
  const added: [string, string][] = [];
  const drift: HeaderDrift[] = [];
  if (!baseline) return { added, drift };
  for (const [name, expected] of Object.entries(baseline)) {
    const header = name.toLowerCase();
    const lines = headerValues(upstream, header);
    if (lines.length === 0) {
      added.push([header, expected]);
      continue;
    }
    // RFC 9110 §5.3: several lines of a list header mean the same as one line joined by commas.
    const actual = lines.join(', ');
    if (canonical(actual) !== canonical(expected)) drift.push({ header, expected, actual });
  }
  return { added, drift };
}

/**
 * Spelling differences that do not change meaning are not drift: case (directive names and the
 * tokens of these headers are case-insensitive, e.g. RFC 6797 §6.1 for HSTS) and whitespace
 * around the `;` and `,` separators.
 */
function canonical(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/\s*([;,=])\s*/g, '$1')
    .replace(/\s+/g, ' ');
}
