/**
 * Benchmarks (bench/**\/*.bench.ts) through vitest, because type-graphql needs
 * emitDecoratorMetadata, which vite honours and tsx/esbuild do not. Same aliases and global
 * setup (Kafka and FerretDB found or started, stopped only if started) as the tests; only the
 * benchmarks run, one at a time, their console output straight to the terminal so progress
 * shows as it happens. `npm run bench`; parameters are environment variables (see each file).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.mjs';

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    ...base.test,
    include: ['bench/**/*.bench.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    // Progress lines must appear while a benchmark runs, not when it ends.
    disableConsoleIntercept: true,
  },
});
