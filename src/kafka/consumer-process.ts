import { ConfigError, loadConfig } from '../config';
import type { KnownEventType } from '../events/parse-event';
import { createLogger } from '../logger';
import { metricsRoute } from '../metrics/metrics-route';
import { processMetrics } from '../metrics/process-metrics';
import { startProbeListener } from '../probes/probe-listener';
import { probeRoutes } from '../probes/probe-routes';
import { physicalTopic } from '../events/topics';
import { createKafka } from './client';
import { watchConsumerLag } from './consumer-lag';
import { startConsumer, type ConsumerModule } from './consumer-runner';

/**
 * The whole life of one consumer process (`node dist/consumers/<name>.js`): reads the
 * configuration once, starts the module and its probe listener (`/livez`, `/readyz` on
 * HEALTH_PORT, with `/metrics` and its group's lag refreshed every METRICS_LAG_INTERVAL_MS), and on SIGTERM/SIGINT fails readiness, finishes the rounds in flight,
 * commits, disconnects and exits 0, within SHUTDOWN_TIMEOUT_MS whatever Kafka or MongoDB do. Exits 1 when it cannot start, kafkajs gives up, or the
 * runner stops it (an environment or unexpected error at a message, the dead-letter breaker:
 * nothing committed past it), so a supervisor (docker compose, `./dev up`) restarts it.
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

  let stopping = false;
  const lagWatch = watchConsumerLag({
    admin: createKafka(config, `${running.instanceId}-lag`, log).admin(),
    groupId: running.groupId,
    topics: module.topics.map((logical) => ({ logical, physical: physicalTopic(config, logical) })),
    intervalMs: config.metrics.lagIntervalMs,
    log,
  });
  const handlers = [probeRoutes(running.probes, () => stopping), metricsRoute(processMetrics().registry)];
  const probes = await startProbeListener({ host: config.http.host, port: config.http.healthPort, handlers }).catch(
    (error: unknown) => {
      log.fatal({ err: error, port: config.http.healthPort }, `${module.name} could not open its probe listener (HEALTH_PORT)`);
      process.exit(1);
    },
  );
  log.info({ probes: probes.url }, `${module.name} probes on ${probes.url}/livez and /readyz, metrics on ${probes.url}/metrics`);

  const exit = (code: number) => {
    stopping = true; // readiness fails first
    setTimeout(() => {
      log.error(`${module.name} did not stop within ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(code || 1);
    }, config.shutdownTimeoutMs).unref();
    Promise.all([running.stop(), lagWatch.stop().catch(() => undefined)]).then(
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
