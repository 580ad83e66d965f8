/**
 * Every refusal of bad input, over HTTP against a real API instance: the right code, the
 * field at fault, and nothing produced to Kafka (the namespace's order.placed stays empty).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/events/topics';
import { AnalyticsDocument, CancelOrderDocument, MyOrdersDocument, PlaceOrderDocument, type PlaceOrderInput } from '../generated/graphql';
import { gql, onlyError, seedOrder, startApiWorld, tokenFor, topicMessageCount, readTopic, type ApiWorld } from '../support/api-harness';
import { uniqueName } from '../support/services';

let world: ApiWorld;
let customer: string;
const customerId = uniqueName('customer');

const goodOrder = (): PlaceOrderInput => ({
  restaurantId: 'pizzeria-napoli',
  items: [{ menuItemId: 'margherita', quantity: 2 }],
  deliveryAddress: '12 Via Roma, Napoli',
  paymentToken: 'tok_visa',
});

beforeAll(async () => {
  world = await startApiWorld('api-input');
  customer = await tokenFor({ sub: customerId, role: 'CUSTOMER' });
});

afterAll(async () => {
  await world?.stop();
});

describe('placeOrder refuses bad input, naming the field, and produces nothing', () => {
  const lines = (count: number) => Array.from({ length: count }, () => ({ menuItemId: 'margherita', quantity: 1 }));
  it.each<[string, Partial<PlaceOrderInput>, string, RegExp]>([
    ['quantity 0', { items: [{ menuItemId: 'margherita', quantity: 0 }] }, 'items[0].quantity', /1 to 50/],
    ['quantity 51', { items: [{ menuItemId: 'diavola', quantity: 1 }, { menuItemId: 'margherita', quantity: 51 }] }, 'items[1].quantity', /1 to 50/],
    ['no lines', { items: [] }, 'items', /1 to 50 lines/],
    ['51 lines', { items: lines(51) }, 'items', /1 to 50 lines/],
    ['an empty address', { deliveryAddress: '   ' }, 'deliveryAddress', /1 to 500/],
    ['a 501-character address', { deliveryAddress: 'a'.repeat(501) }, 'deliveryAddress', /1 to 500/],
    ['an unknown restaurant', { restaurantId: 'no-such-restaurant' }, 'restaurantId', /no restaurant "no-such-restaurant"/],
    ['an unknown item', { items: [{ menuItemId: 'sushi', quantity: 1 }] }, 'items[0].menuItemId', /not on the menu/],
    ['an unavailable item', { items: [{ menuItemId: 'calzone', quantity: 1 }] }, 'items[0].menuItemId', /not available/],
    ['an empty payment token', { paymentToken: '' }, 'paymentToken', /1 to 200/],
    ['a 201-character payment token', { paymentToken: 't'.repeat(201) }, 'paymentToken', /1 to 200/],
    ['an empty idempotency key', { idempotencyKey: '' }, 'idempotencyKey', /1 to 200/],
    ['a 201-character idempotency key', { idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey', /1 to 200/],
  ])('%s', async (_name, change, field, message) => {
    const before = await topicMessageCount(world.kafka, world.config, TOPICS.orderPlaced);
    const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: { ...goodOrder(), ...change } }, customer);
    expect(answer.data).toBeNull();
    expect(onlyError(answer)).toMatchObject({ code: 'BAD_USER_INPUT', field, message: expect.stringMatching(message) });
    expect(await topicMessageCount(world.kafka, world.config, TOPICS.orderPlaced)).toBe(before);
  });

  it('a quantity that is not an Int is refused by GraphQL itself', async () => {
    const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input: { ...goodOrder(), items: [{ menuItemId: 'margherita', quantity: 1.5 }] } }, customer);
    expect(answer.status).toBe(400);
    expect(onlyError(answer).code).toBe('BAD_USER_INPUT');
  });
});

describe('other arguments are checked too', () => {
  it('cancelOrder refuses a reason over 500 characters, before looking at the order', async () => {
    const order = await seedOrder(world.orders, { _id: uniqueName('order'), customerId, status: 'PLACED' });
    const answer = await gql(world.api.graphqlUrl, CancelOrderDocument, { id: order._id, reason: 'r'.repeat(501) }, customer);
    expect(onlyError(answer)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
  });

  it.each([0, 101, -1])('myOrders refuses first=%i', async (first) => {
    expect(onlyError(await gql(world.api.graphqlUrl, MyOrdersDocument, { first }, customer))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('myOrders refuses a cursor it did not issue', async () => {
    expect(onlyError(await gql(world.api.graphqlUrl, MyOrdersDocument, { after: 'made-up' }, customer))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('analytics refuses topItems(limit: 51)', async () => {
    const admin = await tokenFor({ sub: 'admin-1', role: 'ADMIN' });
    expect(onlyError(await gql(world.api.graphqlUrl, AnalyticsDocument, { topItems: 51 }, admin))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
  });
});

describe('after all of that', () => {
  it('order.placed of this namespace, read from the beginning, is empty', async () => {
    expect(await readTopic(world.kafka, world.config, TOPICS.orderPlaced)).toEqual([]);
  });
});
