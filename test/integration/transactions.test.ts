/**
 * The transactions consumer against the real broker and FerretDB: a payment is captured at
 * most once per order whatever the redelivery, cancels refund once or void, and two instances
 * in one group split the partitions without charging anything twice.
 */
import { AssignerProtocol, type Admin } from 'kafkajs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransactionsConsumer } from '../../src/consumers/transactions.consumer';
import type { OrderPlaced, OrderTransitionRequested } from '../../src/events/order-events';
import type { TopicName } from '../../src/events/topics';
import { createKafka } from '../../src/kafka/client';
import { startConsumer, type RunningConsumer } from '../../src/kafka/consumer-runner';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from '../../src/kafka/event-producer';
import { connectMongo } from '../../src/mongo/connection';
import { claimModel } from '../../src/mongo/models/claim.model';
import { transactionModel, type TransactionModel } from '../../src/mongo/models/transaction.model';
import { gatewayLedgerModel, type GatewayLedgerModel } from '../../src/payments/gateway-ledger.model';
import { simulatedPaymentGateway } from '../../src/payments/simulated-gateway';
import { cancelledEvent, placedEvent } from '../support/order-fixtures';
import { startTap, testConfig, testKafka, testLogger, uniqueMongoUrl, uniqueName, waitFor, waitUntilDrained, type Tap } from '../support/services';

const config = testConfig({ KAFKA_NAMESPACE: uniqueName('tx'), MONGO_URL: uniqueMongoUrl('tx') });
const log = testLogger('transactions-test');
const module = createTransactionsConsumer();

let first: RunningConsumer;
let second: RunningConsumer | undefined;
let producer: EventProducer;
let admin: Admin;
let tap: Tap;
let connection: Connection;
let transactions: TransactionModel;
let ledger: GatewayLedgerModel;

const publish = (...events: (OrderPlaced | ReturnType<typeof cancelledEvent>)[]) =>
  producer.publish(events.map((event): OutgoingEvent => ({ topic: event.type, key: event.data.orderId, event })));

const eventsFor = (topic: TopicName, orderId: string) =>
  tap.of(topic).filter((m) => (m.value as { data: { orderId: string } }).data.orderId === orderId);

/** What transactions asks the order authority on a payment's outcome: `confirm` or `fail-payment`. */
const requestsFor = (orderId: string, action: 'confirm' | 'fail-payment') =>
  eventsFor('order.transition-requested', orderId).filter((m) => (m.value as OrderTransitionRequested).data.action === action);
const confirmRequestsFor = (orderId: string) => requestsFor(orderId, 'confirm');

/** A charge claim an instance left behind (it crashed or went silent after claiming). */
const leftChargeClaim = (orderId: string, claimedBy: string, claimedAt: Date) =>
  claimModel(connection).create({ _id: `payment:${orderId}`, effect: 'payment', subjectId: orderId, intent: 'charge', claimToken: `token-of-${claimedBy}`, claimedBy, claimedAt });

beforeAll(async () => {
  first = await startConsumer(module, { config, log });
  producer = await connectEventProducer(createKafka(config, uniqueName('tx-test'), log), config);
  admin = testKafka().admin();
  await admin.connect();
  tap = await startTap(config, ['order.transition-requested', 'payment.refunded']);
  connection = await connectMongo(config, log);
  transactions = transactionModel(connection);
  ledger = gatewayLedgerModel(connection);
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await Promise.all([producer?.disconnect(), admin?.disconnect(), tap?.stop()]);
  await connection?.close();
});

describe('transactions consumer, the same message handled twice at once (as in a rebalance)', () => {
  it('lets only the claimant charge; the other waits for the outcome and repeats it', async () => {
    // A second group sees every message the first one sees: each order.placed is handled by
    // two instances concurrently, the race a rebalance or a zombie instance creates. It runs
    // first in this file, so the rival has no earlier messages to read through.
    const rival = await startConsumer(module, {
      config,
      log,
      groupId: 'transactions-rival',
      retry: { initialDelayMs: 100, maxDelayMs: 500 },
    });
    try {
      await rival.joined;
      const orders = Array.from({ length: 2 }, () => placedEvent({ paymentToken: 'tok_slow' }));
      await publish(...orders);
      const ids = orders.map((o) => o.data.orderId);
      await waitFor(() => ids.every((id) => confirmRequestsFor(id).length === 2), 30_000, 'both groups to confirm');
      for (const id of ids) expect(new Set(confirmRequestsFor(id).map((m) => (m.value as { id: string }).id)).size).toBe(1);
      const charges = await ledger.find({ idempotencyKey: { $in: ids } }).lean();
      expect(charges.map((c) => [c.status, c.requests])).toEqual([['captured', 1], ['captured', 1]]);
    } finally {
      await rival.stop();
    }
  });
});

describe('transactions consumer', () => {
  it('captures a tok_visa order once and asks the order authority to confirm it', async () => {
    const placed = placedEvent({ paymentToken: 'tok_visa' });
    await publish(placed);
    const [request] = await waitFor(() => confirmRequestsFor(placed.data.orderId).length === 1 && confirmRequestsFor(placed.data.orderId));
    const transaction = await transactions.findById(placed.data.orderId).lean();
    expect(transaction).toMatchObject({ status: 'captured', amountCents: 2250, currency: 'EUR' });
    const asked = (request!.value as OrderTransitionRequested).data;
    expect(asked).toMatchObject({ to: 'CONFIRMED', requestedBy: 'payments' });
    expect(asked.confirmation).toMatchObject({ transactionId: transaction!.transactionId, totalCents: 2250, items: placed.data.items });
    expect(await ledger.find({ idempotencyKey: placed.data.orderId }).lean()).toMatchObject([{ kind: 'charge', status: 'captured', requests: 1 }]);
  });

  it('asks the order authority to fail an order whose card was declined, with the reason', async () => {
    const placed = placedEvent({ paymentToken: 'tok_declined' });
    await publish(placed);
    const [failed] = await waitFor(() => requestsFor(placed.data.orderId, 'fail-payment').length > 0 && requestsFor(placed.data.orderId, 'fail-payment'));
    expect(failed!.value).toMatchObject({ data: { to: 'PAYMENT_FAILED', reason: 'card declined', confirmation: null } });
    expect(await transactions.findById(placed.data.orderId).lean()).toMatchObject({ status: 'declined' });
    expect(confirmRequestsFor(placed.data.orderId)).toHaveLength(0);
  });

  it('charges nothing more when the same order.placed is delivered again, and repeats the same outcome', async () => {
    const placed = placedEvent({ paymentToken: 'tok_mastercard' });
    await publish(placed);
    await waitFor(() => confirmRequestsFor(placed.data.orderId).length === 1);
    await publish(placed, placed);
    const confirmations = await waitFor(() => confirmRequestsFor(placed.data.orderId).length === 3 && confirmRequestsFor(placed.data.orderId));
    expect(new Set(confirmations.map((m) => (m.value as OrderTransitionRequested).id)).size).toBe(1); // one request, three copies
    expect(await ledger.find({ idempotencyKey: placed.data.orderId }).lean()).toMatchObject([{ kind: 'charge', requests: 1 }]);
    expect(await transactions.countDocuments({ _id: placed.data.orderId })).toBe(1);
  });

  it('refunds a captured payment once when the order is cancelled (twice)', async () => {
    const placed = placedEvent({ paymentToken: 'tok_visa', totalCents: 1234 });
    await publish(placed);
    await waitFor(() => confirmRequestsFor(placed.data.orderId).length === 1);
    await publish(cancelledEvent(placed), cancelledEvent(placed));
    const refunds = await waitFor(() => eventsFor('payment.refunded', placed.data.orderId).length === 2 && eventsFor('payment.refunded', placed.data.orderId));
    expect(refunds[0]!.value).toMatchObject({ data: { amountCents: 1234, restaurantId: 'trattoria' } });
    expect(new Set(refunds.map((m) => (m.value as { id: string }).id)).size).toBe(1);
    expect(await transactions.findById(placed.data.orderId).lean()).toMatchObject({ status: 'refunded' });
    expect(await ledger.find({ idempotencyKey: placed.data.orderId, kind: 'refund' }).lean()).toMatchObject([{ status: 'refunded', requests: 1, amountCents: 1234 }]);
  });

  it('takes over a charge claimed by an instance that crashed before charging, and charges once', async () => {
    const placed = placedEvent({ paymentToken: 'tok_visa' });
    const p = placed.data;
    const crashedAt = new Date(Date.now() - 5 * 60_000); // long past the claim lease
    await leftChargeClaim(p.orderId, 'transactions-crashed', crashedAt);
    await publish(placed); // the redelivery
    await waitFor(() => confirmRequestsFor(p.orderId).length === 1, 20_000, 'the confirmation');
    expect(await transactions.findById(p.orderId).lean()).toMatchObject({ status: 'captured', claimedBy: first.instanceId });
    expect(await claimModel(connection).findById(`payment:${p.orderId}`).lean()).toMatchObject({ claimedBy: first.instanceId, attempts: 2 });
    expect(await ledger.find({ idempotencyKey: p.orderId }).lean()).toMatchObject([{ status: 'captured', requests: 1 }]);
  });

  it('voids an order cancelled before its order.placed was handled: it is never charged', async () => {
    const placed = placedEvent({ paymentToken: 'tok_visa' });
    await publish(cancelledEvent(placed));
    await waitFor(async () => (await transactions.findById(placed.data.orderId).lean())?.status === 'voided', 20_000, 'the void');
    await publish(placed);
    await waitUntilDrained(admin, config, first.groupId, ['order.placed']);
    expect(await ledger.countDocuments({ idempotencyKey: placed.data.orderId })).toBe(0);
    expect(confirmRequestsFor(placed.data.orderId)).toHaveLength(0);
    expect(await transactions.findById(placed.data.orderId).lean()).toMatchObject({ status: 'voided' });
  });

  it('cancelling an order whose charger went silent past its lease closes the key: voided if never charged, and a late charge is declined', async () => {
    const placed = placedEvent({ paymentToken: 'tok_visa' });
    const p = placed.data;
    await leftChargeClaim(p.orderId, 'transactions-silent', new Date(Date.now() - 5 * 60_000));
    await publish(cancelledEvent(placed));
    await waitFor(async () => (await transactions.findById(p.orderId).lean())?.status === 'voided', 20_000, 'the void');
    // The silent charger wakes up and charges under the order's key: the gateway declines it.
    const late = await simulatedPaymentGateway(connection).then((g) => g.charge({ idempotencyKey: p.orderId, paymentToken: 'tok_visa', amountCents: p.totalCents, currency: 'EUR' }));
    expect(late).toMatchObject({ status: 'declined', reason: 'cancelled before payment' });
    expect(eventsFor('payment.refunded', p.orderId)).toHaveLength(0);
  });

  it('cancelling an order charged by a charger that went silent before recording it refunds the charge once', async () => {
    const placed = placedEvent({ paymentToken: 'tok_visa', totalCents: 4321 });
    const p = placed.data;
    const gateway = await simulatedPaymentGateway(connection);
    await gateway.charge({ idempotencyKey: p.orderId, paymentToken: 'tok_visa', amountCents: p.totalCents, currency: 'EUR' }); // charged, then silence
    await leftChargeClaim(p.orderId, 'transactions-silent', new Date(Date.now() - 5 * 60_000));
    await publish(cancelledEvent(placed));
    const [refund] = await waitFor(() => eventsFor('payment.refunded', p.orderId).length > 0 && eventsFor('payment.refunded', p.orderId), 20_000, 'the refund');
    expect(refund!.value).toMatchObject({ data: { amountCents: 4321 } });
    expect(await transactions.findById(p.orderId).lean()).toMatchObject({ status: 'refunded', amountCents: 4321 });
    expect(await ledger.find({ idempotencyKey: p.orderId, kind: 'refund' }).lean()).toMatchObject([{ status: 'refunded', amountCents: 4321 }]);
  });

  it('splits partitions between two instances of one group and charges each of 30 orders exactly once', async () => {
    second = await startConsumer(module, { config, log });
    const assignments = await waitFor(async () => {
      const { groups } = await admin.describeGroups([first.groupId]);
      const group = groups[0]!;
      if (group.state !== 'Stable' || group.members.length !== 2) return undefined;
      const partitions = group.members.map((m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)!.assignment);
      return partitions.every((a) => Object.keys(a).length > 0) && partitions;
    }, 30_000, 'two members with assignments');
    const [a, b] = assignments.map((assignment) => Object.entries(assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`)));
    expect(a!.filter((tp) => b!.includes(tp))).toEqual([]);
    expect(a!.length + b!.length).toBe(2 * config.kafka.topicPartitions); // both topics, every partition

    const orders = Array.from({ length: 30 }, (_, i) => placedEvent({ paymentToken: i === 0 ? 'tok_slow' : 'tok_visa' }));
    await publish(...orders, ...orders); // every order delivered twice
    const ids = orders.map((o) => o.data.orderId);
    await waitFor(() => ids.every((id) => confirmRequestsFor(id).length >= 2), 40_000, '60 confirmations');

    const charges = await ledger.find({ idempotencyKey: { $in: ids } }).lean();
    expect(charges).toHaveLength(30);
    expect(charges.every((c) => c.status === 'captured' && c.requests === 1)).toBe(true);
    const settled = await transactions.find({ _id: { $in: ids } }).lean();
    expect(settled.filter((t) => t.status === 'captured')).toHaveLength(30);
    expect(new Set(settled.map((t) => t.claimedBy))).toEqual(new Set([first.instanceId, second.instanceId]));
  });
});

describe('simulated payment gateway', () => {
  it('answers concurrent charges with one idempotency key with one capture', async () => {
    const gateway = await simulatedPaymentGateway(connection);
    const request = { idempotencyKey: uniqueName('ord'), paymentToken: 'tok_slow', amountCents: 500, currency: 'EUR' };
    const started = Date.now();
    const [one, two] = await Promise.all([gateway.charge(request), gateway.charge(request)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900); // tok_slow really waits
    expect(one).toEqual(two);
    expect(await ledger.find({ idempotencyKey: request.idempotencyKey }).lean()).toMatchObject([{ status: 'captured', requests: 2 }]);
    await expect(gateway.refund({ idempotencyKey: request.idempotencyKey, chargeReference: 'ch_unknown', amountCents: 1 })).rejects.toThrow(/no captured charge/);
  });
});
