/**
 * A category page of a given size: the 10 KB and 1 MB documents. Same head, header and footer
 * as the checkout page; the body is a product grid.
 */
import { SITE } from './origins.js';
import { documentHead, productCardsUpTo, siteFooter, siteHeader } from './parts.js';

export function categoryPage(targetBytes: number): string {
  const top =
    documentHead({
      title: 'Teaware | Shop Example',
      jsonLd: { '@context': 'https://schema.org', '@type': 'CollectionPage', name: 'Teaware', url: `${SITE}/c/teaware` },
    }) +
    siteHeader() +
    `    <main id="category">
      <h1>Teaware</h1>
      <ul class="product-grid">
`;
  const bottom = `      </ul>
    </main>
` + siteFooter();
  return top + productCardsUpTo(targetBytes, Buffer.byteLength(top) + Buffer.byteLength(bottom), targetBytes) + bottom;
}
