import { describe, expect, it } from 'vitest';
import { emptyAnalytics } from '../domain/analytics';
import { orderConfirmed, orderStatusChanged, paymentRefunded, type OrderConfirmed } from '../events/order-events';
import type { ConsumedEvent } from '../kafka/consumer-module';
import type { AnalyticsFactDocument } from '../mongo/models/analytics.model';
import { decideAnalytics, factOf, foldRound, type AnalyticsEffects, type AnalyticsRound } from './analytics.consumer';

const confirmed: OrderConfirmed = orderConfirmed(
  {
    orderId: 'ord-1',
    customerId: 'cust-1',
    customerEmail: null,
    restaurantId: 'trattoria',
    items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 850, lineTotalCents: 1700 }],
    totalCents: 1700,
    currency: 'EUR',
    transactionId: 'tx-1',
    confirmedAt: '2030-01-01T12:00:00.000Z',
  },
  { occurredAt: '2030-01-01T12:00:00.000Z' },
);

const at = (offset: number, event = confirmed) =>
  ({ event, key: 'ord-1', position: { topic: 'order.confirmed', partition: 2, offset } }) as ConsumedEvent<'order.confirmed'>;

const scopes = [
  { scope: 'global', revision: 0, state: emptyAnalytics('global') },
  { scope: 'restaurant:trattoria', revision: 3, state: emptyAnalytics('restaurant:trattoria') },
];
const round = (counted: AnalyticsFactDocument | null = null, stored = scopes): AnalyticsRound => ({
  counted: new Map(counted ? [['confirmed:ord-1', counted]] : []),
  scopes: new Map(stored.map((s) => [s.scope, s])),
});

function counts(...effects: AnalyticsEffects[]) {
  return effects.map((e) => {
    if (e.kind !== 'count') throw new Error(`expected a count, not ${e.kind}`);
    return e;
  });
}

describe('factOf', () => {
  it('counts status changes only when an order is delivered', () => {
    const change = (status: 'DELIVERED' | 'PREPARING') =>
      orderStatusChanged({ orderId: 'o', customerId: 'c', restaurantId: 'r', status, previousStatus: null, reason: null, at: '2030-01-01T12:00:00.000Z' });
    expect(factOf(change('DELIVERED'))).toEqual({ kind: 'delivered', restaurantId: 'r' });
    expect(factOf(change('PREPARING'))).toBeNull();
    expect(factOf(confirmed)).toEqual({ kind: 'confirmed', restaurantId: 'trattoria', totalCents: 1700 });
  });
});

describe('decideAnalytics and foldRound', () => {
  it('claims the fact and folds it into the global and the restaurant scope, naming the revisions read', () => {
    const [effects] = counts(decideAnalytics(at(7), round()));
    expect(effects).toMatchObject({ kind: 'count', fact: { kind: 'confirmed' }, factClaim: { _id: 'confirmed:ord-1', topic: 'order.confirmed', partition: 2, offset: 7 } });
    const writes = foldRound([effects!]);
    expect(writes.map((w) => [w.scope, w.expectedRevision, w.state.ordersConfirmed, w.state.revenueCents])).toEqual([
      ['global', 0, 1, 1700],
      ['restaurant:trattoria', 3, 1, 1700],
    ]);
    expect(writes[0]!.state.updatedAt).toBe('2030-01-01T12:00:00.000Z');
  });

  it('folds every fact of a round in order and writes each scope once', () => {
    const other = orderConfirmed({ ...confirmed.data, orderId: 'ord-2', totalCents: 300 }, { occurredAt: '2030-01-01T12:00:05.000Z' });
    const effects = counts(decideAnalytics(at(7), round()), decideAnalytics({ ...at(8, other), key: 'ord-2' }, round()));
    const writes = foldRound(effects);
    expect(writes.map((w) => [w.scope, w.state.ordersConfirmed, w.state.revenueCents, w.state.updatedAt])).toEqual([
      ['global', 2, 2000, '2030-01-01T12:00:05.000Z'],
      ['restaurant:trattoria', 2, 2000, '2030-01-01T12:00:05.000Z'],
    ]);
  });

  it('finishes a redelivered event whose claim was written but not every scope (a crash in between)', () => {
    const first = counts(decideAnalytics(at(7), round()));
    const [global] = foldRound(first);
    const halfDone = round(first[0]!.factClaim, [{ scope: 'global', revision: 1, state: global!.state }, scopes[1]!]);
    const again = counts(decideAnalytics(at(7), halfDone));
    expect(again[0]).toMatchObject({ factClaim: null });
    expect(foldRound(again).map((w) => w.scope)).toEqual(['restaurant:trattoria']);

    const done = round(first[0]!.factClaim, foldRound(first).map((w, i) => ({ scope: w.scope, revision: i + 1, state: w.state })));
    expect(foldRound(counts(decideAnalytics(at(7), done)))).toEqual([]);
  });

  it('ignores the same fact emitted again at another offset', () => {
    const [first] = counts(decideAnalytics(at(7), round()));
    const repeat = decideAnalytics(at(9), round(first!.factClaim));
    expect(repeat).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/already counted from order.confirmed:2@7/) });
  });
});

describe('factOf payment.refunded', () => {
  const refund = (orderWasConfirmed?: boolean) =>
    paymentRefunded({ orderId: 'ord-1', restaurantId: 'trattoria', transactionId: 'tx-1', amountCents: 1700, refundedAt: '2030-01-01T12:00:00.000Z', ...(orderWasConfirmed === undefined ? {} : { orderWasConfirmed }) });

  it('takes the refund of a confirmed order (or of an event that does not say) off the revenue', () => {
    expect(factOf(refund(true))).toEqual({ kind: 'refunded', restaurantId: 'trattoria', amountCents: 1700 });
    expect(factOf(refund())).toEqual({ kind: 'refunded', restaurantId: 'trattoria', amountCents: 1700 });
  });

  it('does not count the refund of a capture that never became a confirmed order (never counted as revenue)', () => {
    expect(factOf(refund(false))).toBeNull();
  });
});
