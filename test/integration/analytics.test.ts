/**
 * The analytics consumer against the real broker and FerretDB: the figures end right,
 * duplicated facts and a full replay change nothing, and analytics.updated is published
 * (throttled) with the latest figures.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsConsumer } from '../../src/consumers/analytics.consumer';
import { toSnapshot, type AnalyticsSnapshot } from '../../src/domain/analytics';
import { orderPaymentFailed, paymentRefunded, type OrderPlaced } from '../../src/events/order-events';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { analyticsModel, analyticsStateOf, type AnalyticsModel } from '../../src/mongo/models/analytics.model';
import { cancelledEvent, confirmedEvent, placedEvent, statusChangedEvent } from '../support/order-fixtures';
import { startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, waitUntilDrained, type Tap } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('stats'), MONGO_URL: uniqueMongoUrl('stats') });
const log = testLogger('analytics-test');
const TOPICS = ['order.placed', 'order.confirmed', 'order.payment-failed', 'order.cancelled', 'order.status-changed', 'payment.refunded'];

let running: RunningConsumer;
let producer: EventProducer;
let tap: Tap;
let admin: Admin;
let connection: Connection;
let analytics: AnalyticsModel;

const publish = (...events: OutgoingEvent['event'][]) =>
  producer.publish(events.map((event) => ({ topic: event.type as OutgoingEvent['topic'], key: (event as unknown as OrderPlaced).data.orderId, event })));

const figures = async (scope: string) => toSnapshot(analyticsStateOf(scope, await analytics.findById(scope).lean()));
const updatesOf = (scope: string) => tap.of('analytics.updated').filter((m) => m.key === scope).map((m) => (m.value as { data: AnalyticsSnapshot }).data);

beforeAll(async () => {
  running = await startConsumer(createAnalyticsConsumer(), { config, log });
  producer = await connectEventProducer(createKafka(config, uniqueName('stats-test'), log), config);
  tap = await startTap(config, ['analytics.updated']);
  admin = testKafka().admin();
  await admin.connect();
  connection = await connectMongo(config, log);
  analytics = analyticsModel(connection);
});

afterAll(async () => {
  await running?.stop();
  await Promise.all([producer?.disconnect(), tap?.stop(), admin?.disconnect(), connection?.close()]);
});

describe('analytics consumer', () => {
  const trattoria = `trattoria-${randomUUID().slice(0, 8)}`;
  const sushi = `sushi-${randomUUID().slice(0, 8)}`;
  const delivered = placedEvent({ restaurantId: trattoria, totalCents: 2250 });
  const refunded = placedEvent({ restaurantId: trattoria, totalCents: 1000 });
  const declined = placedEvent({ restaurantId: sushi, totalCents: 500 });
  const deliveredConfirmation = confirmedEvent(delivered);
  const refundedConfirmation = confirmedEvent(refunded);

  it('ends with the right figures per scope, duplicates included, and publishes them', async () => {
    const r = refunded.data;
    await publish(
      delivered,
      deliveredConfirmation,
      statusChangedEvent(delivered, 'CONFIRMED', 'PLACED'), // not a counted fact
      statusChangedEvent(delivered, 'DELIVERED', 'OUT_FOR_DELIVERY'),
      declined,
      orderPaymentFailed({ orderId: declined.data.orderId, customerId: 'c', restaurantId: sushi, reason: 'card declined', failedAt: new Date().toISOString() }),
      refunded,
      refundedConfirmation,
      cancelledEvent(refunded),
      paymentRefunded({ orderId: r.orderId, restaurantId: trattoria, transactionId: 'tx', amountCents: 1000, refundedAt: new Date().toISOString() }),
      // The same facts again, at new offsets: a repeated confirmation, a second placement, a second cancel.
      deliveredConfirmation,
      delivered,
      cancelledEvent(refunded),
    );
    await waitUntilDrained(admin, config, running.groupId, TOPICS);

    expect(await figures(`restaurant:${trattoria}`)).toMatchObject({
      ordersPlaced: 2,
      ordersConfirmed: 2,
      ordersPaymentFailed: 0,
      ordersCancelled: 1,
      ordersDelivered: 1,
      revenueCents: 2250,
      averageOrderValueCents: 2250,
      topItems: [{ menuItemId: 'margherita', quantity: 4 }, { menuItemId: 'tiramisu', quantity: 2 }],
      byRestaurant: [{ restaurantId: trattoria, ordersConfirmed: 2, revenueCents: 2250 }],
    });
    expect(await figures(`restaurant:${sushi}`)).toMatchObject({ ordersPlaced: 1, ordersPaymentFailed: 1, ordersConfirmed: 0, revenueCents: 0 });
    expect(await figures('global')).toMatchObject({ ordersPlaced: 3, ordersConfirmed: 2, ordersPaymentFailed: 1, ordersCancelled: 1, ordersDelivered: 1, revenueCents: 2250 });

    for (const scope of ['global', `restaurant:${trattoria}`, `restaurant:${sushi}`]) {
      // The trailing edge of the throttle: the last update published carries the stored figures.
      const latest = JSON.stringify(await figures(scope));
      await waitFor(() => JSON.stringify(updatesOf(scope).at(-1)) === latest, 10_000, `the latest analytics.updated of ${scope}`);
    }
  });

  it('changes nothing when a new group replays every event from the beginning', async () => {
    const before = await analytics.find().sort({ _id: 1 }).lean();
    const replay = await startConsumer(createAnalyticsConsumer(), { config, log, groupId: 'analytics-replay' });
    try {
      await waitUntilDrained(admin, config, replay.groupId, TOPICS);
    } finally {
      await replay.stop();
    }
    expect(await analytics.find().sort({ _id: 1 }).lean()).toEqual(before); // same figures, same revisions
  });

  it('throttles analytics.updated per scope and always ends on the latest figures', async () => {
    const busy = `busy-${randomUUID().slice(0, 8)}`;
    await publish(...Array.from({ length: 20 }, () => placedEvent({ restaurantId: busy })));
    await waitUntilDrained(admin, config, running.groupId, ['order.placed']);
    await waitFor(() => updatesOf(`restaurant:${busy}`).at(-1)?.ordersPlaced === 20, 10_000, 'the trailing update');
    expect(updatesOf(`restaurant:${busy}`).length).toBeLessThan(20);
  });
});
