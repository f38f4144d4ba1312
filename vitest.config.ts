import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A real storefront (EverShop on PostgreSQL) has its own lane: `npm run test:storefront`.
    exclude: [...configDefaults.exclude, 'test/storefront/**'],
    // Real servers, real Chromium and the real minisign binary: generous time, no timing assertions.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
