import { ConfigError, loadConfig } from '../config';
import type { KnownEventType } from '../events/parse-event';
import { createLogger } from '../logger';
import { startConsumer, type ConsumerModule } from './consumer-runner';

/** Longest a graceful stop may take before the process exits anyway (a stuck broker or database). */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The whole life of one consumer process (`node dist/consumers/<name>.js`): reads the
 * configuration once, starts the module, and on SIGTERM/SIGINT finishes the in-flight message,
 * commits, disconnects and exits 0. Exits 1 when it cannot start or kafkajs gives up, so a
 * supervisor (docker compose, `./dev up`) restarts it.
 */
export async function runConsumerProcess<T extends KnownEventType, D, S, E, O>(module: ConsumerModule<T, D, S, E, O>): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const log = createLogger(module.name, { level: config.logLevel, pretty: config.logFormat === 'pretty' });

  let running;
  try {
    running = await startConsumer(module, { config, log });
  } catch (error) {
    log.fatal({ err: error }, `${module.name} could not start`);
    process.exit(1);
  }

  const exit = (code: number) => {
    setTimeout(() => {
      log.error(`${module.name} did not stop within ${STOP_TIMEOUT_MS} ms; exiting anyway`);
      process.exit(code || 1);
    }, STOP_TIMEOUT_MS).unref();
    running.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, `${module.name} stopping`);
      exit(0);
    });
  }
  running.crashed.catch(() => exit(1));
}
