/**
 * The Kafka PubSub adapter on its own, against the real broker: it buffers from subscribe(),
 * parses and validates what it passes on (skipping what it cannot parse), publishes through
 * the library, and leaves no consumer group behind after dispose().
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, physicalTopic, TOPICS } from '../../src/events/topics';
import { createLogger } from '../../src/logger';
import { connectEventPubSub, STREAMED_TOPICS, type EventPubSub } from '../../src/subscriptions/event-pubsub';
import { EVERY_EVENT } from '../../src/subscriptions/subscriber-index';
import { statusEvent } from '../support/order-events.fixture';
import { testConfig, testKafka, uniqueName } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('api-pubsub') });
const kafka = testKafka();
let admin: Admin;
let pubSub: EventPubSub;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config);
  pubSub = await connectEventPubSub({ kafka, admin, config, log: createLogger('pubsub-test', { level: 'silent' }), instanceId: uniqueName('instance') });
  await pubSub.ready();
});

afterAll(async () => {
  await pubSub?.dispose();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${config.kafka.namespace}.`));
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

describe('EventPubSub', () => {
  it('one consumer group per streamed topic, named for this instance and namespace', () => {
    expect(pubSub.groupIds).toHaveLength(STREAMED_TOPICS.length);
    expect(pubSub.groupIds.every((id) => id.startsWith(`${config.kafka.namespace}.api-subscriptions.`))).toBe(true);
  });

  it('buffers from subscribe(), skips what does not parse, and publishes validated events', async () => {
    const stream = pubSub.subscribe(TOPICS.orderStatusChanged, [EVERY_EVENT]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: physicalTopic(config, TOPICS.orderStatusChanged), messages: [{ key: 'k', value: '{"not":"an event"}' }, { key: 'k', value: 'not json' }] });
    await producer.disconnect();
    const event = statusEvent({ orderId: uniqueName('order'), customerId: 'c-1' }, 'CONFIRMED', 'PLACED');
    await pubSub.publish(TOPICS.orderStatusChanged, event.event, 'k');
    // Nothing was read yet; the stream still holds what arrived meanwhile.
    const first = await stream.next();
    expect(first.value).toEqual(event.event);
    await stream.return();
    await expect(pubSub.publish(TOPICS.orderStatusChanged, { ...event.event, data: {} })).rejects.toThrow();
  });

  it('dispose() deletes the groups', async () => {
    const groupIds = pubSub.groupIds;
    await pubSub.dispose();
    const left = (await admin.listGroups()).groups.map((g) => g.groupId);
    expect(left.filter((id) => groupIds.includes(id))).toEqual([]);
  });
});
