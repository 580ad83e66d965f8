/**
 * `./dev replay` against the real broker and FerretDB: analytics and the orders read model,
 * rebuilt from the beginning of their topics after a mixed run, equal the live state exactly;
 * a switch-over moves the pointer and the live group's offsets so that the live projector,
 * started again, carries on in the new collections with nothing missed; modules with side
 * effects refuse.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsConsumer } from '../../src/consumers/analytics.consumer';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import { orderPaymentFailed, paymentRefunded, type OrderPlaced } from '../../src/events/order-events';
import { physicalGroupId, physicalTopic } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { orderModel } from '../../src/mongo/models/order.model';
import { collectionOf, liveGeneration, watchReadModels } from '../../src/mongo/read-models';
import { diffGenerations, isIdentical } from '../../src/ops/read-model-diff';
import { replay, type ReplayProgress } from '../../src/ops/replay';
import { cancelledEvent, confirmedEvent, placedEvent, statusChangedEvent } from '../support/order-fixtures';
import { removeTestNamespace, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, waitUntilDrained } from '../support/services';

const namespace = uniqueName('replay');
const mongoUrl = uniqueMongoUrl('replay');
const config = testConfig({ KAFKA_NAMESPACE: namespace, MONGO_URL: mongoUrl });
const log = testLogger('replay-test');
const PROJECTOR_TOPICS = ['order.placed', 'order.status-changed'];
const ANALYTICS_TOPICS = ['order.placed', 'order.confirmed', 'order.payment-failed', 'order.cancelled', 'order.status-changed', 'payment.refunded'];

let projector: RunningConsumer;
let analytics: RunningConsumer;
let producer: EventProducer;
let admin: Admin;
let connection: Connection;

const publish = (...events: OutgoingEvent['event'][]) =>
  producer.publish(events.map((event) => ({ topic: event.type as OutgoingEvent['topic'], key: (event as unknown as OrderPlaced).data.orderId, event })));

/** One order's events as the pipeline would produce them, ending in `outcome`; some facts twice, as a redelivery would. */
function lifeOf(outcome: 'placed' | 'confirmed' | 'declined' | 'cancelled' | 'delivered', restaurantId: string): OutgoingEvent['event'][] {
  const placed = placedEvent({ restaurantId, customerId: `cust-${randomUUID().slice(0, 6)}` });
  const { orderId, customerId } = placed.data;
  if (outcome === 'placed') return [placed];
  if (outcome === 'declined') {
    const failed = orderPaymentFailed({ orderId, customerId, restaurantId, reason: 'card declined', failedAt: new Date().toISOString() });
    return [placed, failed, statusChangedEvent(placed, 'PAYMENT_FAILED', 'PLACED')];
  }
  const confirmed = confirmedEvent(placed);
  const events: OutgoingEvent['event'][] = [placed, confirmed, statusChangedEvent(placed, 'CONFIRMED', 'PLACED'), confirmedEvent(placed)];
  if (outcome === 'cancelled') {
    const refund = paymentRefunded({ orderId, restaurantId, transactionId: confirmed.data.transactionId, amountCents: placed.data.totalCents, refundedAt: new Date().toISOString() });
    events.push(cancelledEvent(placed), statusChangedEvent(placed, 'CANCELLED', 'CONFIRMED'), refund);
  }
  if (outcome === 'delivered') {
    events.push(
      statusChangedEvent(placed, 'PREPARING', 'CONFIRMED'),
      statusChangedEvent(placed, 'OUT_FOR_DELIVERY', 'PREPARING'),
      statusChangedEvent(placed, 'DELIVERED', 'OUT_FOR_DELIVERY'),
      statusChangedEvent(placed, 'DELIVERED', 'OUT_FOR_DELIVERY'),
    );
  }
  return events;
}

const OUTCOMES = ['placed', 'confirmed', 'declined', 'cancelled', 'delivered'] as const;

async function mixedRun(orders: number): Promise<void> {
  const restaurants = ['trattoria', 'sushi-bar', 'taqueria'].map((r) => `${r}-${randomUUID().slice(0, 4)}`);
  const lives = Array.from({ length: orders }, (_, i) => lifeOf(OUTCOMES[i % OUTCOMES.length]!, restaurants[i % restaurants.length]!));
  // Interleaved across orders, as concurrent customers would: every order's own events stay in order.
  for (let step = 0; lives.some((l) => l.length > step); step++) {
    const events = lives.flatMap((l) => (l[step] ? [l[step]!] : []));
    if (events.length > 0) await publish(...events);
  }
}

beforeAll(async () => {
  projector = await startConsumer(createOrdersProjector(), { config, log });
  analytics = await startConsumer(createAnalyticsConsumer(), { config, log });
  producer = await connectEventProducer(createKafka(config, uniqueName('replay-test'), log), config);
  admin = testKafka().admin();
  await admin.connect();
  connection = await connectMongo(config, log);
  await mixedRun(60);
  await Promise.all([
    waitUntilDrained(admin, config, projector.groupId, PROJECTOR_TOPICS, 60_000),
    waitUntilDrained(admin, config, analytics.groupId, ANALYTICS_TOPICS, 60_000),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([projector?.stop(), analytics?.stop()]);
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), connection?.close()]);
  await removeTestNamespace(namespace, mongoUrl);
});

describe('replay', () => {
  it('rebuilds analytics from the beginning beside the live figures, and they are identical', async () => {
    const progress: ReplayProgress[] = [];
    const result = await replay({ config, log, connection, module: 'analytics', mode: 'beside', pollMs: 200, onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ readModel: 'analytics', switched: false, liveGeneration: null });
    expect(result.events).toBeGreaterThan(200);
    const diffs = await diffGenerations(connection, 'analytics', null, result.generation);
    // global + 3 restaurants; one ledger entry per fact and order: 12 orders of each outcome, 1+2+2+4+3 facts
    expect(diffs.map((d) => d.same)).toEqual([4, 12 * (1 + 2 + 2 + 4 + 3)]);
    expect(isIdentical(diffs), JSON.stringify(diffs)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'replaying', done: progress.at(-1)!.total });
    // Beside: the live side is untouched.
    expect(await liveGeneration(connection, 'analytics')).toBeNull();
  }, 120_000);

  it('rebuilds the orders read model, switches over once the live projector stops, and the live projector carries on in the new collection', async () => {
    const before = await diffGenerations(connection, 'orders', null, null);
    expect(before[0]!.same).toBe(60);
    const readers = await watchReadModels(connection, { intervalMs: 100, log });
    const late = lifeOf('confirmed', 'late-restaurant');
    const whileStopped = placedEvent({ restaurantId: 'late-restaurant' });
    let waited = false;
    const result = await replay({
      config,
      log,
      connection,
      module: 'orders-projector',
      mode: 'switch',
      pollMs: 200,
      // Caught up; events keep coming, then the operator stops the live projector, and more come.
      onWaitingForLive: async () => {
        waited = true;
        await publish(...late);
        await waitUntilDrained(admin, config, projector.groupId, PROJECTOR_TOPICS);
        await projector.stop();
        await publish(whileStopped);
      },
    });
    expect(waited).toBe(true);
    expect(result).toMatchObject({ switched: true, liveGeneration: null, collections: [`orders_${result.generation}`] });

    // One pointer: readers now find the new collection.
    await waitFor(() => readers.generation('orders') === result.generation, 5_000, 'readers to follow the pointer');
    readers.stop();
    // The live group's offsets moved to the replay's, past the order placed while it was stopped.
    const groupId = physicalGroupId(config, 'orders-projector');
    for (const topic of PROJECTOR_TOPICS.map((t) => physicalTopic(config, t))) {
      const ends = await admin.fetchTopicOffsets(topic);
      const { partitions } = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!;
      for (const p of partitions) {
        expect(p.offset, `${topic}:${p.partition}`).toBe(result.offsets[`${topic}:${p.partition}`]);
        expect(p.offset).toBe(ends.find((e) => e.partition === p.partition)!.high);
      }
    }
    // Everything the live projector had, the rebuild has, and the order it never saw besides.
    const diffs = await diffGenerations(connection, 'orders', null, result.generation);
    expect(diffs[0]).toMatchObject({ same: 61, different: [], onlyLive: [], onlyRebuilt: [whileStopped.data.orderId] });

    // Started again, the live projector writes to the new collection only, from where the replay stopped.
    projector = await startConsumer(createOrdersProjector(), { config, log });
    const orderId = (late[0] as OrderPlaced).data.orderId;
    await publish(statusChangedEvent(late[0] as OrderPlaced, 'PREPARING', 'CONFIRMED'));
    const rebuilt = orderModel(connection, collectionOf('orders', result.generation));
    await waitFor(async () => (await rebuilt.findById(orderId).lean())?.status === 'PREPARING', 20_000, 'the new collection to get the change');
    expect((await orderModel(connection).findById(orderId).lean())?.status).toBe('CONFIRMED');
    await waitUntilDrained(admin, config, projector.groupId, PROJECTOR_TOPICS);
    expect(await rebuilt.countDocuments()).toBe(62);
  }, 180_000);

  it('refuses modules with side effects, saying which', async () => {
    await expect(replay({ config, log, connection, module: 'transactions', mode: 'beside' })).rejects.toThrow(/transactions cannot be replayed: it charges/);
    await expect(replay({ config, log, connection, module: 'confirmations', mode: 'beside' })).rejects.toThrow(/emails customers/);
    await expect(replay({ config, log, connection, module: 'kitchen', mode: 'beside' })).rejects.toThrow(/no consumer module "kitchen"/);
  });
});
