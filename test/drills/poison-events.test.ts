/**
 * Drill 8: poison events. Mid-load, four messages no consumer can ever handle are written to
 * order.placed beside the real orders: invalid JSON, a valid envelope with an invalid payload,
 * an unknown event type, and a value just under the topic's max.message.bytes. Each consumer
 * group reading order.placed must put each one on order.placed.dlq exactly once, byte for byte,
 * with its reason and group, and carry on: the audit of the real orders still passes.
 */
import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import { describe, it } from 'vitest';
import { physicalTopic, TOPICS } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { DEAD_LETTER_HEADERS } from '../../src/kafka/dead-letter';
import { createLogger } from '../../src/logger';
import { groupTopics, type DeadLetter } from './support/audit';
import { auditAndReport, drillWorld, loadWithFault } from './support/drill';
import type { DrillWorld } from './support/world';

const DRILL = 'poison-events';
const { world: worldOf } = drillWorld(DRILL);

async function maxMessageBytes(world: DrillWorld, topic: string): Promise<number> {
  const admin = createKafka(world.config, 'drill-poison', createLogger('drill', { level: 'silent' })).admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }] });
    return Number(described.resources[0]!.configEntries.find((e) => e.configName === 'max.message.bytes')!.configValue);
  } finally {
    await admin.disconnect();
  }
}

function poisons(limit: number): { name: string; key: string; value: Buffer }[] {
  const envelope = (type: string, data: unknown) => JSON.stringify({ id: randomUUID(), type, version: 1, occurredAt: new Date().toISOString(), data });
  const big = envelope(TOPICS.orderPlaced, { orderId: 'poison-big', padding: '' });
  // The record's own overhead (lengths, offsets, attributes, key) stays well under 200 bytes.
  const padding = 'x'.repeat(limit - 200 - Buffer.byteLength(big));
  return [
    { name: 'invalid JSON', key: 'poison-json', value: Buffer.from('{"id": "not json…') },
    { name: 'invalid payload', key: 'poison-payload', value: Buffer.from(envelope(TOPICS.orderPlaced, { orderId: 'poison-payload', totalCents: -5 })) },
    { name: 'unknown type', key: 'poison-type', value: Buffer.from(envelope('order.teleported', { orderId: 'poison-type' })) },
    { name: 'just under max.message.bytes', key: 'poison-big', value: Buffer.from(big.replace('"padding":""', `"padding":"${padding}"`)) },
  ];
}

describe('drill 8: poison events', () => {
  it('dead-letters each poison once per group, with its reason and original bytes, and the audit passes', async () => {
    const world = worldOf();
    const topic = physicalTopic(world.config, TOPICS.orderPlaced);
    const limit = await maxMessageBytes(world, topic);
    const bad = poisons(limit);
    // Each group reading order.placed (asked while every consumer runs) must dead-letter each poison once, naming itself.
    const readers = [...(await groupTopics(createKafka(world.config, 'drill-poison', createLogger('drill', { level: 'silent' })), world))]
      .filter(([, topics]) => topics.has(topic))
      .map(([name]) => `${world.config.kafka.namespace}.${name}`);
    const producer = createKafka(world.config, 'drill-poison', createLogger('drill', { level: 'silent' })).producer();
    await producer.connect();
    const { load } = await loadWithFault(world, {
      orders: 200,
      at: 60,
      // One send each: the largest alone fills a whole request.
      fault: async () => {
        for (const p of bad) await producer.send({ topic, acks: -1, messages: [{ key: p.key, value: p.value }] });
      },
    }).finally(() => producer.disconnect());

    const isPoison = (value: Buffer | null) => bad.some((p) => value?.equals(p.value));
    /** Each poison dead-lettered once by each reader of order.placed, with its reason. */
    const poisonProblems = (deadLetters: readonly DeadLetter[]) =>
      bad.flatMap((p) => {
        const letters = deadLetters.filter((l) => l.value?.equals(p.value));
        const groups = letters.map((l) => l.headers[DEAD_LETTER_HEADERS.consumerGroup]).sort();
        return [
          ...(JSON.stringify(groups) === JSON.stringify([...readers].sort()) ? [] : [`poison "${p.name}" was dead-lettered by [${groups.join(', ')}], expected once by each of [${readers.join(', ')}]`]),
          ...letters.filter((l) => !l.headers[DEAD_LETTER_HEADERS.reason]).map(() => `poison "${p.name}" dead-lettered without a reason`),
        ];
      });
    await auditAndReport(world, load, {
      figures: { poisonsInjected: bad.length, maxMessageBytes: limit, readersOfOrderPlaced: readers.length },
      audit: { expectedDeadLetter: (letter) => letter.topic === `${TOPICS.orderPlaced}.dlq` && isPoison(letter.value) },
      afterAudit: async (result) => poisonProblems(result.deadLetters),
    });
  });
});
