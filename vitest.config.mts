import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships CommonJS and ESM builds; type-graphql requires the CommonJS one, so every
    // import must get that same copy or schemas fail with "from another module or realm".
    alias: { graphql: require.resolve('graphql/index.js') },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: files share one broker and one database, each test with its own ids.
    maxWorkers: 2,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  },
});
