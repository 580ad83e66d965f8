import { createRequire } from 'node:module';
import { configDefaults, defineConfig, type ViteUserConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** What every vitest run here shares, benchmarks included. */
export const shared = {
  resolve: {
    // graphql ships CommonJS and ESM builds; type-graphql requires the CommonJS one, so every
    // import must get that same copy or schemas fail with "from another module or realm".
    alias: { graphql: require.resolve('graphql/index.js') },
  },
} satisfies ViteUserConfig;

/**
 * Three projects:
 * - `unit`: the specs beside the code (src/**\/*.test.ts). Pure logic, no servers, no global
 *   setup, no build step: `./dev test unit` runs in seconds on a machine without Java or Go.
 * - `integration`: everything in test/ but the drills. Its global setup finds or starts a real
 *   Kafka broker and a real MongoDB-wire server, and stops at the end only what it started.
 * - `drills`: the fault drills (test/drills/), the product as separate OS processes under load
 *   and a fault, each ending with one audit. Same global setup; one file at a time, after the
 *   other projects (groupOrder 1), since each runs five processes and a load on two cores.
 */
export default defineConfig({
  ...shared,
  test: {
    pool: 'forks',
    // Two cores: files share one broker and one database, each test with its own ids.
    maxWorkers: 2,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    projects: [
      {
        ...shared,
        test: { name: 'unit', include: ['src/**/*.test.ts'], testTimeout: 10_000 },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/drills/**'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'drills',
          include: ['test/drills/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
          testTimeout: 600_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
