import { describe, expect, it } from 'vitest';
import { emptyAnalytics } from '../domain/analytics';
import { orderConfirmed, orderStatusChanged, type OrderConfirmed } from '../events/order-events';
import type { ConsumedEvent } from '../kafka/consumer-runner';
import { decideAnalytics, factOf, type AnalyticsReadState } from './analytics.consumer';

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

const fresh: AnalyticsReadState = {
  counted: null,
  scopes: [
    { scope: 'global', revision: 0, state: emptyAnalytics('global') },
    { scope: 'restaurant:trattoria', revision: 3, state: emptyAnalytics('restaurant:trattoria') },
  ],
};

describe('factOf', () => {
  it('counts status changes only when an order is delivered', () => {
    const change = (status: 'DELIVERED' | 'PREPARING') =>
      orderStatusChanged({ orderId: 'o', customerId: 'c', restaurantId: 'r', status, previousStatus: null, reason: null, at: '2030-01-01T12:00:00.000Z' });
    expect(factOf(change('DELIVERED'))).toEqual({ kind: 'delivered', restaurantId: 'r' });
    expect(factOf(change('PREPARING'))).toBeNull();
    expect(factOf(confirmed)).toEqual({ kind: 'confirmed', restaurantId: 'trattoria', totalCents: 1700 });
  });
});

describe('decideAnalytics', () => {
  it('claims the fact and folds it into the global and the restaurant scope, naming the revisions read', () => {
    const effects = decideAnalytics(at(7), fresh);
    expect(effects).toMatchObject({ kind: 'count', fact: 'confirmed', factClaim: { _id: 'confirmed:ord-1', topic: 'order.confirmed', partition: 2, offset: 7 } });
    if (effects.kind !== 'count') throw new Error('expected a count');
    expect(effects.writes.map((w) => [w.scope, w.expectedRevision, w.state.ordersConfirmed, w.state.revenueCents])).toEqual([
      ['global', 0, 1, 1700],
      ['restaurant:trattoria', 3, 1, 1700],
    ]);
    expect(effects.writes[0]!.state.updatedAt).toBe('2030-01-01T12:00:00.000Z');
  });

  it('finishes a redelivered event whose claim was written but not every scope (a crash in between)', () => {
    const first = decideAnalytics(at(7), fresh);
    if (first.kind !== 'count') throw new Error('expected a count');
    const halfDone: AnalyticsReadState = {
      counted: first.factClaim,
      scopes: [{ scope: 'global', revision: 1, state: first.writes[0]!.state }, fresh.scopes[1]!],
    };
    const again = decideAnalytics(at(7), halfDone);
    expect(again).toMatchObject({ kind: 'count', factClaim: null });
    if (again.kind !== 'count') throw new Error('expected a count');
    expect(again.writes.map((w) => w.scope)).toEqual(['restaurant:trattoria']);

    const done: AnalyticsReadState = { counted: first.factClaim, scopes: first.writes.map((w, i) => ({ scope: w.scope, revision: i + 1, state: w.state })) };
    expect(decideAnalytics(at(7), done)).toEqual({ kind: 'ignore', reason: 'already applied' });
  });

  it('ignores the same fact emitted again at another offset', () => {
    const first = decideAnalytics(at(7), fresh);
    if (first.kind !== 'count') throw new Error('expected a count');
    const repeat = decideAnalytics(at(9), { ...fresh, counted: first.factClaim });
    expect(repeat).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/already counted from order.confirmed:2@7/) });
  });
});
