import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config';
import { developmentTokens, describeDevelopmentTokens, generateDevelopmentSecret } from '../auth/dev-tokens';
import { CATALOG } from '../catalog/catalog.fixture';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { ensureTopics, physicalTopic } from '../events/topics';
import { createKafka } from '../kafka/client';
import { chooseLogFormat, type Logger } from '../logger';
import { backoffDelay } from '../retry';
import { entryOf, idleInstances, planInstances, PROCESS_NAMES, type PlannedInstance, type ProcessName, type Scale } from './scale';
import { ensureStack, stopStack } from './stack';
import { assertPortFree, waitUntilReady } from './processes';

/** Every process of the product, as `./dev up` runs them: the API and each consumer module. */
export const applicationProcesses: readonly { readonly name: ProcessName; readonly entry: string }[] = PROCESS_NAMES.map((name) => ({ name, entry: entryOf(name) }));

/**
 * `./dev up`: brings up the services, then runs the API and every consumer module as its own
 * process (as many instances of each as `scale` asks: scale.ts), restarting one that crashes
 * (with backoff, on the same ports), until Ctrl-C stops them all and the services this command
 * started.
 */
export async function superviseApplication(config: Config, log: Logger, scale: Scale = new Map()): Promise<void> {
  // Planned first: a wrong --scale stops here, before anything starts.
  const plan = planInstances(scale, { apiPort: config.http.port, healthPort: config.http.healthPort, partitions: config.kafka.topicPartitions });
  // Caught from the very start: a stop asked for during start-up must still stop whatever was
  // launched by then, not leave it running as orphans.
  const stop = new AbortController();
  const stopping = () => stop.signal.aborted;
  const stopRequested = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()));
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  const dist = join(__dirname, '..');
  // Ports too, before any service starts: a taken one stops `./dev up` with one sentence.
  const present = plan.filter((p) => existsSync(join(dist, p.entry)));
  const instances: (PlannedInstance & { readonly ports: NodeJS.ProcessEnv })[] = [];
  for (const p of present) {
    if (p.port !== undefined) await assertPortFree(p.port, p.label, 'set PORT to a free port (API instance k takes PORT + k - 1)');
    if (p.healthPort !== undefined) await assertPortFree(p.healthPort, `${p.label} probes`, 'set HEALTH_PORT to a free base, or to 0 to let the OS pick');
    const ports = p.name === 'api' ? { PORT: String(p.port) } : { HEALTH_PORT: String(p.healthPort ?? (await freePort())) };
    instances.push({ ...p, ports });
  }
  const stack = await ensureStack(config, log);
  // Created once here, so five processes starting at the same moment do not race to create them.
  if (!stopping()) await createTopicsOnce(config, log, scale);
  const apiCount = plan.filter((p) => p.name === 'api').length;
  // Several API instances must verify each other's tokens: without JWT_SECRET each would
  // generate its own, so this run generates one for all of them and prints the demo tokens
  // itself (GraphiQL's headers are then not pre-filled).
  const sharedSecret = config.demoTokens && apiCount > 1 ? generateDevelopmentSecret() : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    MONGO_URL: stack.mongoUrl,
    // The operator's SMTP_URL, or the local Mailpit's: confirmation emails land where a person can read them.
    SMTP_URL: stack.smtpUrl,
    NODE_ENV: config.nodeEnv,
    // Only a secret the operator gave (or the one shared by this run's API instances); without
    // one the API generates its own and prints demo tokens signed with it (only the API
    // verifies tokens).
    JWT_SECRET: config.jwtSecret ?? sharedSecret ?? '',
    // Readable lines with each process's name at a terminal; JSON in a pipe, a file or production.
    LOG_FORMAT: chooseLogFormat(process.env.LOG_FORMAT || undefined, process.stdout.isTTY === true, config.nodeEnv),
  };
  const children = new Map<string, ChildProcess>();

  // Each instance keeps its ports across restarts: the API its PORT, a consumer its probe
  // port (/livez, /readyz, /metrics), fixed by the plan or picked here once.
  const launch = (p: PlannedInstance & { readonly ports: NodeJS.ProcessEnv }, crashes = 0): void => {
    const child = spawn(process.execPath, ['--enable-source-maps', join(dist, p.entry)], { env: { ...env, ...p.ports }, stdio: 'inherit' });
    children.set(p.label, child);
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      children.delete(p.label);
      if (stopping()) return;
      // A process that ran a while before dying gets a fresh backoff.
      const attempt = Date.now() - startedAt > 60_000 ? 1 : crashes + 1;
      const delay = backoffDelay(attempt, { initialDelayMs: 1000, maxDelayMs: 30_000 });
      log.error({ process: p.label, code, signal, restartInMs: delay }, `${p.label} exited; restarting`);
      setTimeout(() => !stopping() && launch(p, attempt), delay).unref();
    });
  };

  const consumers = instances.filter((p) => p.name !== 'api');
  if (consumers.length > 0) log.info({ probes: Object.fromEntries(consumers.map((p) => [p.label, `http://127.0.0.1:${p.ports.HEALTH_PORT}/readyz`])) }, 'consumer probes (/livez, /readyz, /metrics)');
  if (scale.size > 0) log.info({ instances: Object.fromEntries(PROCESS_NAMES.map((n) => [n, instances.filter((p) => p.name === n).length])) }, 'instances per process (--scale)');
  for (const p of stopping() ? [] : instances) launch(p);
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const apis = instances.filter((p) => p.name === 'api');
  const baseOf = (p: (typeof apis)[number]) => `http://${host}:${p.ports.PORT}`;
  // SMTP_URL is not printed: it may carry credentials.
  const mail = stack.mailUiUrl ? `Mailpit (emails): ${stack.mailUiUrl}` : 'emails go to SMTP_URL';
  if (apis.length > 0) {
    const check = async () => (await Promise.all(apis.map(async (p) => (await fetch(`${baseOf(p)}/readyz`)).ok))).every(Boolean);
    const what = apis.length === 1 ? 'the API' : `the API (${apis.length} instances)`;
    const healthy = waitUntilReady({ what, check, log, timeoutMs: 120_000, signal: stop.signal }).then(
      async () => {
        if (stopping()) return;
        if (sharedSecret) log.info(await sharedTokens(config, sharedSecret, baseOf(apis[0]!)));
        const others = apis.slice(1).map((p) => `${p.label}: ${baseOf(p)}/graphql`);
        const dashboard = config.dashboard.enabled ? `Dashboard: ${baseOf(apis[0]!)}/dashboard  ` : '';
        log.info(
          { processes: instances.map((p) => p.label), smtp: stack.mailUiUrl ? stack.smtpUrl : undefined },
          `GraphiQL: ${baseOf(apis[0]!)}/graphql  ${others.length > 0 ? `(${others.join(', ')})  ` : ''}${dashboard}${mail}  (Ctrl-C stops everything)`,
        );
      },
      (error: unknown) => !stopping() && log.error({ err: error }, 'the API did not become healthy; see its log lines above'),
    );
    await Promise.race([healthy, stopRequested]);
  } else if (!stopping()) {
    log.info({ processes: instances.map((p) => p.label) }, `services are up; ${mail}  (Ctrl-C stops them)`);
  }

  await stopRequested;
  log.info('stopping the application processes');
  for (const child of children.values()) child.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (children.size > 0 && Date.now() < deadline) await sleep(100);
  for (const child of children.values()) child.kill('SIGKILL');
  await stopStack(config, log, stack.started);
}

/**
 * The demo tokens, signed with the secret this run gave all its API instances. The APIs fill
 * GraphiQL's headers and open the dashboard only with tokens of their own, so the text says
 * to paste one instead.
 */
async function sharedTokens(config: Config, secret: string, base: string): Promise<string> {
  const restaurantId = CATALOG[0]!.id;
  const tokens = await developmentTokens({ secret, ...config.tokens }, restaurantId);
  const text = describeDevelopmentTokens(tokens, restaurantId, config.graphql.graphiql ? `${base}/graphql` : null, config.dashboard.enabled ? `${base}/dashboard` : null);
  return text.replace('(the customer token is pre-filled)', '(paste a token into its headers)').replace('(opens with the admin token)', '(sign in with the admin token)');
}

async function createTopicsOnce(config: Config, log: Logger, scale: Scale): Promise<void> {
  const admin = createKafka(config, 'devstack', log).admin();
  await admin.connect();
  try {
    const created = await ensureTopics(admin, config, log);
    if (created.length > 0) log.info({ topics: created.length }, 'topics created');
    // Topics made earlier keep their partitions: instances beyond them would sit idle.
    const topics = [...new Set(Object.values(CONSUMER_GROUP_TOPICS).flat())];
    const { topics: found } = await admin.fetchTopicMetadata({ topics: topics.map((t) => physicalTopic(config, t)) });
    const partitionsOf = (topic: string) => found.find((t) => t.name === physicalTopic(config, topic))?.partitions.length;
    for (const warning of idleInstances(scale, partitionsOf)) log.warn(warning);
  } finally {
    await admin.disconnect();
  }
}

/** A port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
