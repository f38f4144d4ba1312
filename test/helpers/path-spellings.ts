/**
 * The spelling steps the first-party properties share (docs/vectors.md H-14): a doubled slash, a
 * dot segment after the first segment, a query and a fragment, applied to an already spelt path.
 * Each property chooses its own case, encoding and `;param` steps before these.
 */
export interface SlashDotQueryFragment {
  readonly doubleSlash?: number | undefined;
  readonly dotSegment?: string | undefined;
  readonly query?: string | undefined;
  readonly fragment?: string | undefined;
}

export function withSlashDotQueryFragment(path: string, s: SlashDotQueryFragment): string {
  let out = path;
  if (s.doubleSlash !== undefined) {
    const slashes = [...out.matchAll(/\//g)].map((m) => m.index);
    const at = slashes[s.doubleSlash % slashes.length]!;
    out = out.slice(0, at) + '/' + out.slice(at);
  }
  if (s.dotSegment !== undefined) {
    const first = out.indexOf('/', 1);
    if (first > 0) out = out.slice(0, first) + s.dotSegment.slice(0, -1) + out.slice(first);
  }
  if (s.query !== undefined) out += `?${s.query}`;
  if (s.fragment !== undefined) out += `#${s.fragment}`;
  return out;
}
