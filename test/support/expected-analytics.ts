import type { AnalyticsQuery } from '../generated/graphql';

/*
 * The analytics contract computed independently of src/domain/analytics.ts, from what a test
 * knows it did: placed counts every order (and its items), confirmed every captured one,
 * revenue is captured minus refunded, the average is over orders still paid for.
 */

/** What a test did to one order, from which the analytics it must produce follow. */
export interface TrackedOrder {
  readonly id: string;
  readonly restaurantId: string;
  readonly totalCents: number;
  readonly items: readonly { menuItemId: string; name: string; quantity: number }[];
  outcome: 'placed' | 'confirmed' | 'payment-failed' | 'cancelled-refunded' | 'delivered';
}
export type ExpectedFigures = Omit<AnalyticsQuery['analytics'], 'updatedAt'>;

/** The figures of `orders` as the analytics contract defines them (revenue = captured − refunded). */
export function expectedFigures(scope: string, orders: readonly TrackedOrder[]): ExpectedFigures {
  const captured = orders.filter((o) => o.outcome !== 'placed' && o.outcome !== 'payment-failed');
  const refunded = orders.filter((o) => o.outcome === 'cancelled-refunded');
  const sum = (list: readonly TrackedOrder[]) => list.reduce((s, o) => s + o.totalCents, 0);
  const revenueCents = sum(captured) - sum(refunded);
  const paid = captured.length - refunded.length;
  const items = new Map<string, { menuItemId: string; name: string; quantity: number }>();
  for (const line of orders.flatMap((o) => o.items)) {
    const tally = items.get(line.menuItemId) ?? { menuItemId: line.menuItemId, name: line.name, quantity: 0 };
    items.set(line.menuItemId, { ...tally, quantity: tally.quantity + line.quantity });
  }
  const restaurants = [...new Set(captured.map((o) => o.restaurantId))].sort();
  return {
    scope,
    ordersPlaced: orders.length,
    ordersConfirmed: captured.length,
    ordersPaymentFailed: orders.filter((o) => o.outcome === 'payment-failed').length,
    ordersCancelled: refunded.length,
    ordersDelivered: orders.filter((o) => o.outcome === 'delivered').length,
    revenueCents,
    averageOrderValueCents: paid > 0 ? Math.round(revenueCents / paid) : 0,
    topItems: [...items.values()].sort((a, b) => b.quantity - a.quantity || a.menuItemId.localeCompare(b.menuItemId)),
    byRestaurant: restaurants.map((restaurantId) => {
      const mine = (list: readonly TrackedOrder[]) => list.filter((o) => o.restaurantId === restaurantId);
      return { restaurantId, ordersConfirmed: mine(captured).length, revenueCents: sum(mine(captured)) - sum(mine(refunded)) };
    }),
  };
}
