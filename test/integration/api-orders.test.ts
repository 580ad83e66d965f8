/**
 * The order path end to end against a real API instance: placeOrder produces exactly one
 * acknowledged order.placed, idempotency keys, cancel/advance decisions and their events,
 * and the queries over the read models (set up directly, as the projector would leave them).
 */
import { CATALOG } from '../../src/catalog/catalog.fixture';
import { emptyAnalytics } from '../../src/domain/analytics';
import { CURRENCY } from '../../src/domain/catalog';
import { priceOrder } from '../../src/domain/pricing';
import { analyticsFieldsOf } from '../../src/mongo/models/analytics.model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/events/parse-event';
import { TOPICS } from '../../src/events/topics';
import { idempotencyModel } from '../../src/mongo/models/idempotency.model';
import { orderIdForKey, placedEventIdFor, requestHash } from '../../src/resolvers/order-id';
import {
  AdvanceOrderDocument,
  AnalyticsDocument,
  CancelOrderDocument,
  MyOrdersDocument,
  PlaceOrderDocument,
  RestaurantDocument,
  RestaurantsDocument,
  type MyOrdersQuery,
  type PlaceOrderInput,
} from '../generated/graphql';
import { gql, onlyError, readTopic, seedOrder, startApiWorld, tokenFor, type ApiWorld } from '../support/api-harness';
import { uniqueName } from '../support/services';

let world: ApiWorld;
const alice = uniqueName('alice');
const tokens = {} as Record<'alice' | 'bob' | 'napoli' | 'admin', string>;
const input = (change: Partial<PlaceOrderInput> = {}): PlaceOrderInput => ({
  restaurantId: 'pizzeria-napoli',
  items: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }],
  deliveryAddress: '  12 Via Roma, Napoli ',
  paymentToken: 'tok_visa',
  ...change,
});
const eventsOf = async (topic: (typeof TOPICS)[keyof typeof TOPICS], orderId: string) =>
  (await readTopic(world.kafka, world.config, topic)).map((m) => parseEvent(topic, m.value)).filter((e) => (e.data as { orderId?: string }).orderId === orderId);

beforeAll(async () => {
  world = await startApiWorld('api-orders');
  tokens.alice = await tokenFor({ sub: alice, role: 'CUSTOMER', email: 'alice@example.com' });
  tokens.bob = await tokenFor({ sub: uniqueName('bob'), role: 'CUSTOMER' });
  tokens.napoli = await tokenFor({ sub: 'staff-napoli', role: 'RESTAURANT', restaurantId: 'pizzeria-napoli' });
  tokens.admin = await tokenFor({ sub: 'admin', role: 'ADMIN' });
});

afterAll(async () => {
  await world?.stop();
});

describe('placeOrder', () => {
  it('prices from the catalog, returns PLACED once Kafka has exactly one order.placed', async () => {
    const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, tokens.alice);
    const order = answer.data?.placeOrder;
    expect(answer.errors).toBeUndefined();
    expect(order).toMatchObject({
      customerId: alice,
      restaurantId: 'pizzeria-napoli',
      status: 'PLACED',
      totalCents: 2 * 950 + 550,
      currency: 'EUR',
      deliveryAddress: '12 Via Roma, Napoli',
      items: [
        { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 950, lineTotalCents: 1900 },
        { menuItemId: 'tiramisu', quantity: 1, lineTotalCents: 550 },
      ],
      statusHistory: [{ status: 'PLACED', reason: null }],
    });
    // Read right after the answer: the event was acknowledged before it.
    const placed = await eventsOf(TOPICS.orderPlaced, order?.id ?? '');
    expect(placed).toHaveLength(1);
    expect(placed[0]?.data).toMatchObject({ customerId: alice, customerEmail: 'alice@example.com', totalCents: 2450, paymentToken: 'tok_visa', idempotencyKey: null });
  });

  it('with an idempotency key: a repeat returns the first order, and sends only that order\'s event again (same ids)', async () => {
    const key = uniqueName('key');
    const first = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key }) }, tokens.alice)).data?.placeOrder;
    const again = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key }) }, tokens.alice)).data?.placeOrder;
    expect(first?.id).toBe(orderIdForKey(alice, key));
    expect(again).toEqual(first);
    const sameEvent = (events: { id: string; data: unknown }[]) => new Set(events.map((e) => JSON.stringify([e.id, e.data]))).size;
    const copies = await eventsOf(TOPICS.orderPlaced, first?.id ?? '');
    expect(copies).toHaveLength(2);
    expect(sameEvent(copies)).toBe(1); // one fact, sent twice: consumers know it by its order id
    expect(copies[0]!.id).toBe(placedEventIdFor(first?.id ?? ''));
    // Once projected, a repeat shows the order as it is now.
    await seedOrder(world.orders, { _id: first?.id ?? '', customerId: alice, status: 'CONFIRMED' });
    const later = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key }) }, tokens.alice)).data?.placeOrder;
    expect(later).toMatchObject({ id: first?.id, status: 'CONFIRMED' });
    expect(sameEvent(await eventsOf(TOPICS.orderPlaced, first?.id ?? ''))).toBe(1);
  });

  it('takes the Idempotency-Key header as the key when the input names none, and refuses a different one in both', async () => {
    const key = uniqueName('header-key');
    const header = { 'idempotency-key': key };
    const first = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, tokens.alice, header)).data?.placeOrder;
    const again = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input() }, tokens.alice, header)).data?.placeOrder;
    expect(first?.id).toBe(orderIdForKey(alice, key));
    expect(again?.id).toBe(first?.id);
    const both = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: 'another' }) }, tokens.alice, header);
    expect(onlyError(both)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
  });

  it('answers UNAVAILABLE when Kafka does not acknowledge in time, saying how to retry; the retry with the key gets the order once', async () => {
    const hurried = await world.startAnotherInstance({}, { ...world.config, kafka: { ...world.config.kafka, publishTimeoutMs: 0 } });
    try {
      // A 0 ms cap is a 1 ms timer, which a local broker's answer can still beat now and then:
      // the first of a few attempts that it does not beat is the one examined.
      const timeOut = async (withKey: boolean) => {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const key = uniqueName('slow-key');
          const answer = await gql(hurried.graphqlUrl, PlaceOrderDocument, { input: input(withKey ? { idempotencyKey: key } : {}) }, tokens.alice);
          if (answer.errors) return { key, answer };
        }
        throw new Error('Kafka answered within 1 ms five times in a row');
      };
      const { key, answer: timedOut } = await timeOut(true);
      expect(onlyError(timedOut)).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/retry with the same idempotencyKey/) });
      const unkeyed = (await timeOut(false)).answer;
      expect(onlyError(unkeyed).message).toMatch(/send an idempotencyKey/);
      const retried = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key }) }, tokens.alice)).data?.placeOrder;
      expect(retried?.id).toBe(orderIdForKey(alice, key));
      const copies = await eventsOf(TOPICS.orderPlaced, retried?.id ?? '');
      expect(copies.length).toBeGreaterThanOrEqual(1); // the timed-out send may have landed too
      expect(new Set(copies.map((e) => JSON.stringify([e.id, e.data]))).size).toBe(1); // but as the same event
    } finally {
      await hurried.stop();
    }
  });

  it('the same key with a different request is a CONFLICT; another customer\'s same key is another order', async () => {
    const key = uniqueName('key');
    const first = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key }) }, tokens.alice)).data?.placeOrder;
    const changed = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key, items: [{ menuItemId: 'diavola', quantity: 1 }] }) }, tokens.alice);
    expect(onlyError(changed)).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already used for a different order/) });
    const bobs = (await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: input({ idempotencyKey: key }) }, tokens.bob)).data?.placeOrder;
    expect(bobs?.id).not.toBe(first?.id);
    expect(await eventsOf(TOPICS.orderPlaced, first?.id ?? '')).toHaveLength(1);
  });

  it('a claim left by a request that died before Kafka answered is produced again, with the same order and event id', async () => {
    const key = uniqueName('key');
    const orderId = orderIdForKey(alice, key);
    const request = input({ idempotencyKey: key });
    const placedAt = new Date(Date.now() - 60_000);
    const restaurant = CATALOG.find((r) => r.id === request.restaurantId)!;
    const lines = request.items.map((l) => ({ menuItemId: String(l.menuItemId), quantity: l.quantity }));
    const deliveryAddress = request.deliveryAddress.trim();
    const { items, totalCents } = priceOrder(restaurant, lines);
    await idempotencyModel(world.mongo).create({
      _id: orderId,
      customerId: alice,
      key,
      requestHash: requestHash({ restaurantId: restaurant.id, lines, deliveryAddress, paymentToken: request.paymentToken }),
      order: { restaurantId: restaurant.id, items: [...items], totalCents, currency: CURRENCY, deliveryAddress, placedAt, eventId: placedEventIdFor(orderId) },
      claimedAt: placedAt,
    });
    const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: request }, tokens.alice);
    expect(answer.data?.placeOrder).toMatchObject({ id: orderId, status: 'PLACED', createdAt: placedAt.toISOString() });
    const placed = await eventsOf(TOPICS.orderPlaced, orderId);
    expect(placed.map((e) => e.id)).toEqual([placedEventIdFor(orderId)]);
  });
});

describe('cancelOrder and advanceOrder', () => {
  const seeded = (status: 'PLACED' | 'CONFIRMED' | 'PREPARING', customerId = alice) => seedOrder(world.orders, { _id: uniqueName('order'), customerId, status });

  it('a customer cancels its PLACED order: order.cancelled and order.status-changed are produced', async () => {
    const order = await seeded('PLACED');
    const answer = await gql(world.api.graphqlUrl, CancelOrderDocument, { id: order._id, reason: 'changed my mind' }, tokens.alice);
    expect(answer.data?.cancelOrder).toMatchObject({ id: order._id, status: 'CANCELLED', statusHistory: [{ status: 'PLACED' }, { status: 'CANCELLED', reason: 'changed my mind' }] });
    expect((await eventsOf(TOPICS.orderCancelled, order._id)).map((e) => e.data)).toMatchObject([{ reason: 'changed my mind', cancelledBy: alice }]);
    expect((await eventsOf(TOPICS.orderStatusChanged, order._id)).map((e) => e.data)).toMatchObject([{ status: 'CANCELLED', previousStatus: 'PLACED' }]);
  });

  it('an admin cancels anyone\'s CONFIRMED order', async () => {
    const order = await seeded('CONFIRMED', uniqueName('someone'));
    expect((await gql(world.api.graphqlUrl, CancelOrderDocument, { id: order._id }, tokens.admin)).data?.cancelOrder.status).toBe('CANCELLED');
  });

  it('cancelling once the kitchen started is a CONFLICT naming the state and the transition; nothing produced', async () => {
    const order = await seeded('PREPARING');
    const answer = await gql(world.api.graphqlUrl, CancelOrderDocument, { id: order._id }, tokens.alice);
    expect(onlyError(answer)).toEqual({ code: 'CONFLICT', field: undefined, message: 'cannot cancel an order that is PREPARING' });
    expect(await eventsOf(TOPICS.orderStatusChanged, order._id)).toEqual([]);
  });

  it('its restaurant advances a CONFIRMED order to PREPARING', async () => {
    const order = await seeded('CONFIRMED');
    const answer = await gql(world.api.graphqlUrl, AdvanceOrderDocument, { id: order._id, status: 'PREPARING' }, tokens.napoli);
    expect(answer.data?.advanceOrder).toMatchObject({ status: 'PREPARING', statusHistory: [{ status: 'CONFIRMED' }, { status: 'PREPARING' }] });
    expect((await eventsOf(TOPICS.orderStatusChanged, order._id)).map((e) => e.data)).toMatchObject([{ status: 'PREPARING', previousStatus: 'CONFIRMED', customerId: alice }]);
  });

  it.each([
    ['PLACED', 'PREPARING', 'cannot advance to PREPARING an order that is PLACED'],
    ['CONFIRMED', 'DELIVERED', 'cannot advance to DELIVERED an order that is CONFIRMED'],
    ['CONFIRMED', 'CANCELLED', 'cannot advance to CANCELLED an order that is CONFIRMED'],
  ] as const)('advancing %s to %s is a CONFLICT: "%s"', async (from, to, message) => {
    const order = await seeded(from);
    // The authority's refusal names the transition that got the order where it is.
    const refusal = onlyError(await gql(world.api.graphqlUrl, AdvanceOrderDocument, { id: order._id, status: to }, tokens.admin));
    expect(refusal).toMatchObject({ code: 'CONFLICT' });
    expect(refusal.message).toMatch(new RegExp(`^${message}( \\(confirmed at .*\\))?$`));
    expect(await eventsOf(TOPICS.orderStatusChanged, order._id)).toEqual([]);
  });
});

describe('queries', () => {
  it('restaurants lists the seeded catalog, unavailable items included', async () => {
    const restaurants = (await gql(world.api.graphqlUrl, RestaurantsDocument, {}, tokens.bob)).data?.restaurants ?? [];
    expect(restaurants.map((r) => r.id)).toEqual(['green-bowl', 'pizzeria-napoli', 'sushi-sakura']);
    expect(restaurants.find((r) => r.id === 'pizzeria-napoli')?.menu).toContainEqual({ id: 'calzone', name: 'Calzone', priceCents: 1250, available: false });
    expect((await gql(world.api.graphqlUrl, RestaurantDocument, { id: 'nowhere' }, tokens.bob)).data).toEqual({ restaurant: null });
  });

  it('myOrders pages newest first with opaque cursors, ties broken by id', async () => {
    const carol = uniqueName('carol');
    const token = await tokenFor({ sub: carol, role: 'CUSTOMER' });
    const base = Date.now() - 3_600_000;
    const at = [0, 1000, 1000, 2000, 3000];
    const ids = await Promise.all(at.map(async (offset, i) => (await seedOrder(world.orders, { _id: `${carol}-${i}`, customerId: carol, status: 'PLACED', createdAt: new Date(base + offset) }))._id));
    const pages: string[][] = [];
    let after: string | null = null;
    for (;;) {
      const page: MyOrdersQuery['myOrders'] | undefined = (await gql(world.api.graphqlUrl, MyOrdersDocument, { first: 2, after }, token)).data?.myOrders;
      pages.push(page?.edges.map((e) => e.node.id) ?? []);
      if (!page?.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? null;
    }
    expect(pages).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);
  });

  it('analytics: zeros before the consumer wrote anything, then each caller\'s scope', async () => {
    expect((await gql(world.api.graphqlUrl, AnalyticsDocument, {}, tokens.admin)).data?.analytics).toMatchObject({ scope: 'global', ordersPlaced: 0, topItems: [] });
    // Stored exactly as the analytics consumer stores a folded state.
    const state = (scope: string, placed: number) => ({
      _id: scope,
      revision: 1,
      ...analyticsFieldsOf({
        ...emptyAnalytics(scope),
        ordersPlaced: placed,
        ordersConfirmed: 2,
        ordersDelivered: 1,
        revenueCents: 3000,
        items: { margherita: { name: 'Pizza Margherita', quantity: 5 }, tiramisu: { name: 'Tiramisù', quantity: 2 } },
        restaurants: { 'pizzeria-napoli': { ordersConfirmed: 2, revenueCents: 3000 } },
        updatedAt: new Date().toISOString(),
      }),
    });
    await world.mongo.collection('analytics').insertMany([state('global', 9), state('restaurant:pizzeria-napoli', 4)] as never[]);
    expect((await gql(world.api.graphqlUrl, AnalyticsDocument, { topItems: 1 }, tokens.admin)).data?.analytics).toMatchObject({
      scope: 'global',
      ordersPlaced: 9,
      averageOrderValueCents: 1500,
      topItems: [{ menuItemId: 'margherita', quantity: 5 }],
      byRestaurant: [{ restaurantId: 'pizzeria-napoli', revenueCents: 3000 }],
    });
    expect((await gql(world.api.graphqlUrl, AnalyticsDocument, {}, tokens.napoli)).data?.analytics).toMatchObject({ scope: 'restaurant:pizzeria-napoli', ordersPlaced: 4 });
  });
});
