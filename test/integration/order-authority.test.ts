/**
 * Reliability finding 2: one authority per order. A cancel racing an advance (on two API
 * instances), or racing the payment itself, is decided in one place: exactly one of them wins,
 * the loser is told CONFLICT naming the winner, and money moves only for an accepted cancel.
 * Real Kafka, real Mongo, the real transactions consumer, authority and projector.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderAuthority } from '../../src/consumers/order-authority.consumer';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import { createTransactionsConsumer } from '../../src/consumers/transactions.consumer';
import { parseEvent } from '../../src/events/parse-event';
import { TOPICS } from '../../src/events/topics';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { createLogger } from '../../src/logger';
import type { ApiServer } from '../../src/http/api-server';
import { AdvanceOrderDocument, CancelOrderDocument, PlaceOrderDocument } from '../generated/graphql';
import { gql, readTopic, startApiWorld, tokenFor, type ApiWorld } from '../support/api-harness';
import { uniqueName } from '../support/services';

const RACES = 12;
let world: ApiWorld;
let second: ApiServer;
const consumers: RunningConsumer[] = [];
const alice = uniqueName('alice');
const tokens = {} as Record<'alice' | 'napoli', string>;

beforeAll(async () => {
  world = await startApiWorld('order-authority');
  second = await world.startAnotherInstance();
  const log = createLogger('order-authority-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // A second authority instance beside the world's: the group splits the partitions, the key keeps an order on one.
  const options = { config: world.config, log };
  consumers.push(await startConsumer(createTransactionsConsumer(), options), await startConsumer(createOrdersProjector(), options), await startConsumer(createOrderAuthority(), options));
  tokens.alice = await tokenFor({ sub: alice, role: 'CUSTOMER', email: 'alice@example.com' });
  tokens.napoli = await tokenFor({ sub: 'staff-napoli', role: 'RESTAURANT', restaurantId: 'pizzeria-napoli' });
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await world?.stop();
});

async function place(paymentToken: string): Promise<string> {
  const input = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 1 }], deliveryAddress: '1 Via Roma', paymentToken };
  const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input }, tokens.alice);
  if (!answer.data) throw new Error(JSON.stringify(answer.errors));
  return answer.data.placeOrder.id;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const statusOf = async (ids: readonly string[]) => new Map((await world.orders.find({ _id: { $in: ids } }).lean()).map((o) => [o._id, o.status]));

async function eventsFor<T extends typeof TOPICS.paymentRefunded | typeof TOPICS.orderConfirmed | typeof TOPICS.orderCancelled>(topic: T, ids: readonly string[]) {
  const wanted = new Set(ids);
  return (await readTopic(world.kafka, world.config, topic)).map((m) => parseEvent(topic, m.value)).filter((e) => wanted.has(e.data.orderId));
}

describe('one authority per order', () => {
  it(`a cancel and an advance sent at the same moment to two API instances: one wins, the other is a CONFLICT, and only accepted cancels are refunded (${RACES} orders)`, async () => {
    const ids = await Promise.all(Array.from({ length: RACES }, () => place('tok_visa')));
    await until(async () => [...(await statusOf(ids)).values()].filter((s) => s === 'CONFIRMED').length === RACES, 'every order CONFIRMED');

    const answers = await Promise.all(
      ids.map(async (id) => {
        const [cancel, advance] = await Promise.all([
          gql(world.api.graphqlUrl, CancelOrderDocument, { id, reason: 'changed my mind' }, tokens.alice),
          gql(second.graphqlUrl, AdvanceOrderDocument, { id, status: 'PREPARING' }, tokens.napoli),
        ]);
        return { id, cancelled: cancel.data?.cancelOrder.status === 'CANCELLED', advanced: advance.data?.advanceOrder.status === 'PREPARING', errors: [...(cancel.errors ?? []), ...(advance.errors ?? [])] };
      }),
    );
    for (const a of answers) {
      expect(Number(a.cancelled) + Number(a.advanced), `order ${a.id}: exactly one of the two wins`).toBe(1);
      expect(a.errors.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
      expect(a.errors[0]!.message).toMatch(a.cancelled ? /^cannot advance to PREPARING an order that is CANCELLED \(cancelled by / : /^cannot cancel an order that is PREPARING \(advanced to PREPARING by staff-napoli/);
    }
    const cancelledIds = answers.filter((a) => a.cancelled).map((a) => a.id).sort();
    await until(async () => [...(await statusOf(ids)).values()].every((s) => s === 'CANCELLED' || s === 'PREPARING'), 'the read model to follow');
    const finalStatus = await statusOf(ids);
    for (const a of answers) expect(finalStatus.get(a.id)).toBe(a.cancelled ? 'CANCELLED' : 'PREPARING');

    await until(async () => (await eventsFor(TOPICS.paymentRefunded, ids)).length >= cancelledIds.length, 'the refunds');
    await new Promise((r) => setTimeout(r, 1500)); // a wrong refund would come right behind the right ones
    expect((await eventsFor(TOPICS.paymentRefunded, ids)).map((e) => e.data.orderId).sort()).toEqual(cancelledIds);
    expect((await eventsFor(TOPICS.orderCancelled, ids)).map((e) => e.data.orderId).sort()).toEqual(cancelledIds);
  });

  it('a cancel that wins over a payment still in flight: the order is never confirmed, the capture is refunded once', async () => {
    const id = await place('tok_slow'); // the simulated gateway takes about 2 s to capture it
    await until(async () => (await statusOf([id])).has(id), 'the order in the read model');
    const cancel = await gql(world.api.graphqlUrl, CancelOrderDocument, { id, reason: 'too slow' }, tokens.alice);
    expect(cancel.data?.cancelOrder).toMatchObject({ status: 'CANCELLED' });

    await until(async () => (await eventsFor(TOPICS.paymentRefunded, [id])).length === 1, 'the refund of the late capture');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await eventsFor(TOPICS.orderConfirmed, [id])).toEqual([]);
    expect(await eventsFor(TOPICS.paymentRefunded, [id])).toHaveLength(1);
    expect((await statusOf([id])).get(id)).toBe('CANCELLED');
  });

  it('a retried cancel (same request) is answered as decided, not refused', async () => {
    const id = await place('tok_visa');
    await until(async () => (await statusOf([id])).get(id) === 'CONFIRMED', 'CONFIRMED');
    const first = await gql(world.api.graphqlUrl, CancelOrderDocument, { id }, tokens.alice);
    const again = await gql(second.graphqlUrl, CancelOrderDocument, { id }, tokens.alice);
    expect(first.data?.cancelOrder.status).toBe('CANCELLED');
    expect(again.errors).toBeUndefined();
    expect(again.data?.cancelOrder.status).toBe('CANCELLED');
    // Answered again as decided, its facts re-sent as the same events (consumers count an event id once).
    expect(new Set((await eventsFor(TOPICS.orderCancelled, [id])).map((e) => e.id)).size).toBe(1);
  });
});
