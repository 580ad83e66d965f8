/**
 * Traces across Kafka hops (issue 9): one order's trace, from the placeOrder request through
 * every consumer module to its orderStatusChanged delivery, with the context carried in Kafka
 * message headers. The API and all five consumer modules run in this process against the real
 * Kafka and FerretDB, recording into an in-memory exporter; the app sends a `traceparent`, so
 * the order's trace id is known. A hop that dropped the header (or sent an event outside the
 * span of the message it was emitted for) would start a new trace there and fail the chain.
 */
import { trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsConsumer } from '../../src/consumers/analytics.consumer';
import { createConfirmationsConsumer } from '../../src/consumers/confirmations.consumer';
import { createOrdersProjector } from '../../src/consumers/orders-projector.consumer';
import { createTransactionsConsumer } from '../../src/consumers/transactions.consumer';
import { GLOBAL_SCOPE } from '../../src/domain/analytics';
import { physicalGroupId } from '../../src/events/topics';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { formatTraceParent } from '../../src/tracing/kafka-headers';
import { MESSAGING } from '../../src/tracing/messaging-spans';
import { installTracing, type Tracing } from '../../src/tracing/tracing';
import {
  AnalyticsUpdatedDocument,
  OrderStatusChangedDocument,
  PlaceOrderDocument,
  type AnalyticsUpdatedSubscription,
  type OrderStatusChangedSubscription,
} from '../generated/graphql';
import { gql, startApiWorld, subscribe, tokenFor, untilLive, wsClient, type ApiWorld, type SubscriptionProbe } from '../support/api-harness';
import { analyticsEvent, statusEvent } from '../support/order-events.fixture';
import { testLogger, uniqueName, waitFor } from '../support/services';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let world: ApiWorld;
const consumers: RunningConsumer[] = [];
const clients: Client[] = [];
const alice = uniqueName('alice');
let statusProbe: SubscriptionProbe<OrderStatusChangedSubscription>;
let analyticsProbe: SubscriptionProbe<AnalyticsUpdatedSubscription>;

/** The app's own span: the request carries it as `traceparent`, so the order's trace is this one. */
const appSpan: SpanContext = { traceId: uniqueName('').replace(/\W/g, '').padEnd(32, '7').slice(0, 32), spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

beforeAll(async () => {
  // Before anything starts: the API builds its request tracing at start, only while tracing is on.
  tracing = installTracing({ serviceName: 'tracing-test', exporter, batch: false });
  world = await startApiWorld('tracing'); // the API and the order authority
  const options = { config: world.config, log: testLogger('tracing-test') };
  consumers.push(
    await startConsumer(createTransactionsConsumer(), options),
    await startConsumer(createOrdersProjector(), options),
    await startConsumer(createConfirmationsConsumer(), options),
    await startConsumer(createAnalyticsConsumer({ publishIntervalMs: 50 }), options),
  );
  await Promise.all(consumers.map((c) => c.joined));

  const customer = wsClient(world.api.websocketUrl, await tokenFor({ sub: alice, role: 'CUSTOMER', email: 'alice@example.com' }));
  const admin = wsClient(world.api.websocketUrl, await tokenFor({ sub: uniqueName('admin'), role: 'ADMIN' }));
  clients.push(customer, admin);
  statusProbe = subscribe(customer, OrderStatusChangedDocument, { orderId: null });
  analyticsProbe = subscribe(admin, AnalyticsUpdatedDocument, { topItems: 3 });
  const sentinel = { orderId: uniqueName('sentinel'), customerId: alice };
  await untilLive([statusProbe, analyticsProbe], () => world.events.publish([statusEvent(sentinel, 'CONFIRMED', 'PLACED'), analyticsEvent(GLOBAL_SCOPE, 0)]));
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await Promise.all(consumers.map((c) => c.stop()));
  await world?.stop();
  await tracing?.shutdown();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const group = (name: string) => physicalGroupId(world.config, name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe('one order, one trace', () => {
  it('runs from the placeOrder request through every consumer module to its orderStatusChanged delivery; snapshots link to it', async () => {
    const input = { restaurantId: 'pizzeria-napoli', items: [{ menuItemId: 'margherita', quantity: 2 }], deliveryAddress: '1 Via Roma', paymentToken: 'tok_visa' };
    const answer = await gql(world.api.graphqlUrl, PlaceOrderDocument, { input }, await tokenFor({ sub: alice, role: 'CUSTOMER', email: 'alice@example.com' }), {
      traceparent: formatTraceParent(appSpan),
    });
    const orderId = answer.data?.placeOrder.id as string;
    expect(orderId, JSON.stringify(answer.errors)).toBeTruthy();

    // The order's spans, as the processes would export them (each found once it has ended).
    const ofOrder = (s: ReadableSpan) => s.attributes[MESSAGING.key] === orderId;
    const sent = (topic: string) => waitFor(() => spans().find((s) => s.name === `send ${topic}` && ofOrder(s)), 30_000, `send ${topic}`);
    const handled = (topic: string, module: string) =>
      waitFor(() => spans().find((s) => s.name === `handle ${topic}` && ofOrder(s) && s.attributes[MESSAGING.consumerGroup] === group(module)), 30_000, `${module} handling ${topic}`);
    const deliveredAfter = (send: ReadableSpan) => waitFor(() => spans().find((s) => s.name.startsWith('deliver ') && parentOf(s) === idOf(send)), 30_000, `delivery of ${send.name}`);

    await statusProbe.waitFor(2); // the sentinel, then this order's CONFIRMED
    expect(statusProbe.results[1]?.data?.orderStatusChanged).toMatchObject({ orderId, status: 'CONFIRMED' });

    const request = await waitFor(() => spans().find((s) => s.name === 'mutation placeOrder'), 30_000, 'the request span');
    const placed = await sent('order.placed');
    const charged = await handled('order.placed', 'transactions');
    const requested = await sent('order.transition-requested');
    const decided = await handled('order.transition-requested', 'order-authority');
    const statusChanged = await sent('order.status-changed');
    const confirmed = await sent('order.confirmed');
    const projected = await handled('order.status-changed', 'orders-projector');
    const projectedPlaced = await handled('order.placed', 'orders-projector');
    const mailed = await handled('order.confirmed', 'confirmations');
    const notified = await sent('notification.sent');
    const countedPlaced = await handled('order.placed', 'analytics');
    const countedConfirmed = await handled('order.confirmed', 'analytics');
    const statusDelivery = await deliveredAfter(statusChanged);
    const confirmedDelivery = await deliveredAfter(confirmed);

    // Parent by parent: request → send → handle → send → ... → delivery.
    const chain: [ReadableSpan, string | undefined][] = [
      [request, appSpan.spanId],
      [placed, idOf(request)],
      [charged, idOf(placed)],
      [requested, idOf(charged)],
      [decided, idOf(requested)],
      [statusChanged, idOf(decided)],
      [confirmed, idOf(decided)],
      [projected, idOf(statusChanged)],
      [projectedPlaced, idOf(placed)],
      [mailed, idOf(confirmed)],
      [notified, idOf(mailed)],
      [countedPlaced, idOf(placed)],
      [countedConfirmed, idOf(confirmed)],
      [statusDelivery, idOf(statusChanged)],
      [confirmedDelivery, idOf(confirmed)],
    ];
    for (const [span, parent] of chain) expect(`${span.name} under ${parent}`).toBe(`${span.name} under ${parentOf(span)}`);
    expect(statusDelivery.name).toBe('deliver order.status-changed');
    expect(request.attributes['graphql.root_field']).toBe('placeOrder');

    // One trace: every span of the order, the app's included.
    const orderSpans = [...spans().filter(ofOrder), ...chain.map(([span]) => span)];
    expect(new Set(orderSpans.map((s) => s.spanContext().traceId))).toEqual(new Set([appSpan.traceId]));

    // Each message's span links to its round's span: a root of its own, of that module, counting the round.
    for (const handle of orderSpans.filter((s) => s.name.startsWith('handle '))) {
      expect(handle.links, handle.name).toHaveLength(1);
      const round = spans().find((s) => idOf(s) === handle.links[0]!.context.spanId);
      expect(round?.name, handle.name).toBe(handle.name.replace('handle', 'process'));
      expect(round?.parentSpanContext).toBeUndefined();
      expect(round?.spanContext().traceId).not.toBe(appSpan.traceId);
      expect(round?.attributes[MESSAGING.consumerGroup]).toBe(handle.attributes[MESSAGING.consumerGroup]);
      expect(round?.attributes[MESSAGING.batchCount]).toBeGreaterThanOrEqual(1);
    }

    // analyticsUpdated aggregates many orders: its delivery links to what this order added, and is no child of the order's trace.
    const counted = new Set([idOf(countedPlaced), idOf(countedConfirmed)]);
    const snapshotDelivery = await waitFor(
      () => spans().find((s) => s.name === 'deliver analytics.updated' && s.links.some((l) => counted.has(l.context.spanId))),
      30_000,
      'a snapshot delivery linked to the order',
    );
    expect(snapshotDelivery.spanContext().traceId).not.toBe(appSpan.traceId);
    expect(snapshotDelivery.parentSpanContext?.traceId).not.toBe(appSpan.traceId);
    expect(snapshotDelivery.links.find((l) => counted.has(l.context.spanId))?.context.traceId).toBe(appSpan.traceId);
    // Its parent is the snapshot's own send, a root linked to the same events.
    const snapshotSend = spans().find((s) => idOf(s) === parentOf(snapshotDelivery));
    expect(snapshotSend?.name).toBe('send analytics.updated');
    expect(snapshotSend?.parentSpanContext).toBeUndefined();
    expect(snapshotSend?.links.some((l) => counted.has(l.context.spanId))).toBe(true);
    expect(analyticsProbe.results.length).toBeGreaterThan(1);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
