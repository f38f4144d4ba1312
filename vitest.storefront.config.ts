/**
 * `npm run test:storefront`: a real storefront behind payguard (test/storefront/, issue 18 item 7).
 * Its own lane, not in `npm test`: the first run installs and builds EverShop (about 2 minutes on
 * 2 cores, then cached in .storefront/), and each run starts PostgreSQL and EverShop. .ci/run calls
 * it after `npm test`.
 */
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/storefront/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    // A browser checkout and restarts of the shop per test; the install and build in the first hook.
    testTimeout: 300_000,
    hookTimeout: 1_800_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
