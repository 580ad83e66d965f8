/**
 * Drill 5's lost order, reproduced: one send spans two partitions led by two brokers; the leader
 * of one dies while its part of the send is in flight, and leadership moves to the broker that
 * has already answered for the other part. kafkajs 2.2.4 then never sends that part again and
 * resolves the send (kafkajs#1303), and it has rolled that partition's sequence back, so the
 * producer's next event there is taken for a duplicate of the lost request and never written.
 *
 * Three brokers; node 3 stands behind a loopback proxy (test/support/kafka-proxy.ts) that holds
 * its part of the send until node 3 has been killed and replaced as leader. The topic's
 * replicas are placed by hand: partition 0 is led by node 1, partition 1 by node 3 with node 1
 * next in line, so node 1 takes partition 1 over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { physicalTopic } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from '../../src/kafka/event-producer';
import { createLogger } from '../../src/logger';
import { startProxiedKafka, type ProxiedKafka } from '../drills/support/own-services';
import { readTopic } from '../support/api-harness';
import { cancelledEvent, placedEvent } from '../support/order-fixtures';
import { uniqueName } from '../support/services';

const VICTIM = 3;

const log = createLogger('test', { level: 'silent' });
let config: Config;
let cluster: ProxiedKafka;
let kafka: Kafka;
let admin: Admin;
let producer: EventProducer;

/** An order whose id the producer's partitioner puts on `partition` of a two-partition topic. */
function orderOnPartition(partition: number): ReturnType<typeof placedEvent> {
  const choose = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1].map((partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }));
  for (;;) {
    const placed = placedEvent();
    if (choose({ topic: 'any', partitionMetadata, message: { key: placed.data.orderId, value: '' } }) === partition) return placed;
  }
}

const onNode1 = orderOnPartition(0);
const onNode3 = orderOnPartition(1);
const cancel = (placed: ReturnType<typeof placedEvent>, reason: string): OutgoingEvent => ({ topic: 'order.cancelled', key: placed.data.orderId, event: cancelledEvent(placed, reason) });

/** The leader of partition 1, as the cluster reports it now. */
async function leaderOfPartition1(): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [physicalTopic(config, 'order.cancelled')] });
  return topics[0]!.partitions.find((p) => p.partitionId === 1)!.leader;
}

describe('a send whose partition leader dies mid-flight', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    cluster = await startProxiedKafka(3, VICTIM);
    config = loadConfig({ ...process.env, NODE_ENV: 'test', KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_NAMESPACE: uniqueName('leader'), KAFKA_TOPIC_PARTITIONS: '2' });
    kafka = createKafka(config, uniqueName('leader-moves'), log);
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: physicalTopic(config, 'order.cancelled'), replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }, { partition: 1, replicas: [3, 1, 2] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    });
    producer = await connectEventProducer(kafka, config);
  });

  afterAll(async () => {
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
    await cluster?.remove();
  });

  it('writes every event of the send, and the next event to the partition that moved', async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [physicalTopic(config, 'order.cancelled')] });
    expect(topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort()).toEqual([[0, 1], [1, VICTIM]]);
    await producer.publish([cancel(onNode1, 'before'), cancel(onNode3, 'before')]);

    // Node 3's part of the send hangs at the proxy while node 3 dies and node 1 takes its
    // partition over; only then does the connection close, and kafkajs retries the send.
    const { proxy } = cluster;
    proxy.holdProduceRequests();
    const straddling = producer.publish([cancel(onNode1, 'straddling'), cancel(onNode3, 'straddling')]);
    while (proxy.held === 0) await sleep(20);
    await cluster.kill(VICTIM);
    while ((await leaderOfPartition1()) !== 1) await sleep(250);
    proxy.dropHeld();
    await straddling;
    await producer.publish([cancel(onNode3, 'after the move')]);

    const written = (await readTopic(kafka, config, 'order.cancelled')).map((m) => {
      const { data } = JSON.parse(String(m.value)) as { data: { orderId: string; reason: string } };
      return `${data.orderId === onNode1.data.orderId ? 'node 1' : 'node 3'}: ${data.reason}`;
    });
    expect(new Set(written)).toEqual(new Set(['node 1: before', 'node 3: before', 'node 1: straddling', 'node 3: straddling', 'node 3: after the move']));
  });
});
