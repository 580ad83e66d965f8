/**
 * The three-node fault-test cluster, for real: a topic with replication factor 3 and
 * min.insync.replicas=2 keeps taking acks=all writes, and a consumer group keeps reading
 * every one of them, after one broker is killed with SIGKILL.
 */
import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaNodePidFile, startKafka, stopKafka } from '../../src/devstack/kafka';
import { stackPaths } from '../../src/devstack/paths';
import { isAlive } from '../../src/devstack/processes';
import { createLogger } from '../../src/logger';
import { createServedTopics } from '../../src/events/topics';
import { uniqueName } from '../support/services';

const CLUSTER = 'test-cluster';
const BASE_PORT = 29092;
const PARTITIONS = 3;
const VICTIM = 3;

const log = createLogger('test', { level: 'silent' });
const paths = stackPaths('.local');
const topic = uniqueName('fault');
const before = Array.from({ length: 30 }, (_, i) => `before-${i}`);
const after = Array.from({ length: 30 }, (_, i) => `after-${i}`);

let brokers: string[] = [];
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

function removeCluster(): void {
  rmSync(paths.kafkaCluster(CLUSTER), { recursive: true, force: true });
}

/** Sends with acks=all, trying again while leadership moves after a broker died (up to ~30 s). */
async function sendAll(values: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: value, value })) });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

describe('three-node Kafka cluster survives the loss of one broker', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    // Start fresh even if an earlier run was interrupted before its cleanup.
    await stopKafka(paths, CLUSTER, log);
    removeCluster();
    ({ brokers } = await startKafka({ paths, log, name: CLUSTER, nodeCount: 3, basePort: BASE_PORT }));
    kafka = new Kafka({ clientId: uniqueName('fault-test'), brokers, logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await stopKafka(paths, CLUSTER, log);
    removeCluster();
  });

  it('starts three brokers on 29092, 29094 and 29096', async () => {
    expect(brokers).toEqual(['127.0.0.1:29092', '127.0.0.1:29094', '127.0.0.1:29096']);
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => b.port).sort()).toEqual([29092, 29094, 29096]);
  });

  it('creates a topic with replication factor 3 and min.insync.replicas=2', async () => {
    await createServedTopics(admin, [{ topic, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }]);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }],
    });
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('2');
  });

  it('takes acks=all writes from an idempotent producer', async () => {
    const acks = await producer.send({ topic, acks: -1, messages: before.map((value) => ({ key: value, value })) });
    expect(acks.every((ack) => ack.errorCode === 0)).toBe(true);
    expect(acks.length).toBeGreaterThan(0);
  });

  it('keeps every partition on 3 in-sync replicas while all brokers run', async () => {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics[0]!.partitions;
    expect(partitions).toHaveLength(PARTITIONS);
    for (const partition of partitions) {
      expect(partition.replicas.sort()).toEqual([1, 2, 3]);
      expect(partition.isr.sort()).toEqual([1, 2, 3]);
    }
  });

  it(`still takes acks=all writes after broker ${VICTIM} is killed with SIGKILL`, async () => {
    const pid = Number(readFileSync(kafkaNodePidFile(paths, CLUSTER, VICTIM), 'utf8').trim());
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
    await sendAll(after);
  });

  it(`drops broker ${VICTIM} from the in-sync replicas, leaving the 2 that min.insync.replicas needs`, async () => {
    const deadline = Date.now() + 30_000;
    let isrs: number[][] = [];
    do {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      isrs = metadata.topics[0]!.partitions.map((p) => [...p.isr].sort());
      if (isrs.every((isr) => !isr.includes(VICTIM))) break;
      await sleep(500);
    } while (Date.now() < deadline);
    expect(isrs).toEqual(Array.from({ length: PARTITIONS }, () => [1, 2]));
  });

  it('lets a consumer group read every message produced before and after the kill', async () => {
    const consumer = kafka.consumer({ groupId: uniqueName('fault-group') });
    const seen = new Set<string>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      const deadline = Date.now() + 60_000;
      while (seen.size < before.length + after.length && Date.now() < deadline) await sleep(100);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    expect([...seen].sort()).toEqual([...before, ...after].sort());
  });
});
