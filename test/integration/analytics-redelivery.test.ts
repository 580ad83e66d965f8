/**
 * Analytics after a crash between its two writes: a run claimed the facts of a round (the
 * fact ledger) and died before writing the figures (the store went away, or SIGTERM). The
 * next run is delivered the same messages again, finds the first fact's claim already taken
 * (its own, at the same position) and must still count it: deciding it again after the later
 * facts of the partition were folded would find their offsets applied and drop it. Drill 4
 * (store outage) lost three placements this way.
 */
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsConsumer } from '../../src/consumers/analytics.consumer';
import { toSnapshot } from '../../src/domain/analytics';
import { ensureTopics } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { analyticsFactModel, analyticsModel, analyticsStateOf } from '../../src/mongo/models/analytics.model';
import { placedEvent } from '../support/order-fixtures';
import { removeTestNamespace, startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitUntilDrained, type Tap } from '../support/services';

const namespace = uniqueName('stats-redo');
const mongoUrl = uniqueMongoUrl('stats-redo');
const config = testConfig({ KAFKA_NAMESPACE: namespace, MONGO_URL: mongoUrl });
const log = testLogger('analytics-redelivery-test');
const PLACEMENTS = 30;

let running: RunningConsumer | undefined;
let producer: EventProducer;
let tap: Tap;
let admin: Admin;
let connection: Connection;

beforeAll(async () => {
  admin = testKafka().admin();
  await admin.connect();
  await ensureTopics(admin, config, log);
  producer = await connectEventProducer(createKafka(config, uniqueName('stats-redo'), log), config);
  tap = await startTap(config, ['order.placed']);
  connection = await connectMongo(config, log);
});

afterAll(async () => {
  await running?.stop();
  await Promise.all([producer?.disconnect(), tap?.stop(), admin?.disconnect(), connection?.close()]);
  await removeTestNamespace(namespace, mongoUrl);
});

describe('analytics redelivered after claiming facts but before writing figures', () => {
  it('counts every placement of the round, the one whose claim it already held included', async () => {
    const placements = Array.from({ length: PLACEMENTS }, () => placedEvent({ restaurantId: 'trattoria' }));
    // Keyed by order as in production, so a partition's messages form one round.
    await producer.publish(placements.map((event) => ({ topic: 'order.placed' as const, key: event.data.orderId, event })));
    const delivered = await tap.waitFor('order.placed', PLACEMENTS);
    // The first message of a partition that holds several: the facts after it are folded in the same round.
    const busiest = Math.max(...delivered.map((m) => delivered.filter((n) => n.partition === m.partition).length));
    expect(busiest).toBeGreaterThan(1);
    const first = delivered.filter((m) => delivered.filter((n) => n.partition === m.partition).length === busiest).sort((a, b) => Number(a.offset) - Number(b.offset))[0]!;
    const claimed = first.value as { id: string; data: { orderId: string } };
    // What the crashed run left behind: that fact claimed at its own position, no figures.
    await analyticsFactModel(connection).collection.insertOne({
      _id: `placed:${claimed.data.orderId}` as never,
      topic: 'order.placed',
      partition: first.partition,
      offset: Number(first.offset),
      eventId: claimed.id,
    });

    running = await startConsumer(createAnalyticsConsumer({ publishIntervalMs: 10 }), { config, log });
    await waitUntilDrained(admin, config, running.groupId, ['order.placed']);

    const figures = toSnapshot(analyticsStateOf('global', await analyticsModel(connection).findById('global').lean()));
    expect(figures.ordersPlaced).toBe(PLACEMENTS);
  });
});
