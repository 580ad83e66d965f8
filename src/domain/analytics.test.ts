import { describe, expect, it } from 'vitest';
import { emptyAnalytics, foldAnalytics, GLOBAL_SCOPE, restaurantScope, scopesOf, toSnapshot, type AnalyticsFact, type AnalyticsState } from './analytics';

const T = '2030-01-01T12:00:00.000Z';
const placed: AnalyticsFact = {
  kind: 'placed',
  restaurantId: 'trattoria',
  items: [
    { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2 },
    { menuItemId: 'tiramisu', name: 'Tiramisù', quantity: 1 },
  ],
};

function fold(facts: [AnalyticsFact, string, number][], state: AnalyticsState = emptyAnalytics(GLOBAL_SCOPE)): AnalyticsState {
  return facts.reduce((s, [fact, topic, offset]) => foldAnalytics(s, fact, { topic, partition: 0, offset }, T), state);
}

describe('foldAnalytics', () => {
  it('counts each kind of fact, revenue as captured minus refunded', () => {
    const state = fold([
      [placed, 'order.placed', 0],
      [placed, 'order.placed', 1],
      [{ kind: 'confirmed', restaurantId: 'trattoria', totalCents: 2000 }, 'order.confirmed', 0],
      [{ kind: 'confirmed', restaurantId: 'sushi', totalCents: 3000 }, 'order.confirmed', 1],
      [{ kind: 'payment-failed', restaurantId: 'trattoria' }, 'order.payment-failed', 0],
      [{ kind: 'cancelled', restaurantId: 'sushi' }, 'order.cancelled', 0],
      [{ kind: 'refunded', restaurantId: 'sushi', amountCents: 3000 }, 'payment.refunded', 0],
      [{ kind: 'delivered', restaurantId: 'trattoria' }, 'order.status-changed', 0],
    ]);
    expect(state).toMatchObject({ ordersPlaced: 2, ordersConfirmed: 2, ordersPaymentFailed: 1, ordersCancelled: 1, ordersRefunded: 1, ordersDelivered: 1, revenueCents: 2000 });
    expect(state.items.margherita).toEqual({ name: 'Pizza Margherita', quantity: 4 });
    expect(state.restaurants).toEqual({ trattoria: { ordersConfirmed: 1, revenueCents: 2000 }, sushi: { ordersConfirmed: 1, revenueCents: 0 } });
    expect(state.updatedAt).toBe(T);
  });

  it('is a no-op (the same object) for a position already applied, however often', () => {
    const once = fold([[placed, 'order.placed', 5]]);
    expect(foldAnalytics(once, placed, { topic: 'order.placed', partition: 0, offset: 5 }, T)).toBe(once);
    expect(foldAnalytics(once, placed, { topic: 'order.placed', partition: 0, offset: 4 }, T)).toBe(once);
    // Another partition of the same topic has its own positions.
    expect(foldAnalytics(once, placed, { topic: 'order.placed', partition: 1, offset: 5 }, T).ordersPlaced).toBe(2);
  });
});

describe('scopesOf and toSnapshot', () => {
  it('counts a fact for everyone and for its restaurant', () => {
    expect(scopesOf(placed)).toEqual([GLOBAL_SCOPE, restaurantScope('trattoria')]);
    expect(restaurantScope('trattoria')).toBe('restaurant:trattoria');
  });

  it('derives the average over paid orders, ranks items and sorts restaurants', () => {
    const state = fold([
      [placed, 'order.placed', 0],
      [{ kind: 'confirmed', restaurantId: 'trattoria', totalCents: 2001 }, 'order.confirmed', 0],
      [{ kind: 'confirmed', restaurantId: 'alpha', totalCents: 1000 }, 'order.confirmed', 1],
    ]);
    const snapshot = toSnapshot(state, 1);
    expect(snapshot.averageOrderValueCents).toBe(1501);
    expect(snapshot.topItems).toEqual([{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2 }]);
    expect(snapshot.byRestaurant.map((r) => r.restaurantId)).toEqual(['alpha', 'trattoria']);
    expect(snapshot).not.toHaveProperty('applied');
    expect(toSnapshot(emptyAnalytics('global')).averageOrderValueCents).toBe(0);
  });
});
