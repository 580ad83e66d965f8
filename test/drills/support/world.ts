/**
 * A drill's world: the product as `./dev up` runs it (the API and every consumer module of
 * `applicationProcesses`, each its own `node dist/<entry>` OS process), on a Kafka namespace
 * and a database of its own, with a real SMTP server in the test. Processes are killed and
 * started again by their own pid only; their output goes to .local/drills/logs/<drill>/.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { startChild, type Child } from '../../../bench/support/child';
import { loadConfig, type Config } from '../../../src/config';
import { applicationProcesses } from '../../../src/devstack/supervise';
import { ensureTopics } from '../../../src/events/topics';
import { createKafka } from '../../../src/kafka/client';
import { createLogger } from '../../../src/logger';
import { TEST_JWT_SECRET } from '../../support/api-harness';
import { startMailbox, type Mailbox } from '../../support/mailbox';
import { buildIfNeeded, freePort, freePortRun, ROOT } from '../../support/processes';
import { uniqueName } from '../../support/services';
import mongoose from 'mongoose';

export const DRILLS_DIR = join(ROOT, '.local', 'drills');

/**
 * The rate limits and socket caps every drill runs the API with, set explicitly and recorded
 * in each report: each of the load's few customers stands for many, and rate limits are not
 * the fault drilled.
 */
export const DRILL_RATE_LIMITS = {
  RATE_LIMIT_STORE: 'memory',
  RATE_LIMIT_ORDER_MUTATIONS_PER_MINUTE: '100000',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
  RATE_LIMIT_SOCKETS_PER_MINUTE: '100000',
  RATE_LIMIT_SUBSCRIBES_PER_MINUTE: '100000',
  WS_MAX_SOCKETS_PER_USER: '1000',
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '1000',
} as const;

export type ProcessName = (typeof applicationProcesses)[number]['name'];
/** The consumer modules: every application process but the API (follows applicationProcesses). */
export const consumerNames = (): string[] => applicationProcesses.map((p) => p.name).filter((n) => n !== 'api');

export interface AppProcess {
  readonly name: string;
  readonly instance: number;
  readonly child: Child;
  /** The API's `http://127.0.0.1:<port>` (each API instance has a port of its own); undefined for a consumer. */
  readonly apiBase?: string;
  /** Resolves once a consumer joined its group (its log says so), or the API answers /health. */
  readonly ready: Promise<void>;
}

export interface DrillWorldOptions {
  /** Kafka of the drill's own (a broker it restarts); default: the shared one of the global setup. */
  readonly kafkaBrokers?: string;
  /** A MongoDB-wire server of the drill's own; default: the shared one. The database is always unique. */
  readonly mongoServer?: string;
  /** Instances per process name (default 1 each). */
  readonly instances?: Readonly<Record<string, number>>;
  /** More environment for every process (e.g. KAFKA_REPLICATION_FACTOR). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface DrillWorld {
  readonly drill: string;
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly mailbox: Mailbox;
  readonly graphqlUrl: string;
  readonly apiBase: string;
  /** Running instances by process name. */
  readonly processes: Map<string, AppProcess[]>;
  /** Starts one more instance of `name` (or again after a kill); resolves when it is ready. */
  start(name: string): Promise<AppProcess>;
  /** Kills instance `instance` of `name` with `signal` and waits until it has exited. */
  kill(name: string, signal?: NodeJS.Signals, instance?: number): Promise<void>;
  /** Every kill so far: which process, with what, when (ms since the epoch, as the signal was sent). */
  readonly kills: readonly { readonly name: string; readonly signal: NodeJS.Signals; readonly at: number }[];
  /** Where each process's log goes: `<name>.log`, `<name>-2.log` for a second instance. */
  readonly logDir: string;
  /** Processes that exited without the drill killing them (a crash; each was started again, as `./dev up` does), with their last lines. */
  unexpectedExits(): { name: string; code: number | null; signal: string | null; tail: string[] }[];
  stop(): Promise<void>;
}

const log = createLogger('drill', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const entryOf = (name: string) => {
  const p = applicationProcesses.find((a) => a.name === name);
  if (!p) throw new Error(`no application process named ${name} (applicationProcesses: ${applicationProcesses.map((a) => a.name).join(', ')})`);
  return p.entry;
};

export async function startDrillWorld(drill: string, options: DrillWorldOptions = {}): Promise<DrillWorld> {
  await buildIfNeeded();
  const mailbox = await startMailbox();
  const server = new URL(options.mongoServer ?? inject('mongoUrl'));
  server.pathname = `/${uniqueName(`drill-${drill}`)}`;
  // Below the client ports: the API is restarted on it (rolling-restart), see freePortRun.
  const apiPort = await freePortRun(1);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    KAFKA_BROKERS: options.kafkaBrokers ?? inject('kafkaBrokers'),
    KAFKA_NAMESPACE: uniqueName(`drill-${drill}`),
    MONGO_URL: server.toString(),
    SMTP_URL: mailbox.url,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.DRILL_LOG_LEVEL ?? 'info',
    LOG_FORMAT: 'json',
    ...DRILL_RATE_LIMITS,
    // A driver that lost a store which answers others restarts its process this soon (the default
    // is 2 minutes); above any outage a drill stages, so only a wedged client trips it.
    MONGO_CLIENT_STUCK_MS: '30000',
    ...options.env,
  };
  const config = loadConfig(env);
  // As `./dev up` does: the topics once, before five processes race to create them.
  const admin = createKafka(config, 'drill-setup', log).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, config, log);
  } finally {
    await admin.disconnect();
  }

  const logDir = join(DRILLS_DIR, 'logs', drill);
  mkdirSync(logDir, { recursive: true });
  const logs = new Map<string, WriteStream>();
  const logOf = (file: string) => {
    let stream = logs.get(file);
    if (!stream) logs.set(file, (stream = createWriteStream(join(logDir, `${file}.log`), { flags: 'w' })));
    return stream;
  };
  const processes = new Map<string, AppProcess[]>();
  const killed = new Set<Child>();
  const kills: { name: string; signal: NodeJS.Signals; at: number }[] = [];
  const exits: { name: string; code: number | null; signal: string | null; tail: string[] }[] = [];
  const apiBase = `http://127.0.0.1:${apiPort}`;
  let stopping = false;

  const start = async (name: string): Promise<AppProcess> => {
    const list = processes.get(name) ?? [];
    const instance = list.length;
    const file = instance === 0 ? name : `${name}-${instance + 1}`;
    // Extra instances of the API would need a port each; consumers share the environment.
    // Every process gets a probe port of its own (HEALTH_PORT: /livez, /readyz of consumers).
    const own = { ...env, HEALTH_PORT: String(await freePort()), ...(name === 'api' && instance > 0 ? { PORT: String(await freePort()) } : {}) };
    let joined: () => void = () => undefined;
    const joinedOnce = new Promise<void>((resolve) => (joined = resolve));
    const child = startChild(file, process.execPath, ['--enable-source-maps', join(ROOT, 'dist', entryOf(name))], {
      cwd: ROOT,
      env: own,
      keepLines: 60,
      onLine: (line) => {
        logOf(file).write(`${line}\n`);
        if (line.includes('joined the consumer group')) joined();
      },
    });
    void child.exited.then((exit) => {
      if (killed.has(child) || stopping) return;
      // As `./dev up` does: a process that exits by itself is started again (after a second).
      exits.push({ name: file, code: exit.code, signal: exit.signal, tail: child.tail() });
      processes.set(name, (processes.get(name) ?? []).filter((p) => p.child !== child));
      setTimeout(() => {
        if (!stopping) start(name).catch(() => undefined);
      }, 1000);
    });
    const ready =
      name === 'api'
        ? (async () => {
            const base = `http://127.0.0.1:${own.PORT}`;
            for (;;) {
              if (child.exit) throw new Error(`${file} exited while starting:\n${child.tail().join('\n')}`);
              const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
              if (ok) return;
              await sleep(200);
            }
          })()
        : Promise.race([
            joinedOnce,
            child.exited.then(() => {
              throw new Error(`${file} exited while starting:\n${child.tail().join('\n')}`);
            }),
          ]);
    const running: AppProcess = { name, instance, child, ready, ...(name === 'api' ? { apiBase: `http://127.0.0.1:${own.PORT}` } : {}) };
    processes.set(name, [...list.filter((p) => !p.child.exit), running]);
    await withDeadline(ready, 120_000, `${file} to be ready`);
    return running;
  };

  const kill = async (name: string, signal: NodeJS.Signals = 'SIGKILL', instance = 0): Promise<void> => {
    const target = processes.get(name)?.filter((p) => !p.child.exit)[instance];
    if (!target) throw new Error(`no running instance ${instance} of ${name}`);
    killed.add(target.child);
    kills.push({ name, signal, at: Date.now() });
    process.kill(target.child.pid, signal);
    await target.child.exited;
    processes.set(name, (processes.get(name) ?? []).filter((p) => p !== target));
  };

  for (const { name } of applicationProcesses) {
    for (let i = 0; i < (options.instances?.[name] ?? 1); i++) await start(name);
  }

  return {
    drill,
    config,
    env,
    mailbox,
    graphqlUrl: `${apiBase}/graphql`,
    apiBase,
    processes,
    start,
    kill,
    kills,
    logDir,
    unexpectedExits: () => [...exits],
    async stop() {
      stopping = true;
      const all = [...processes.values()].flat();
      await Promise.all(all.map((p) => p.child.stop(20_000)));
      await mailbox.stop();
      for (const stream of logs.values()) stream.end();
      await removeNamespace(config).catch(() => undefined);
    },
  };
}

export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Leaves the broker and the server as the drill found them: its database, topics and groups removed. */
async function removeNamespace(config: Config): Promise<void> {
  const mongo = await mongoose.createConnection(config.mongo.url, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  await mongo.dropDatabase().catch(() => undefined);
  await mongo.close();
  const admin = createKafka(config, 'drill-cleanup', log).admin();
  await admin.connect();
  try {
    const mine = (name: string) => name.startsWith(`${config.kafka.namespace}.`);
    await admin.deleteTopics({ topics: (await admin.listTopics()).filter(mine) }).catch(() => undefined);
    await admin.deleteGroups((await admin.listGroups()).groups.map((g) => g.groupId).filter(mine)).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
