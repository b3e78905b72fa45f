import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql@16 ships CJS (main) and ESM (module) builds; Node loads the CJS one for
    // packages such as graphql-ws, so source code must load the same copy or `instanceof
    // GraphQLError` checks across packages fail (the dual-package hazard).
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // Finds or starts a MongoDB-compatible server once per run (never skipped: it fails loudly).
    globalSetup: ['test/harness/mongo-global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
