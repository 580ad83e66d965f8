import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config';
import { ensureStack, stopStack } from '../src/devstack/stack';
import { createLogger } from '../src/logger';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    mongoUrl: string;
  }
}

/**
 * Once per test run: makes sure a real Kafka broker and a real MongoDB-wire server are up
 * (starting them if the environment names none and none is running), and stops at the end
 * only what it started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const log = createLogger('test-setup', { level: process.env.LOG_LEVEL ?? 'info' });
  const stack = await ensureStack(config, log);
  project.provide('kafkaBrokers', stack.kafkaBrokers.join(','));
  project.provide('mongoUrl', stack.mongoUrl);
  return async () => {
    await stopStack(config, log, stack.started);
  };
}
