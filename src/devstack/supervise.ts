import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config';
import { CONSUMER_MODULE_NAMES, type ConsumerModuleName } from '../consumers/modules';
import { ensureTopics } from '../events/topics';
import { createKafka } from '../kafka/client';
import { chooseLogFormat, type Logger } from '../logger';
import { backoffDelay } from '../retry';
import { ensureStack, stopStack } from './stack';
import { waitUntilReady } from './processes';

/** Every process of the product, as `./dev up` runs them: the API and each consumer module. */
export const applicationProcesses: readonly { readonly name: 'api' | ConsumerModuleName; readonly entry: string }[] = [
  { name: 'api', entry: 'api.js' },
  ...CONSUMER_MODULE_NAMES.map((name) => ({ name, entry: `consumers/${name}.js` })),
];

/**
 * `./dev up`: brings up the services, then runs the API and every consumer module as its own
 * process, restarting one that crashes (with backoff), until Ctrl-C stops them all and the
 * services this command started.
 */
export async function superviseApplication(config: Config, log: Logger): Promise<void> {
  // Caught from the very start: a stop asked for during start-up must still stop whatever was
  // launched by then, not leave it running as orphans.
  const stop = new AbortController();
  const stopping = () => stop.signal.aborted;
  const stopRequested = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()));
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  const stack = await ensureStack(config, log);
  const dist = join(__dirname, '..');
  // Created once here, so five processes starting at the same moment do not race to create them.
  if (!stopping()) await createTopicsOnce(config, log);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    MONGO_URL: stack.mongoUrl,
    // The operator's SMTP_URL, or the local Mailpit's: confirmation emails land where a person can read them.
    SMTP_URL: stack.smtpUrl,
    NODE_ENV: config.nodeEnv,
    // Only a secret the operator gave; without one the API generates its own and prints demo
    // tokens signed with it (only the API verifies tokens).
    JWT_SECRET: config.jwtSecret ?? '',
    // Readable lines with each process's name at a terminal; JSON in a pipe, a file or production.
    LOG_FORMAT: chooseLogFormat(process.env.LOG_FORMAT || undefined, process.stdout.isTTY === true, config.nodeEnv),
  };
  const children = new Map<string, ChildProcess>();

  // Each consumer process gets a probe port of its own (/livez, /readyz), kept across restarts.
  const probePorts = new Map<string, number>();
  const launch = (name: string, entry: string, crashes = 0): void => {
    const healthPort = probePorts.get(name);
    const childEnv = healthPort === undefined ? env : { ...env, HEALTH_PORT: String(healthPort) };
    const child = spawn(process.execPath, ['--enable-source-maps', join(dist, entry)], { env: childEnv, stdio: 'inherit' });
    children.set(name, child);
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (stopping()) return;
      // A process that ran a while before dying gets a fresh backoff.
      const attempt = Date.now() - startedAt > 60_000 ? 1 : crashes + 1;
      const delay = backoffDelay(attempt, { initialDelayMs: 1000, maxDelayMs: 30_000 });
      log.error({ process: name, code, signal, restartInMs: delay }, `${name} exited; restarting`);
      setTimeout(() => !stopping() && launch(name, entry, attempt), delay).unref();
    });
  };

  const present = stopping() ? [] : applicationProcesses.filter((p) => existsSync(join(dist, p.entry)));
  for (const p of present) if (p.name !== 'api') probePorts.set(p.name, await freePort());
  if (probePorts.size > 0) log.info({ probes: Object.fromEntries([...probePorts].map(([name, port]) => [name, `http://127.0.0.1:${port}/readyz`])) }, 'consumer probes (/livez, /readyz)');
  for (const p of present) launch(p.name, p.entry);
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const base = `http://${host}:${config.http.port}`;
  // SMTP_URL is not printed: it may carry credentials.
  const mail = stack.mailUiUrl ? `Mailpit (emails): ${stack.mailUiUrl}` : 'emails go to SMTP_URL';
  if (present.some((p) => p.name === 'api')) {
    const check = async () => (await fetch(`${base}/readyz`)).ok;
    const healthy = waitUntilReady({ what: 'the API', check, log, timeoutMs: 120_000, signal: stop.signal }).then(
      () => !stopping() && log.info({ processes: present.map((p) => p.name), smtp: stack.mailUiUrl ? stack.smtpUrl : undefined }, `GraphiQL: ${base}/graphql  ${mail}  (Ctrl-C stops everything)`),
      (error: unknown) => !stopping() && log.error({ err: error }, 'the API did not become healthy; see its log lines above'),
    );
    await Promise.race([healthy, stopRequested]);
  } else if (!stopping()) {
    log.info({ processes: present.map((p) => p.name) }, `services are up; ${mail}  (Ctrl-C stops them)`);
  }

  await stopRequested;
  log.info('stopping the application processes');
  for (const child of children.values()) child.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (children.size > 0 && Date.now() < deadline) await sleep(100);
  for (const child of children.values()) child.kill('SIGKILL');
  await stopStack(config, log, stack.started);
}

async function createTopicsOnce(config: Config, log: Logger): Promise<void> {
  const admin = createKafka(config, 'devstack', log).admin();
  await admin.connect();
  try {
    const created = await ensureTopics(admin, config, log);
    if (created.length > 0) log.info({ topics: created.length }, 'topics created');
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
