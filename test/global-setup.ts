import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config';
import { ensureStack, stopStack } from '../src/devstack/stack';
import { createLogger } from '../src/logger';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    mongoUrl: string;
    /** Where confirmation emails go: SMTP_URL as given, or the local Mailpit's. */
    smtpUrl: string;
    /** The local Mailpit's web page ('' when SMTP_URL names another server). */
    mailUiUrl: string;
  }
}

/**
 * Once per test run: makes sure a real Kafka broker, a real MongoDB-wire server and an SMTP
 * server (the local Mailpit unless SMTP_URL names one) are up
 * (starting them if the environment names none and none is running), and stops at the end
 * only what it started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const log = createLogger('test-setup', { level: process.env.LOG_LEVEL ?? 'info' });
  const stack = await ensureStack(config, log);
  project.provide('kafkaBrokers', stack.kafkaBrokers.join(','));
  project.provide('mongoUrl', stack.mongoUrl);
  project.provide('smtpUrl', stack.smtpUrl);
  project.provide('mailUiUrl', stack.mailUiUrl ?? '');
  return async () => {
    await stopStack(config, log, stack.started);
  };
}
