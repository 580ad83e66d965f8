/**
 * Reliability finding 6: subscriptions must not die silently. The API's subscription
 * consumers (src/subscriptions/event-pubsub.ts) are cut off from the real broker through a
 * socket factory the test controls (test/support/kafka-cable.ts): open streams must end with a
 * retryable UNAVAILABLE, new ones be refused while Kafka is away, readiness (problem()) say so,
 * and the consumers come back by themselves once the network does, delivering again. Both ways
 * kafkajs ends a consumer are covered: a crash it restarts from, and one it gives up on.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import { ensureTopics, physicalTopic, TOPICS } from '../../src/events/topics';
import { connectEventPubSub, LiveEventsInterruptedError, type EventPubSub } from '../../src/subscriptions/event-pubsub';
import { EVERY_EVENT } from '../../src/subscriptions/subscriber-index';
import { kafkaCable, type KafkaCable } from '../support/kafka-cable';
import { statusEvent } from '../support/order-events.fixture';
import { testConfig, testKafka, testLogger, uniqueName, waitFor } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('sub-outage') });
const kafka = testKafka();
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config);
});

afterAll(async () => {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${config.kafka.namespace}.`));
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

/** A pubsub whose Kafka connections go through `cable`; kafkajs gives up quickly so the test is short. */
async function pubSubBehind(cable: KafkaCable, restartOnFailure: boolean): Promise<EventPubSub> {
  const cabled = new Kafka({
    clientId: uniqueName('cabled'),
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
    socketFactory: cable.socketFactory,
    retry: { initialRetryTime: 100, maxRetryTime: 500, retries: 2, restartOnFailure: async () => restartOnFailure },
  });
  const pubSub = await connectEventPubSub({ kafka: cabled, admin, config, log: testLogger('sub-outage'), instanceId: uniqueName('instance'), stallAfterMs: 3000 });
  await pubSub.ready();
  return pubSub;
}

async function publishStatus(orderId: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const { event } = statusEvent({ orderId, customerId: 'c-outage' }, 'CONFIRMED', 'PLACED');
  await producer.send({ topic: physicalTopic(config, TOPICS.orderStatusChanged), messages: [{ key: orderId, value: JSON.stringify(event) }] });
  await producer.disconnect();
}

/** The next event of `stream` whose order is `orderId`. */
async function nextFor(stream: AsyncIterator<{ data: { orderId: string } }>, orderId: string): Promise<void> {
  for (;;) {
    const { value, done } = await stream.next();
    if (done) throw new Error('the stream ended');
    if (value.data.orderId === orderId) return;
  }
}

describe.each([
  ['kafkajs restarts the crashed consumer itself', true],
  ['kafkajs gives the consumer up: it is created again', false],
])('subscription consumers cut off from Kafka (%s)', (_name, restartOnFailure) => {
  it('end open streams with a retryable UNAVAILABLE, refuse new ones and fail readiness, then come back and deliver', async () => {
    const cable = kafkaCable();
    const pubSub = await pubSubBehind(cable, restartOnFailure);
    try {
      expect(pubSub.problem()).toBeNull();
      const stream = pubSub.subscribe(TOPICS.orderStatusChanged, [EVERY_EVENT]);
      const ended = stream.next().then(
        () => null,
        (error: unknown) => error,
      );

      cable.cut();
      const error = await waitFor(() => Promise.race([ended, new Promise((r) => setTimeout(() => r(undefined), 200))]), 20_000, 'the open stream to end');
      expect(error).toBeInstanceOf(LiveEventsInterruptedError);
      expect((error as AppError).code).toBe('UNAVAILABLE');
      expect((error as AppError).retriable).toBe(true);
      expect(pubSub.problem()).toMatch(/subscriptions: /);
      expect(() => pubSub.subscribe(TOPICS.orderStatusChanged, [EVERY_EVENT])).toThrow(LiveEventsInterruptedError);

      cable.mend();
      await waitFor(() => pubSub.problem() === null, 60_000, 'the subscription consumers to be back');
      const orderId = uniqueName('order');
      const again = await waitFor(() => {
        try {
          return pubSub.subscribe(TOPICS.orderStatusChanged, [EVERY_EVENT]);
        } catch {
          return undefined;
        }
      }, 30_000, 'subscriptions to be accepted again');
      // The consumer resumes from its group's committed offsets: an event produced now arrives.
      await publishStatus(orderId);
      await nextFor(again as never, orderId);
      await again.return();
    } finally {
      cable.mend();
      await pubSub.dispose();
    }
  }, 120_000);
});
