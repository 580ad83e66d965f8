/**
 * The store's own ceiling for a backlog drain: the writes the five consumer modules make for N
 * orders, issued straight through the driver in bulk, with the same chunking (inserts of 500,
 * updates of 20 per command, src/mongo/bulk.ts) and the same concurrency (one stream per
 * consumer process), against the same store. What the drain costs beyond this is ours.
 *
 * Per order (as the consumers write today; keep in step with src/consumers/):
 *   transactions      claims (payment), payment_gateway_ledger, transactions: 3 inserts
 *   order authority   order_transitions (PLACED → CONFIRMED): 1 insert
 *   confirmations     claims (email), notifications: 2 inserts
 *   analytics         analytics_facts (placed, confirmed): 2 inserts; one scope update per round
 *   orders projector  orders: 1 insert, then 1 conditional update (PLACED → CONFIRMED)
 * = 9 inserts and 1 update per order, and no reads (the rounds decide on guesses).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { mongo } from 'mongoose';

type Db = mongo.Db;
type Document = mongo.Document;

export const WRITES_PER_ORDER = { inserts: 9, updates: 1 } as const;

const INSERT_CHUNK = 500;
const UPDATE_CHUNK = 20;

export interface CeilingOrder {
  readonly orderId: string;
  readonly customerId: string;
  readonly restaurantId: string;
  readonly customerEmail: string | null;
  readonly items: readonly object[];
  readonly totalCents: number;
}

export interface StoreCeiling {
  readonly orders: number;
  readonly seconds: number;
  readonly ordersPerSecond: number;
  /** Each stream's seconds, by the consumer whose writes it repeats. */
  readonly streams: Record<string, number>;
}

async function insertAll(db: Db, collection: string, docs: readonly Document[]): Promise<void> {
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) await db.collection(collection).insertMany(docs.slice(i, i + INSERT_CHUNK), { ordered: false });
}

/** Runs the writes of `orders` into `db` (which should be empty) and times them. */
export async function measureStoreCeiling(db: Db, orders: readonly CeilingOrder[], round = 500): Promise<StoreCeiling> {
  const now = () => new Date();
  const claim = (effect: string, o: CeilingOrder, intent: string) => ({
    _id: `${effect}:${o.orderId}`,
    effect,
    subjectId: o.orderId,
    intent,
    claimToken: randomUUID(),
    claimedBy: 'ceiling-1234-abcdef01',
    claimedAt: now(),
    attempts: 1,
    failedReason: null,
  });
  const rounds = <T>(items: readonly T[]) => Array.from({ length: Math.ceil(items.length / round) }, (_, i) => items.slice(i * round, (i + 1) * round));
  const timed = async (work: () => Promise<void>) => {
    const t = performance.now();
    await work();
    return (performance.now() - t) / 1000;
  };

  const streams = {
    transactions: () =>
      timed(async () => {
        for (const r of rounds(orders)) {
          await insertAll(db, 'claims', r.map((o) => claim('payment', o, 'charge')));
          await insertAll(db, 'payment_gateway_ledger', r.map((o) => ({ _id: `charge:${o.orderId}`, kind: 'charge', idempotencyKey: o.orderId, status: 'captured', reference: `ch_${randomUUID()}`, reason: null, amountCents: o.totalCents, chargeReference: null, requests: 1, createdAt: now() })));
          await insertAll(db, 'transactions', r.map((o) => ({ _id: o.orderId, transactionId: randomUUID(), status: 'captured', customerId: o.customerId, restaurantId: o.restaurantId, amountCents: o.totalCents, currency: 'EUR', claimedBy: 'ceiling-1234-abcdef01', chargeReference: `ch_${randomUUID()}`, declineReason: null, settledAt: now(), refundReference: null, refundedAt: null, voidedAt: null, createdAt: now(), updatedAt: now() })));
        }
      }),
    'order-authority': () =>
      timed(async () => {
        for (const r of rounds(orders)) {
          await insertAll(db, 'order_transitions', r.map((o) => ({ _id: `${o.orderId}:PLACED`, orderId: o.orderId, from: 'PLACED', to: 'CONFIRMED', action: 'confirm', requestId: randomUUID(), requestedBy: 'payments', reason: null, at: now() })));
        }
      }),
    confirmations: () =>
      timed(async () => {
        for (const r of rounds(orders)) {
          await insertAll(db, 'claims', r.map((o) => claim('email', o, 'send')));
          await insertAll(db, 'notifications', r.map((o) => ({ _id: `${o.orderId}:email`, orderId: o.orderId, channel: 'email', recipient: o.customerEmail, status: 'sent', claimedBy: 'ceiling-1234-abcdef01', attempts: 1, messageId: `<order-${o.orderId}@ceiling>`, delivery: 'smtp', sentAt: now(), reason: null, createdAt: now(), updatedAt: now() })));
        }
      }),
    analytics: () =>
      timed(async () => {
        let revision = 0;
        for (const kind of ['placed', 'confirmed']) {
          for (const r of rounds(orders)) {
            await insertAll(db, 'analytics_facts', r.map((o, i) => ({ _id: `${kind}:${o.orderId}`, topic: `order.${kind}`, partition: i % 6, offset: i, eventId: randomUUID() })));
            await db.collection('analytics').updateOne({ _id: 'global' as never, revision }, { $set: { ordersConfirmed: revision, revision: revision + 1 } }, { upsert: true });
            revision += 1;
          }
        }
      }),
    'orders-projector': () =>
      timed(async () => {
        for (const r of rounds(orders)) {
          const at = now();
          await insertAll(db, 'orders', r.map((o) => ({ _id: o.orderId, customerId: o.customerId, restaurantId: o.restaurantId, items: o.items, totalCents: o.totalCents, currency: 'EUR', deliveryAddress: '1 Backlog Street', status: 'PLACED', statusHistory: [{ status: 'PLACED', at, reason: null }], detailsKnown: true, createdAt: at, updatedAt: at })));
        }
        for (const r of rounds(orders)) {
          const at = now();
          const updates = r.map((o) => ({ updateOne: { filter: { _id: o.orderId as never, status: 'PLACED' }, update: { $set: { status: 'CONFIRMED' }, $push: { statusHistory: { status: 'CONFIRMED', at, reason: null } }, $max: { updatedAt: at } } } }));
          for (let i = 0; i < updates.length; i += UPDATE_CHUNK) await db.collection('orders').bulkWrite(updates.slice(i, i + UPDATE_CHUNK) as never, { ordered: false });
        }
      }),
  };
  const t0 = performance.now();
  const names = Object.keys(streams) as (keyof typeof streams)[];
  const took = await Promise.all(names.map((name) => streams[name]()));
  const total = (performance.now() - t0) / 1000;
  return {
    orders: orders.length,
    seconds: Math.round(total * 100) / 100,
    ordersPerSecond: Math.round((orders.length / total) * 10) / 10,
    streams: Object.fromEntries(names.map((name, i) => [name, Math.round(took[i]! * 100) / 100])),
  };
}
