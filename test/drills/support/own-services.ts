/**
 * Servers a drill owns, so it can kill and restart them without touching the shared broker on
 * 9092 or the shared FerretDB on 27017 that other tests use: a Kafka of one or three nodes
 * (src/devstack/kafka.ts, its own name and ports under .local/kafka/<name>/), and a second
 * FerretDB process on a port of its own over the stack's PostgreSQL (its own small pool; the
 * drill's database is unique anyway).
 */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { startChild, type Child } from '../../../bench/support/child';
import { kafkaNodePidFile, startKafka, stopKafka } from '../../../src/devstack/kafka';
import { stackPaths } from '../../../src/devstack/paths';
import { postgresUrl } from '../../../src/devstack/postgres';
import { isAlive, runningPid } from '../../../src/devstack/processes';
import { createLogger } from '../../../src/logger';
import { UPDATE_CHUNK } from '../../../src/mongo/bulk';
import { answersPing } from '../../../src/mongo/ping';
import { startKafkaProxy, type KafkaProxy } from '../../support/kafka-proxy';
import { freePortRun, ROOT } from '../../support/processes';
import { uniqueName } from '../../support/services';

const log = createLogger('drill-services', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
export const paths = stackPaths('.local', ROOT);

export interface OwnKafka {
  readonly name: string;
  readonly brokers: string[];
  readonly brokerPorts: number[];
  /** SIGKILLs node `id` (1-based) and waits until it is gone. */
  kill(id: number): Promise<void>;
  /** Starts every node that is not running (keeping their data) and waits until the cluster answers. */
  start(): Promise<void>;
  remove(): Promise<void>;
}

export async function startOwnKafka(nodeCount: number, options: { advertisedPorts?: number[]; basePort?: number } = {}): Promise<OwnKafka> {
  const name = uniqueName('drill-kafka');
  const basePort = options.basePort ?? (await freePortRun(2 * nodeCount));
  const start = async () => {
    await startKafka({ paths, log, name, nodeCount, basePort, advertisedPorts: options.advertisedPorts });
  };
  await start();
  const brokerPorts = Array.from({ length: nodeCount }, (_, i) => basePort + 2 * i);
  return {
    name,
    brokers: (options.advertisedPorts ?? brokerPorts).map((p) => `127.0.0.1:${p}`),
    brokerPorts,
    async kill(id) {
      const pid = runningPid(kafkaNodePidFile(paths, name, id));
      if (pid === undefined) throw new Error(`Kafka node ${id} of ${name} is not running`);
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    },
    start,
    async remove() {
      await stopKafka(paths, name, log);
      rmSync(paths.kafkaCluster(name), { recursive: true, force: true });
    },
  };
}

export interface ProxiedKafka extends OwnKafka {
  /** The loopback proxy every client reaches the proxied node through. */
  readonly proxy: KafkaProxy;
}

/**
 * A Kafka of `nodeCount` nodes whose node `proxied` clients reach only through a KafkaProxy
 * (advertised in its place), so a test can lose or hold that node's produce answers.
 * remove() takes the nodes down, then the proxy.
 */
export async function startProxiedKafka(nodeCount: number, proxied: number): Promise<ProxiedKafka> {
  // Two ports per node, then one for the proxy, all free right now.
  const basePort = await freePortRun(2 * nodeCount + 1);
  const proxyPort = basePort + 2 * nodeCount;
  const proxy = await startKafkaProxy({ listenPort: proxyPort, brokerPort: basePort + 2 * (proxied - 1) });
  const advertisedPorts = Array.from({ length: nodeCount }, (_, i) => (i + 1 === proxied ? proxyPort : basePort + 2 * i));
  const kafka = await startOwnKafka(nodeCount, { basePort, advertisedPorts }).catch(async (error: unknown) => {
    await proxy.close();
    throw error;
  });
  return {
    ...kafka,
    proxy,
    async remove() {
      await kafka.remove();
      await proxy.close();
    },
  };
}

/** PURE: Java's String.hashCode, which Kafka uses to place a group on a partition of __consumer_offsets. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The node that coordinates consumer group `groupId`: the leader of its partition of
 * `__consumer_offsets` (Kafka: `Utils.abs(groupId.hashCode()) % partitions`).
 */
export async function groupCoordinatorNode(brokers: readonly string[], groupId: string): Promise<number> {
  const admin = new Kafka({ clientId: uniqueName('drill-coordinator'), brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    const partitions = topics[0]!.partitions;
    const partition = (javaStringHash(groupId) & 0x7fffffff) % partitions.length;
    return partitions.find((p) => p.partitionId === partition)!.leader;
  } finally {
    await admin.disconnect();
  }
}

export interface OwnFerretDb {
  /** `mongodb://127.0.0.1:<port>/` */
  readonly url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The same as stop (a drill's servers are removed when it ends). */
  remove(): Promise<void>;
}

/** A FerretDB of the drill's own over the stack's PostgreSQL (which the shared FerretDB keeps running). */
export async function startOwnFerretDb(): Promise<OwnFerretDb> {
  const port = await freePortRun(1);
  const url = `mongodb://127.0.0.1:${port}/`;
  // FerretDB v1 holds one backend connection per statement of an update command until the
  // command ends, so commands that together need more than the pool wait for each other
  // forever (src/devstack/postgres.ts): one of the consumers' 20-statement bulk updates needs
  // 21. A pool of 20 deadlocked drill 4 for good once the backlog after the outage filled
  // whole chunks. Room for four such commands at once; the shared FerretDB's pool (200 of
  // PostgreSQL's 230) is mostly idle while the drills run, and its idle connections close
  // after a minute.
  const pool = 4 * (UPDATE_CHUNK + 1);
  const pg = postgresUrl(paths.postgresSocketDir).replace(/pool_max_conns=\d+/, `pool_max_conns=${pool}`);
  let child: Child | undefined;
  const start = async () => {
    child = startChild('ferretdb', paths.ferretBinary, ['--listen-addr', `127.0.0.1:${port}`, '--handler', 'postgresql', '--postgresql-url', pg, '--log-level', 'warn'], { cwd: ROOT, env: process.env });
    const deadline = Date.now() + 30_000;
    while (!(await answersPing(url))) {
      if (child.exit || Date.now() > deadline) throw new Error(`the drill's FerretDB did not start:\n${child.tail().join('\n')}`);
      await sleep(200);
    }
  };
  await start();
  return {
    url,
    async kill() {
      if (!child || child.exit) return;
      process.kill(child.pid, 'SIGKILL');
      await child.exited;
    },
    start,
    async stop() {
      await child?.stop(10_000);
    },
    async remove() {
      await child?.stop(10_000);
    },
  };
}
