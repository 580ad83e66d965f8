import { ConfigError, loadConfig } from './config';
import { startApiServer } from './http/api-server';
import { createLogger } from './logger';
import { startTracing } from './tracing/tracing';

/**
 * `node dist/api.js`: the GraphQL API process. Loads the configuration once, starts the
 * server, and on SIGTERM or SIGINT stops it gracefully within SHUTDOWN_TIMEOUT_MS (readiness
 * fails first, in-flight requests finish, WebSockets close with 1001; a second signal exits at once).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('api', { level: config.logLevel, pretty: config.logFormat === 'pretty' });
  // Before the server: its request middleware and plugin exist only while tracing is on.
  const tracing = startTracing(config, 'api', log);
  // The same graceful stop as a signal's, ending in exit 1 for the supervisor to start a fresh API.
  let stopForRestart: () => void = () => undefined;
  const server = await startApiServer(config, log, { onStoreWedged: () => stopForRestart() }).catch((error: unknown) => {
    log.fatal({ err: error }, 'the API could not start');
    throw error;
  });
  let signalled = false;
  const shutdown = (signal: NodeJS.Signals | 'store-wedged') => {
    if (signalled) process.exit(1);
    signalled = true;
    const exitCode = signal === 'store-wedged' ? 1 : 0;
    log.info({ signal, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'stopping the API');
    // Whatever Kafka or MongoDB do meanwhile, the process is gone within the bound.
    setTimeout(() => {
      log.error(`the API did not stop within ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    server.stop().then(
      async () => {
        await tracing?.shutdown(); // the last spans out; never rejects
        process.exit(exitCode);
      },
      (error: unknown) => {
        log.error({ err: error }, 'the API did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  stopForRestart = () => shutdown('store-wedged');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
    // Let the logger flush; open handles from a half-started server must not keep us alive.
    setTimeout(() => process.exit(1), 200).unref();
  });
}
