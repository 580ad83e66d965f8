/**
 * Proves, against the real local broker, what the product needs of kafkajs 2.2.4 with
 * Apache Kafka 4.x: topics created with configs, an idempotent acks=all producer, a consumer
 * group that commits, and a member that rejoins and carries on from the committed offset.
 */
import type { Admin, Consumer, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRetry } from '../../src/retry';
import { testKafka, uniqueName } from '../support/services';

const kafka = testKafka();
const topic = uniqueName('compat');
const groupId = uniqueName('compat-group');
let admin: Admin;

async function consumeUntil(count: number, seen: string[]): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
      seen.push(message.value!.toString());
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    },
  });
  const deadline = Date.now() + 30_000;
  while (seen.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return consumer;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('kafkajs against the local Kafka broker', () => {
  it('creates a topic with partitions and configs', async () => {
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    });
    expect(created).toBe(true);
    // Leaders of a new topic take a moment to serve ("does not host this topic-partition").
    await withRetry(() => admin.fetchTopicOffsets(topic), { retries: 10, initialDelayMs: 200, maxDelayMs: 2000 });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]!.partitions).toHaveLength(3);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }],
    });
    expect(configs.resources[0]!.configEntries[0]!.configValue).toBe('-1');
  });

  it('produces with an idempotent acks=all producer, consumes in a group, commits, and a rejoining member resumes', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acks = await producer.send({ topic, acks: -1, messages: ['one', 'two', 'three'].map((v) => ({ key: v, value: v })) });
    expect(acks.every((a) => a.errorCode === 0)).toBe(true);

    const seen: string[] = [];
    const first = await consumeUntil(3, seen);
    expect([...seen].sort()).toEqual(['one', 'three', 'two']);
    await first.disconnect();

    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = committed[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(total).toBe(3);

    await producer.send({ topic, acks: -1, messages: [{ key: 'four', value: 'four' }] });
    const second = await consumeUntil(4, seen);
    // Only the new message arrives: the rejoined member starts at the committed offsets.
    expect(seen).toHaveLength(4);
    expect(seen[3]).toBe('four');
    await second.disconnect();
    await producer.disconnect();
  });

  it('deletes a consumer group that has no members', async () => {
    const result = await admin.deleteGroups([groupId]);
    expect(result[0]!.errorCode).toBe(0);
    const listed = await admin.listGroups();
    expect(listed.groups.map((g) => g.groupId)).not.toContain(groupId);
  });
});
