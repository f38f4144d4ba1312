/**
 * One HTML document's text to sightings: parse once, walk once with every finder, and union the
 * findings of the re-parses made when parse5 dropped a start tag inside a <select> or <frameset> (P-01,
 * parse.ts).
 * A document the fast scanner can prove unambiguous is not given to parse5 at all (fast/index.ts):
 * the same walker and finders run over the tree it builds.
 */
import { fastParse } from './fast/index.js';
import { preferSpecificFindings } from './finders/carried-urls.js';
import { FINDERS } from './finders/index.js';
import { parseHtml } from './parse.js';
import { SourceText } from './source.js';
import { Scan, walk, type ScanOptions, type Sighting } from './scan.js';
import { checkTemplateStreams } from './template-streams.js';
import { findTextUrls } from './text-urls.js';

export function scanDocumentText(text: string, options: ScanOptions): Sighting[] {
  const source = new SourceText(text);
  if (options.parser !== 'full') {
    const fast = fastParse(text, source.tagStarts);
    if (fast.document) {
      const scan = new Scan(options, source, scanDocumentText);
      walk(fast.document, scan, FINDERS, undefined);
      findTextUrls(scan);
      return preferSpecificFindings(checkTemplateStreams(scan.finish(), options.policy, options.mode));
    }
  }
  const parsed = parseHtml(text, source.tagStarts);
  const main = new Scan(options, source, scanDocumentText);
  walk(parsed.document, main, FINDERS, undefined);
  // Text is read from the source, once per document (the re-parsed trees share that source).
  findTextUrls(main);
  const sightings = checkTemplateStreams(main.finish(), options.policy, options.mode);
  if (parsed.relaxed.length === 0) return preferSpecificFindings(sightings);
  const seen = new Set(sightings.map(sightingKey));
  for (const tree of parsed.relaxed) {
    const relaxed = new Scan(options, source, scanDocumentText);
    walk(tree, relaxed, FINDERS, undefined);
    for (const sighting of checkTemplateStreams(relaxed.finish(), options.policy, options.mode)) {
      const key = sightingKey(sighting);
      if (seen.has(key)) continue;
      seen.add(key);
      const finding = sighting.finding;
      sightings.push({ finding: { ...finding, context: finding.context ?? parsed.relaxedContext }, edits: sighting.edits });
    }
  }
  return preferSpecificFindings(sightings);
}

function sightingKey({ finding }: Sighting): string {
  return `${finding.kind}|${finding.offset ?? -1}|${finding.attribute ?? ''}|${finding.raw ?? ''}|${finding.url ?? ''}`;
}
