/**
 * End to end as a mobile app: one real API and all four consumer modules in this process, on
 * the real broker and FerretDB (own namespace, own database), and a real SMTP server. Every
 * claim is made through the public API (HTTP for queries and mutations, graphql-ws for
 * subscriptions), except the refund's Mongo record and Kafka event, which are not in the API.
 */
import { isDeepStrictEqual } from 'node:util';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Client } from 'graphql-ws';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsConsumer } from '../../src/consumers/analytics.consumer';
import { createConfirmationsConsumer } from '../../src/consumers/confirmations.consumer';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import { createTransactionsConsumer } from '../../src/consumers/transactions.consumer';
import { parseEvent } from '../../src/events/parse-event';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { transactionModel } from '../../src/mongo/models/transaction.model';
import * as ops from '../generated/graphql';
import type { AnalyticsQuery, OrderStatus, PlaceOrderInput } from '../generated/graphql';
import { gql, readTopic, startApiWorld, subscribe, tokenFor, wsClient, type ApiWorld, type SubscriptionProbe } from '../support/api-harness';
import { expectedFigures, type ExpectedFigures as Figures, type TrackedOrder as Tracked } from '../support/expected-analytics';
import { startMailbox, type Mailbox } from '../support/mailbox';
import { testLogger, uniqueName, waitFor, waitUntilDrained } from '../support/services';

let world: ApiWorld;
let mailbox: Mailbox;
let admin: Admin;
let consumers: Record<'transactions' | 'confirmations' | 'analytics' | 'projector', RunningConsumer>;
const clients: Client[] = [];
const tracked: Tracked[] = [];
const customer = { id: uniqueName('customer'), email: 'ada.lovelace@example.com' };
const tokens = {} as Record<'customer' | 'sakura' | 'admin', string>;
let confirmations: SubscriptionProbe<ops.OrderConfirmedSubscription>;
let adminAnalytics: SubscriptionProbe<ops.AnalyticsUpdatedSubscription>;
let sakuraAnalytics: SubscriptionProbe<ops.AnalyticsUpdatedSubscription>;

/** Subscribes on a client of its own and resolves once its connection is acknowledged (the subscribe follows at once). */
async function live<T, V>(token: string, document: TypedDocumentNode<T, V>, variables: V): Promise<SubscriptionProbe<T>> {
  const client = wsClient(world.api.websocketUrl, token);
  clients.push(client);
  const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  const probe = subscribe(client, document, variables);
  await connected;
  return probe;
}
const call = <T, V>(document: TypedDocumentNode<T, V>, variables: V, token = tokens.customer) => gql(world.api.graphqlUrl, document, variables, token);

async function placeOrder(input: PlaceOrderInput): Promise<Tracked> {
  const answer = await call(ops.PlaceOrderDocument, { input });
  expect(answer.errors).toBeUndefined();
  const order = answer.data!.placeOrder;
  expect(order).toMatchObject({ status: 'PLACED', customerId: customer.id, restaurantId: input.restaurantId });
  const t: Tracked = { id: order.id, restaurantId: order.restaurantId, totalCents: order.totalCents, items: order.items, outcome: 'placed' };
  tracked.push(t);
  return t;
}
const orderOf = async (id: string) => (await call(ops.OrderDocument, { id })).data?.order;
const untilStatus = (id: string, status: OrderStatus, timeoutMs = 20_000) =>
  waitFor(async () => {
    const order = await orderOf(id);
    return order?.status === status && order;
  }, timeoutMs, `order ${id} to be ${status}`);
const statusStream = (orderId: string) => live(tokens.customer, ops.OrderStatusChangedDocument, { orderId });
const statusesOf = (probe: SubscriptionProbe<ops.OrderStatusChangedSubscription>) => probe.results.map((r) => r.data?.orderStatusChanged.status);
const untilLast = (probe: SubscriptionProbe<ops.OrderStatusChangedSubscription>, status: OrderStatus) =>
  waitFor(() => {
    if (probe.errors.length > 0) throw new Error(`the status stream failed: ${JSON.stringify(probe.errors)}`);
    return statusesOf(probe).at(-1) === status;
  }, 20_000, `${status} on the status stream`);
const confirmationOf = (orderId: string) => confirmations.results.map((r) => r.data?.orderConfirmed).filter((c) => c?.orderId === orderId);
const transactionOf = (orderId: string) => transactionModel(world.mongo).findById(orderId).lean();

beforeAll(async () => {
  mailbox = await startMailbox();
  world = await startApiWorld('e2e-mobile', {}, { SMTP_URL: mailbox.url });
  const options = { config: world.config, log: testLogger('e2e-mobile-consumers') };
  const [transactions, mailer, analytics, projector] = await Promise.all([
    startConsumer(createTransactionsConsumer(), options),
    startConsumer(createConfirmationsConsumer(), options),
    startConsumer(createAnalyticsConsumer(), options),
    startConsumer(createOrdersProjector(), options),
  ]);
  consumers = { transactions, confirmations: mailer, analytics, projector };
  await Promise.all(Object.values(consumers).map((c) => c.joined));
  admin = world.kafka.admin();
  await admin.connect();
  tokens.customer = await tokenFor({ sub: customer.id, role: 'CUSTOMER', email: customer.email });
  tokens.sakura = await tokenFor({ sub: 'staff-sakura', role: 'RESTAURANT', restaurantId: 'sushi-sakura' });
  tokens.admin = await tokenFor({ sub: 'admin', role: 'ADMIN' });
  adminAnalytics = await live(tokens.admin, ops.AnalyticsUpdatedDocument, { topItems: 50 });
  sakuraAnalytics = await live(tokens.sakura, ops.AnalyticsUpdatedDocument, { topItems: 50 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await Promise.all(Object.values(consumers ?? {}).map((c) => c.stop()));
  await admin?.disconnect();
  await world?.stop();
  await mailbox?.stop();
});

describe('a customer orders and pays (tok_visa)', () => {
  let order: Tracked;
  let stream: SubscriptionProbe<ops.OrderStatusChangedSubscription>;

  beforeAll(async () => {
    confirmations = await live(tokens.customer, ops.OrderConfirmedDocument, {});
    order = await placeOrder({ restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 1 }], deliveryAddress: '12 Analytical Way', paymentToken: 'tok_visa' });
    stream = await statusStream(order.id);
    order.outcome = 'confirmed';
  });

  it('placeOrder answered PLACED with the catalog total', () => {
    expect(order.totalCents).toBe(2 * 950 + 550);
  });

  it('orderStatusChanged(orderId) sends the current status first, then CONFIRMED, once each', async () => {
    await untilLast(stream, 'CONFIRMED');
    expect([['PLACED', 'CONFIRMED'], ['CONFIRMED']]).toContainEqual(statusesOf(stream));
    const history = (await untilStatus(order.id, 'CONFIRMED')).statusHistory;
    const first = stream.results[0]!.data!.orderStatusChanged;
    expect(history.find((h) => h.status === first.status)?.at).toBe(first.at); // the current status, as stored
  });

  it('orderConfirmed arrives with the total and the transaction id of the payment', async () => {
    const [confirmation] = await waitFor(() => confirmationOf(order.id).length > 0 && confirmationOf(order.id), 20_000, 'orderConfirmed');
    const transaction = await transactionOf(order.id);
    expect(transaction?.status).toBe('captured');
    expect(confirmation).toMatchObject({ customerId: customer.id, restaurantId: 'pizzeria-napoli', totalCents: 2450, transactionId: transaction?.transactionId });
  });

  it('the order query shows CONFIRMED with history PLACED → CONFIRMED', async () => {
    const shown = await untilStatus(order.id, 'CONFIRMED');
    expect(shown.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CONFIRMED']);
  });

  it('the confirmation email reached the SMTP server exactly once, as text and HTML', async () => {
    await waitFor(() => mailbox.confirmationsOf(order.id).length > 0, 20_000, 'the confirmation email');
    await waitUntilDrained(admin, world.config, consumers.confirmations.groupId, ['order.confirmed']);
    const mails = mailbox.confirmationsOf(order.id);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toMatchObject({ text: customer.email });
    expect(mails[0]!.subject).toBe(`Your order ${order.id} is confirmed`);
    expect(mails[0]!.text).toContain('2 × Pizza Margherita');
    expect(mails[0]!.text).toContain('€24.50');
    expect(mails[0]!.html).toContain('<td>1 × Tiramisù</td>');
    expect(mails[0]!.html).toContain('€24.50');
  });
});

describe('a slow payment (tok_slow)', () => {
  it('still confirms, about 2 s after placing; the stream shows PLACED then CONFIRMED', async () => {
    const order = await placeOrder({ restaurantId: 'green-bowl', items: [{ menuItemId: 'falafel-bowl', quantity: 1 }, { menuItemId: 'quinoa-salad', quantity: 3 }], deliveryAddress: '3 Slow Lane', paymentToken: 'tok_slow' });
    const stream = await statusStream(order.id);
    order.outcome = 'confirmed';
    await untilLast(stream, 'CONFIRMED');
    expect(statusesOf(stream)).toEqual(['PLACED', 'CONFIRMED']);
    const shown = await untilStatus(order.id, 'CONFIRMED');
    const [placedAt, confirmedAt] = shown.statusHistory.map((h) => Date.parse(h.at));
    expect(confirmedAt! - placedAt!).toBeGreaterThanOrEqual(2000);
    await waitFor(() => confirmationOf(order.id).length === 1, 20_000, 'orderConfirmed of the slow order');
  });
});

describe('a declined card (tok_declined)', () => {
  it('ends in PAYMENT_FAILED on the status stream and in the order query', async () => {
    const order = await placeOrder({ restaurantId: 'sushi-sakura', items: [{ menuItemId: 'california-roll', quantity: 1 }, { menuItemId: 'miso-soup', quantity: 2 }], deliveryAddress: '9 Decline Road', paymentToken: 'tok_declined' });
    order.outcome = 'payment-failed';
    const stream = await statusStream(order.id);
    await untilLast(stream, 'PAYMENT_FAILED');
    expect([['PLACED', 'PAYMENT_FAILED'], ['PAYMENT_FAILED']]).toContainEqual(statusesOf(stream));
    const shown = await untilStatus(order.id, 'PAYMENT_FAILED');
    expect(shown.statusHistory.map((h) => [h.status, h.reason])).toEqual([['PLACED', null], ['PAYMENT_FAILED', 'card declined']]);
    expect(confirmationOf(order.id)).toEqual([]); // and still none at the end (see analytics)
  });
});

describe('cancelling a confirmed order', () => {
  let order: Tracked;
  beforeAll(async () => {
    order = await placeOrder({ restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'diavola', quantity: 1 }], deliveryAddress: '4 Regret Street', paymentToken: 'tok_mastercard' });
    order.outcome = 'confirmed';
    await untilStatus(order.id, 'CONFIRMED');
  });

  it('cancelOrder answers CANCELLED and the order query follows', async () => {
    const answer = await call(ops.CancelOrderDocument, { id: order.id, reason: 'changed my mind' });
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.cancelOrder.status).toBe('CANCELLED');
    order.outcome = 'cancelled-refunded';
    const shown = await untilStatus(order.id, 'CANCELLED');
    expect(shown.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CONFIRMED', 'CANCELLED']);
  });

  it('refunds the payment: the transaction is refunded and exactly one payment.refunded exists', async () => {
    await waitFor(async () => (await transactionOf(order.id))?.status === 'refunded', 20_000, 'the refund');
    await waitUntilDrained(admin, world.config, consumers.transactions.groupId, ['order.placed', 'order.cancelled']);
    const refunds = (await readTopic(world.kafka, world.config, 'payment.refunded')).map((m) => parseEvent('payment.refunded', m.value));
    expect(refunds.filter((e) => e.data.orderId === order.id).map((e) => e.data.amountCents)).toEqual([1150]);
  });
});

describe('the restaurant delivers a confirmed order', () => {
  const steps = ['PREPARING', 'OUT_FOR_DELIVERY', 'DELIVERED'] as const;
  let order: Tracked;
  let stream: SubscriptionProbe<ops.OrderStatusChangedSubscription>;

  it('its RESTAURANT token advances it PREPARING → OUT_FOR_DELIVERY → DELIVERED', async () => {
    order = await placeOrder({ restaurantId: 'sushi-sakura', items: [{ menuItemId: 'salmon-nigiri', quantity: 3 }], deliveryAddress: '5 Hungry Avenue', paymentToken: 'tok_visa' });
    order.outcome = 'confirmed';
    await untilStatus(order.id, 'CONFIRMED');
    stream = await statusStream(order.id);
    await stream.waitFor(1); // the current status: the stream is live
    for (const status of steps) {
      const answer = await call(ops.AdvanceOrderDocument, { id: order.id, status }, tokens.sakura);
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.advanceOrder.status).toBe(status);
      await untilStatus(order.id, status); // the next step is decided on the read model
    }
    order.outcome = 'delivered';
  });

  it("the customer's stream got every step in order, no gap, no duplicate", async () => {
    await untilLast(stream, 'DELIVERED');
    expect(statusesOf(stream)).toEqual(['CONFIRMED', ...steps]);
  });

  it('the order query shows DELIVERED with the whole history', async () => {
    const shown = await untilStatus(order.id, 'DELIVERED');
    expect(shown.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CONFIRMED', ...steps]);
  });
});

describe('analytics', () => {
  const figuresOf = (answer: AnalyticsQuery['analytics'] | undefined) => answer && (({ updatedAt: _, ...rest }) => rest)(answer);
  const analyticsAs = async (token: string) => (await call(ops.AnalyticsDocument, { topItems: 50 }, token)).data?.analytics;
  const settled = async (token: string, expected: Figures) =>
    waitFor(async () => {
      const answer = await analyticsAs(token);
      return isDeepStrictEqual(figuresOf(answer), expected) && answer;
    }, 20_000, `analytics of ${expected.scope}`).catch(async (error: Error) => {
      expect(figuresOf(await analyticsAs(token))).toEqual(expected); // shows the difference
      throw error;
    });
  const snapshotLike = (a: AnalyticsQuery['analytics']) => ({
    scope: a.scope,
    ordersPlaced: a.ordersPlaced,
    ordersConfirmed: a.ordersConfirmed,
    revenueCents: a.revenueCents,
    topItems: a.topItems.map(({ menuItemId, quantity }) => ({ menuItemId, quantity })),
    updatedAt: a.updatedAt,
  });
  const received = (probe: SubscriptionProbe<ops.AnalyticsUpdatedSubscription>) => probe.results.map((r) => r.data?.analyticsUpdated);

  it('as ADMIN: exactly the figures of every order above', async () => {
    expect(tracked.map((o) => o.outcome).sort()).toEqual(['cancelled-refunded', 'confirmed', 'confirmed', 'delivered', 'payment-failed']);
    await settled(tokens.admin, expectedFigures('global', tracked));
  });

  it('analyticsUpdated (ADMIN) delivered a snapshot equal to those figures', async () => {
    const answer = await settled(tokens.admin, expectedFigures('global', tracked));
    await waitFor(() => received(adminAnalytics).some((s) => isDeepStrictEqual(s, snapshotLike(answer))), 20_000, 'the latest snapshot');
    expect(received(adminAnalytics).every((s) => s?.scope === 'global')).toBe(true);
  });

  it("a RESTAURANT token sees its own restaurant's figures only, in the query and the subscription", async () => {
    const own = tracked.filter((o) => o.restaurantId === 'sushi-sakura');
    const answer = await settled(tokens.sakura, expectedFigures('restaurant:sushi-sakura', own));
    expect(answer.byRestaurant.map((r) => r.restaurantId)).toEqual(['sushi-sakura']);
    await waitFor(() => received(sakuraAnalytics).some((s) => isDeepStrictEqual(s, snapshotLike(answer))), 20_000, 'the restaurant snapshot');
    expect(received(sakuraAnalytics).every((s) => s?.scope === 'restaurant:sushi-sakura')).toBe(true);
  });

  it('orderConfirmed reached the customer once for each paid order and never for the declined one', () => {
    const paid = tracked.filter((o) => o.outcome !== 'payment-failed').map((o) => o.id);
    expect(confirmations.results.map((r) => r.data?.orderConfirmed.orderId).sort()).toEqual(paid.sort());
  });
});
