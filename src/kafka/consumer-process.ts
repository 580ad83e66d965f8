import { ConfigError, loadConfig, type Config } from '../config';
import type { KnownEventType } from '../events/parse-event';
import { physicalTopic } from '../events/topics';
import { createLogger, type Logger } from '../logger';
import { metricsRoute } from '../metrics/metrics-route';
import { processMetrics } from '../metrics/process-metrics';
import { startProbeListener, type ProbeListener } from '../probes/probe-listener';
import { probeRoutes } from '../probes/probe-routes';
import { startTracing } from '../tracing/tracing';
import { createKafka } from './client';
import { watchConsumerLag, type LagWatch } from './consumer-lag';
import { startConsumer, type RunningConsumer } from './consumer-runner';
import { type ConsumerModule } from './consumer-module';

/**
 * What a consumer process serves besides its work: the probe listener on HEALTH_PORT with
 * `/livez`, `/readyz` and `/metrics`, and the watch that keeps its group's lag on `/metrics`
 * current (every METRICS_LAG_INTERVAL_MS). Rejects when the port cannot be opened.
 */
export async function serveConsumerListener(
  running: RunningConsumer,
  topics: readonly KnownEventType[],
  { config, log, isStopping }: { config: Config; log: Logger; isStopping: () => boolean },
): Promise<{ readonly listener: ProbeListener; readonly lag: LagWatch; close(): Promise<void> }> {
  const lag = watchConsumerLag({
    admin: createKafka(config, `${running.instanceId}-lag`, log).admin(),
    groupId: running.groupId,
    topics: topics.map((logical) => ({ logical, physical: physicalTopic(config, logical) })),
    intervalMs: config.metrics.lagIntervalMs,
    log,
  });
  const handlers = [probeRoutes(running.probes, isStopping), metricsRoute(processMetrics().registry)];
  try {
    const listener = await startProbeListener({ host: config.http.host, port: config.http.healthPort, handlers });
    return { listener, lag, close: async () => void (await Promise.all([listener.close(), lag.stop()])) };
  } catch (error) {
    await lag.stop().catch(() => undefined);
    throw error;
  }
}

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
  const tracing = startTracing(config, module.name, log);

  let running;
  try {
    running = await startConsumer(module, { config, log });
  } catch (error) {
    log.fatal({ err: error }, `${module.name} could not start`);
    process.exit(1);
  }

  let stopping = false;
  const served = await serveConsumerListener(running, module.topics, { config, log, isStopping: () => stopping }).catch(
    (error: unknown) => {
      log.fatal({ err: error, port: config.http.healthPort }, `${module.name} could not open its probe listener (HEALTH_PORT)`);
      process.exit(1);
    },
  );
  const { url } = served.listener;
  log.info({ probes: url }, `${module.name} probes on ${url}/livez and /readyz, metrics on ${url}/metrics`);

  const exit = (code: number) => {
    stopping = true; // readiness fails first
    setTimeout(() => {
      log.error(`${module.name} did not stop within ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(code || 1);
    }, config.shutdownTimeoutMs).unref();
    Promise.all([running.stop(), served.lag.stop().catch(() => undefined)]).then(
      async () => {
        await tracing?.shutdown(); // the last spans out; never rejects
        process.exit(code);
      },
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
