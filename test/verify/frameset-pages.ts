/**
 * The P-12 family as a generated space: markup that fetches, placed where the frameset modes drop
 * it or where a <frameset> detaches the body that holds it (HTML §13.2.6.4.7). The tree builder
 * never inserts it; Chromium's preload scanner reads the tokens anyway. Shared by the verifier's
 * variants (parser-gaps.test.ts) and the Chromium oracle over the same pages (oracle-frameset.test.ts).
 */

/** Fetching markup, each naming https://evil.example; the first three are the P-12 originals. */
export const FRAMESET_FETCHES: readonly string[] = [
  '<link rel="modulepreload" href="https://evil.example/m.js">',
  '<LINK REL=preload AS=script HREF="//evil.example/p.js">',
  '<script src="https://evil.example/s.js"></script>',
  '<svg><script href="https://evil.example/v.js"></script></svg>',
  '<img src="https://evil.example/i.png" alt="">',
  '<link rel="stylesheet" href="https://evil.example/c.css">',
  '<link rel="preload" as="image" href="https://evil.example/pi.png">',
  '<link rel="preload" as="style" href="https://evil.example/ps.css">',
  '<link rel="preload" as="font" crossorigin href="https://evil.example/f.woff2">',
  '<iframe title="x" src="https://evil.example/frame"></iframe>',
  '<input type="image" src="https://evil.example/ii.png" alt="Pay">',
  '<video poster="https://evil.example/poster.png"></video>',
  '<style>@import "https://evil.example/imp.css";</style>',
];

/** Where in a frameset document the tree builder drops a token: {S} is the snippet. */
export const DROPPED_POSITIONS: readonly string[] = [
  '<frameset rows="100%">{S}<frame src="/hosted"></frameset>',
  '<FRAMESET rows="100%"><frame src="/hosted">{S}</FRAMESET>',
  '<frameset rows="100%"><frame src="/hosted"></frameset>{S}',
  '<frameset rows="100%"><frame src="/hosted"></frameset></html>{S}',
  '<frameset rows="50%,50%"><frameset cols="100%">{S}<frame src="/a"></frameset><frame src="/b"></frameset>',
];

const HEAD = '<!DOCTYPE html><html><head><title>Checkout</title></head>';

export function droppedPage(fetch: string, position: string): string {
  return HEAD + position.replace('{S}', fetch);
}

/** Openers that make a body without clearing the frameset-ok flag (no text, no <body> tag, nothing that clears it). */
export const OPENERS: readonly string[] = ['<svg></svg>', '<math></math>', '<div></div>', '<span></span>', ''];

/** A body the <frameset> detaches, with `s` in it: before the doctype, or after </head>. */
export const DETACHED_SHAPES: readonly ((s: string) => string)[] = [
  (s) => `${s}<!DOCTYPE html><html><head><title>Checkout</title></head><frameset rows="100%"><frame src="/hosted"></frameset></html>`,
  (s) => `${HEAD}${s}<frameset rows="100%"><frame src="/hosted"></frameset></html>`,
];

/** Every page of the space: dropped tokens and detached bodies (13 × 5 + 5 × 13 × 2 = 195). */
export function allFramesetPages(): string[] {
  const dropped = FRAMESET_FETCHES.flatMap((fetch) => DROPPED_POSITIONS.map((position) => droppedPage(fetch, position)));
  const detached = OPENERS.flatMap((opener) => FRAMESET_FETCHES.flatMap((fetch) => DETACHED_SHAPES.map((shape) => shape(opener + fetch))));
  return [...dropped, ...detached];
}
