/**
 * The orders projector against the real broker and FerretDB: the read model ends the same
 * whatever the order events arrive in, ignores duplicates and illegal transitions, and a full
 * replay changes nothing.
 */
import type { Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import type { OrderPlaced, OrderStatusChanged } from '../../src/events/order-events';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { orderModel, type OrderModel } from '../../src/mongo/models/order.model';
import { placedEvent, statusChangedEvent } from '../support/order-fixtures';
import { testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, waitUntilDrained } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('orders'), MONGO_URL: uniqueMongoUrl('orders') });
const log = testLogger('projector-test');
const TOPICS = ['order.placed', 'order.status-changed'];

let running: RunningConsumer;
let producer: EventProducer;
let admin: Admin;
let connection: Connection;
let orders: OrderModel;

const publish = (...events: (OrderPlaced | OrderStatusChanged)[]) =>
  producer.publish(events.map((event) => ({ topic: event.type, key: event.data.orderId, event })));
const settled = () => waitUntilDrained(admin, config, running.groupId, TOPICS);
const stored = async (orderId: string) => {
  const { _id, createdAt, updatedAt, statusHistory, ...rest } = (await orders.findById(orderId).lean())!;
  return { ...rest, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString(), statusHistory: statusHistory.map((h) => ({ ...h, at: h.at.toISOString() })) };
};

const t = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 12, 0, seconds));

/** An order's events with fixed times, so two orders can be compared field by field. */
function lifeOf(customerId: string) {
  const placed = placedEvent({ customerId, placedAt: t(0).toISOString() });
  return {
    placed,
    confirmed: statusChangedEvent(placed, 'CONFIRMED', 'PLACED', t(5)),
    preparing: statusChangedEvent(placed, 'PREPARING', 'CONFIRMED', t(10)),
  };
}

beforeAll(async () => {
  running = await startConsumer(createOrdersProjector(), { config, log });
  producer = await connectEventProducer(createKafka(config, uniqueName('orders-test'), log), config);
  admin = testKafka().admin();
  await admin.connect();
  connection = await connectMongo(config, log);
  orders = orderModel(connection);
});

afterAll(async () => {
  await running?.stop();
  await Promise.all([producer?.disconnect(), admin?.disconnect(), connection?.close()]);
});

describe('orders projector', () => {
  it('projects an order through its life, ignoring a duplicate and a late change', async () => {
    const { placed, confirmed, preparing } = lifeOf('cust-life');
    await publish(placed, confirmed, confirmed, preparing, statusChangedEvent(placed, 'OUT_FOR_DELIVERY', 'PREPARING', t(20)), confirmed);
    await publish(statusChangedEvent(placed, 'DELIVERED', 'OUT_FOR_DELIVERY', t(30)), statusChangedEvent(placed, 'CANCELLED', 'CONFIRMED', t(40)));
    await settled();
    const order = await stored(placed.data.orderId);
    expect(order).toMatchObject({ status: 'DELIVERED', detailsKnown: true, totalCents: 2250, deliveryAddress: placed.data.deliveryAddress, createdAt: t(0).toISOString(), updatedAt: t(30).toISOString() });
    expect(order.statusHistory.map((h) => [h.status, h.at])).toEqual([
      ['PLACED', t(0).toISOString()],
      ['CONFIRMED', t(5).toISOString()],
      ['PREPARING', t(10).toISOString()],
      ['OUT_FOR_DELIVERY', t(20).toISOString()],
      ['DELIVERED', t(30).toISOString()],
    ]);
  });

  it('ends the same when status changes arrive before order.placed', async () => {
    const inOrder = lifeOf('cust-same');
    const reversed = lifeOf('cust-same');
    await publish(inOrder.placed, inOrder.confirmed, inOrder.preparing);
    await publish(reversed.confirmed, reversed.preparing);
    await waitFor(async () => (await orders.findById(reversed.placed.data.orderId).lean())?.status === 'PREPARING', 20_000, 'the early changes');
    expect(await orders.findById(reversed.placed.data.orderId).lean()).toMatchObject({ detailsKnown: false, items: [] });
    await publish(reversed.placed, reversed.placed);
    await settled();
    const expected = await stored(inOrder.placed.data.orderId);
    expect({ ...(await stored(reversed.placed.data.orderId)) }).toEqual(expected);
    expect(expected.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CONFIRMED', 'PREPARING']);
  });

  it('keeps a cancelled order cancelled when a late confirmation arrives', async () => {
    const placed = placedEvent({ placedAt: t(0).toISOString() });
    await publish(placed, statusChangedEvent(placed, 'CANCELLED', 'PLACED', t(1)), statusChangedEvent(placed, 'CONFIRMED', 'PLACED', t(2)));
    await settled();
    const order = await stored(placed.data.orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CANCELLED']);
  });

  it('changes nothing when a new group replays every event from the beginning', async () => {
    const before = await orders.find().sort({ _id: 1 }).lean();
    const replay = await startConsumer(createOrdersProjector(), { config, log, groupId: 'orders-projector-replay' });
    try {
      await waitUntilDrained(admin, config, replay.groupId, TOPICS);
    } finally {
      await replay.stop();
    }
    expect(await orders.find().sort({ _id: 1 }).lean()).toEqual(before);
  });
});
