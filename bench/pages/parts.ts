/**
 * The pieces shop pages are made of (head, header, product cards, footer). Every URL in them is
 * the site itself or an origin the bench policy allows, so a page built only from these parts is
 * clean under that policy.
 */
import { CDN, CONSENT_BOOTSTRAP, GATEWAY_SCRIPT } from './origins.js';
import { integerBetween, pick, seededRandom, type Random } from './random.js';

const PRODUCT_NAMES = [
  '有機栽培 煎茶 100g',
  '南部鉄器 急須 0.6L',
  'Hand-thrown Mino ware cup',
  '今治タオル バスタオル 2枚組',
  'Kishu binchotan charcoal set',
  '信楽焼 マグカップ',
  'Hinoki bath stool',
  '京都 抹茶 濃茶用 40g',
  'Linen noren curtain, indigo',
  'Arita porcelain plate 24cm',
  '黒豆茶 ティーバッグ 30袋',
  'Bamboo whisk (chasen) 80 tines',
] as const;

const CATEGORIES = [
  'tea', 'teaware', 'kitchen', 'bath', 'textiles', 'porcelain', 'gifts', 'sale', 'new', 'stationery',
  'incense', 'lacquerware', 'knives', 'furoshiki', 'sake-ware', 'bento', 'ikebana', 'calligraphy',
] as const;

/**
 * "12,345": formats like toLocaleString('en-US'), which builds an Intl.NumberFormat on every
 * call (about 0.1 ms each: 20 ms for a checkout page's 200 prices, more than the proxy's work).
 */
export function yen(amount: number): string {
  return `¥${String(Math.round(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
}

export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function productName(random: Random): string {
  return pick(random, PRODUCT_NAMES);
}

export interface HeadOptions {
  readonly title: string;
  /** JSON-LD data block (schema.org), serialised; a data block, never executed (HTML §4.12.1.1). */
  readonly jsonLd: unknown;
  readonly csrfToken?: string;
}

export function documentHead(options: HeadOptions): string {
  const csrf = options.csrfToken === undefined ? '' : `\n    <meta name="csrf-token" content="${options.csrfToken}">`;
  // JSON-LD inside <script> ends at the first "</script": escape "<" as JSON allows.
  const jsonLd = JSON.stringify(options.jsonLd, null, 1).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="ja">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">${csrf}
    <title>${escapeText(options.title)}</title>
    <link rel="preconnect" href="${CDN}">
    <link rel="stylesheet" href="${CDN}/css/shop.css">
    <link rel="icon" href="/favicon.ico">
    <script type="application/ld+json">${jsonLd}</script>
    <script>${CONSENT_BOOTSTRAP}</script>
    <script src="${CDN}/js/shop.js" defer></script>
    <script src="${GATEWAY_SCRIPT}/v3/token.js" async></script>
  </head>
`;
}

export function siteHeader(): string {
  const nav = CATEGORIES.map((c) => `          <li><a href="/c/${c}">${c.replace(/-/g, ' ')}</a></li>`).join('\n');
  return `  <body class="checkout">
    <header class="site-header">
      <a class="logo" href="/"><img src="${CDN}/img/logo.svg" alt="Shop Example" width="160" height="40"></a>
      <form class="search" action="/search" method="get" role="search">
        <label for="q">Search</label>
        <input id="q" name="q" type="search" placeholder="煎茶, teapot, towels…" autocomplete="off">
        <button type="submit">Search</button>
      </form>
      <nav aria-label="Categories">
        <ul>
${nav}
        </ul>
      </nav>
    </header>
`;
}

export function productCard(random: Random, index: number): string {
  const sku = `SKU-${(100000 + index * 7919) % 999983}`;
  const name = productName(random);
  const price = integerBetween(random, 8, 240) * 50;
  const stars = integerBetween(random, 30, 50) / 10;
  return `        <li class="product-card" data-sku="${sku}">
          <a href="/p/${sku.toLowerCase()}">
            <img src="${CDN}/img/p/${sku}.jpg" srcset="${CDN}/img/p/${sku}@2x.jpg 2x" alt="${escapeText(name)}" width="240" height="240" loading="lazy">
            <span class="name">${escapeText(name)}</span>
          </a>
          <span class="price" data-currency="JPY">${yen(price)}</span>
          <span class="rating" aria-label="rated ${stars} of 5">${'★'.repeat(Math.round(stars))}</span>
          <p class="blurb">Made in small batches; ships in 2–3 days from our warehouse in Shizuoka. 送料無料 over ¥5,000.</p>
        </li>
`;
}

/** Cards already generated per seed: the unique checkout pads every response from the same sequence. */
const cardSequences = new Map<number, { readonly random: Random; readonly cards: { html: string; bytes: number }[] }>();

/**
 * Product cards from the sequence seeded by `seed`, appended until `currentBytes` plus the cards
 * reaches `targetBytes` (UTF-8). Memoised, so the upstream can serve a unique checkout per
 * request without spending more CPU on it than the proxy under test does.
 */
export function productCardsUpTo(seed: number, currentBytes: number, targetBytes: number): string {
  let sequence = cardSequences.get(seed);
  if (!sequence) {
    sequence = { random: seededRandom(seed), cards: [] };
    cardSequences.set(seed, sequence);
  }
  const taken: string[] = [];
  let bytes = currentBytes;
  // Bounded: each card is at least 400 bytes, so this stops after targetBytes / 400 cards at most.
  for (let index = 0; bytes < targetBytes && index < targetBytes / 400 + 1; index += 1) {
    if (index === sequence.cards.length) {
      const html = productCard(sequence.random, index);
      sequence.cards.push({ html, bytes: Buffer.byteLength(html) });
    }
    const card = sequence.cards[index]!;
    taken.push(card.html);
    bytes += card.bytes;
  }
  return taken.join('');
}

export function siteFooter(): string {
  const links = ['about', 'shipping', 'returns', 'privacy', 'tokushoho', 'contact', 'faq', 'careers']
    .map((p) => `<a href="/${p}">${p}</a>`)
    .join(' · ');
  return `    <footer class="site-footer">
      <p>${links}</p>
      <p><small>© 2026 Shop Example K.K. 特定商取引法に基づく表記はこちら。</small></p>
    </footer>
  </body>
</html>
`;
}
