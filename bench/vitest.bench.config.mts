/**
 * Benchmarks (bench/**\/*.bench.ts) through vitest, because type-graphql needs
 * emitDecoratorMetadata, which vite honours and tsx/esbuild do not. Same aliases and global
 * setup (Kafka and FerretDB found or started, stopped only if started) as the integration
 * tests; only the benchmarks run, one at a time, their console output straight to the terminal
 * so progress shows as it happens. `./dev bench`; parameters are environment variables (see
 * each file).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { shared } from '../vitest.config.mjs';

export default defineConfig({
  ...shared,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['bench/**/*.bench.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    // Progress lines must appear while a benchmark runs, not when it ends.
    disableConsoleIntercept: true,
  },
});
