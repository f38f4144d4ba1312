/**
 * Platform fixtures (issue 18 item 6): checkout and cart pages modelled on what WooCommerce (classic
 * and block checkout), Magento 2.4, EC-CUBE 4, Shopify Dawn, a Next.js App Router storefront and
 * EverShop really emit, rendered with fresh per-site, per-session and per-request values.
 *
 *   renderPlatformPage('magento', { site, gateway, session: 1, request: 7 })
 *
 * The same (seed, platform, session) gives the same nonces, form key, visitor id and cart; the same
 * (seed, platform, session, request) gives the same page, byte for byte. The seed is PLATFORM_SEED
 * (random unless set in the environment); the tests print it.
 */
import { makeCart, type Cart } from './carts.js';
import { MODELS, type Origins, type PlatformModel } from './models.js';
import { fillPage, readPage, type Fill } from './page-text.js';
import { PLATFORM_SEED, Rng } from './random.js';

export { PLATFORM_SEED } from './random.js';
export { tamperedVariants, type TamperedVariant } from './tampered.js';
export type { Origins } from './models.js';

export type Platform = keyof typeof MODELS;
export const PLATFORMS = Object.keys(MODELS) as readonly Platform[];

export interface PageRequest extends Origins {
  /** Which visitor: the session's values (nonces, form key, visitor id, cart) follow from it. */
  readonly session: number;
  /** Which request of that session: time(), request ids, the RSC stream's cuts follow from it. */
  readonly request: number;
  /** Default: PLATFORM_SEED. */
  readonly seed?: number;
}

export function platformModel(platform: Platform): PlatformModel {
  return MODELS[platform];
}

const pages = new Map<Platform, string>();

/** The page file as a reader opens it, placeholders and all. */
export function platformPage(platform: Platform): string {
  let page = pages.get(platform);
  if (page === undefined) {
    page = readPage(MODELS[platform].file);
    pages.set(platform, page);
  }
  return page;
}

function sessionKeyOf(platform: Platform, req: Omit<PageRequest, 'request'>): string {
  return `${req.seed ?? PLATFORM_SEED}|${platform}|session ${req.session}`;
}

/** The visitor's cart: the same for every request of a session. */
export function sessionCart(platform: Platform, req: Omit<PageRequest, 'request'>): Cart {
  return makeCart(new Rng(`${sessionKeyOf(platform, req)}|cart`));
}

/** Every value one request's page is filled with. */
export function pageFill(platform: Platform, req: PageRequest): Fill {
  const model = MODELS[platform];
  const sessionKey = sessionKeyOf(platform, req);
  const sessionStart = 1_717_000_000 + new Rng(`${sessionKey}|clock`).int(0, 5_000_000);
  const request = new Rng(`${sessionKey}|request ${req.request}`);
  const visitFill = model.visitFill({
    origins: { site: req.site, gateway: req.gateway },
    session: new Rng(sessionKey),
    request,
    cart: sessionCart(platform, req),
    sessionStart,
    time: sessionStart + req.request * 5 + request.int(0, 4),
  });
  return { values: { ...model.siteValues(req), ...visitFill.values }, sections: visitFill.sections };
}

export function renderPlatformPage(platform: Platform, req: PageRequest): string {
  return fillPage(platformPage(platform), pageFill(platform, req));
}
