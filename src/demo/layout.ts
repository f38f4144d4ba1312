/**
 * One page layout for the three demo sites, so the attacker's look-alike pages look exactly
 * like the gateway's (that sameness is what made the 2019 fake form work). No external assets,
 * no inline script: the clean shop must verify clean under a block-mode route.
 */
import { escapeHtml } from './http.js';

export interface Brand {
  readonly name: string;
  /** Header colour: the shop and the gateway differ; the attacker copies the gateway's. */
  readonly colour: string;
}

export const SHOP_BRAND: Brand = { name: 'Sakura Tea Shop', colour: '#b03060' };
export const GATEWAY_BRAND: Brand = { name: 'PayGate (demo payment gateway)', colour: '#1d5fa8' };

export function layout(brand: Brand, title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(brand.name)}</title>
${head}<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: ${brand.colour}; color: #fff; padding: .8em 1.5em; font-weight: 600; }
header a { color: #fff; text-decoration: none; }
main { max-width: 42em; margin: 1.5em auto; padding: 0 1em; }
label { display: block; margin: .6em 0 .2em; }
input { font: inherit; padding: .3em; width: 20em; max-width: 100%; }
button { font: inherit; padding: .4em 1.2em; margin-top: 1em; background: ${brand.colour}; color: #fff; border: 0; border-radius: 4px; }
.note { background: #fff8d0; border: 1px solid #e0d080; padding: .6em 1em; border-radius: 4px; }
.alarm { background: #ffe0e0; border: 1px solid #d08080; padding: .6em 1em; border-radius: 4px; }
table { border-collapse: collapse; } td, th { padding: .3em .8em; border-bottom: 1px solid #ddd; text-align: left; }
code { background: #eee; padding: 0 .2em; }
</style>
</head>
<body>
<header><a href="/">${escapeHtml(brand.name)}</a></header>
<main>
${body}
</main>
</body>
</html>
`;
}
