/**
 * Live order figures, folded event by event. A fold is pure and idempotent: each state
 * remembers the highest offset applied per topic-partition, so an event delivered again
 * (a redelivery, a replay, a rebalance) changes nothing.
 */

export interface ItemTally {
  readonly name: string;
  readonly quantity: number;
}

export interface RestaurantTally {
  readonly ordersConfirmed: number;
  readonly revenueCents: number;
}

/** The counts both the folded state and the published snapshot carry. */
export interface OrderFigures {
  /** `global`, or `restaurant:<id>` for the figures one restaurant may see. */
  readonly scope: string;
  readonly ordersPlaced: number;
  readonly ordersConfirmed: number;
  readonly ordersPaymentFailed: number;
  readonly ordersCancelled: number;
  readonly ordersDelivered: number;
  /** Captured minus refunded. */
  readonly revenueCents: number;
  readonly updatedAt: string;
}

export interface AnalyticsState extends OrderFigures {
  readonly ordersRefunded: number;
  readonly items: Readonly<Record<string, ItemTally>>;
  readonly restaurants: Readonly<Record<string, RestaurantTally>>;
  /** `topic:partition` → highest offset folded in. */
  readonly applied: Readonly<Record<string, number>>;
}

/** Where an event came from: what makes "already applied" decidable. */
export interface EventPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The facts analytics reads from order events, already mapped from their envelopes. */
export type AnalyticsFact =
  | { readonly kind: 'placed'; readonly restaurantId: string; readonly items: readonly { menuItemId: string; name: string; quantity: number }[] }
  | { readonly kind: 'confirmed'; readonly restaurantId: string; readonly totalCents: number }
  | { readonly kind: 'payment-failed'; readonly restaurantId: string }
  | { readonly kind: 'cancelled'; readonly restaurantId: string }
  | { readonly kind: 'delivered'; readonly restaurantId: string }
  | { readonly kind: 'refunded'; readonly restaurantId: string; readonly amountCents: number };

export const GLOBAL_SCOPE = 'global';
export const restaurantScope = (restaurantId: string): string => `restaurant:${restaurantId}`;

export function emptyAnalytics(scope: string, at = new Date(0).toISOString()): AnalyticsState {
  return {
    scope,
    ordersPlaced: 0,
    ordersConfirmed: 0,
    ordersPaymentFailed: 0,
    ordersCancelled: 0,
    ordersDelivered: 0,
    ordersRefunded: 0,
    revenueCents: 0,
    items: {},
    restaurants: {},
    applied: {},
    updatedAt: at,
  };
}

/** The scopes one fact counts in: everyone's figures and its restaurant's. */
export function scopesOf(fact: AnalyticsFact): string[] {
  return [GLOBAL_SCOPE, restaurantScope(fact.restaurantId)];
}

function withRestaurant(state: AnalyticsState, restaurantId: string, change: (t: RestaurantTally) => RestaurantTally): AnalyticsState {
  const current = state.restaurants[restaurantId] ?? { ordersConfirmed: 0, revenueCents: 0 };
  return { ...state, restaurants: { ...state.restaurants, [restaurantId]: change(current) } };
}

function applyFact(state: AnalyticsState, fact: AnalyticsFact): AnalyticsState {
  switch (fact.kind) {
    case 'placed': {
      const items = { ...state.items };
      for (const line of fact.items) {
        items[line.menuItemId] = { name: line.name, quantity: (items[line.menuItemId]?.quantity ?? 0) + line.quantity };
      }
      return { ...state, ordersPlaced: state.ordersPlaced + 1, items };
    }
    case 'confirmed':
      return withRestaurant(
        { ...state, ordersConfirmed: state.ordersConfirmed + 1, revenueCents: state.revenueCents + fact.totalCents },
        fact.restaurantId,
        (t) => ({ ordersConfirmed: t.ordersConfirmed + 1, revenueCents: t.revenueCents + fact.totalCents }),
      );
    case 'payment-failed':
      return { ...state, ordersPaymentFailed: state.ordersPaymentFailed + 1 };
    case 'cancelled':
      return { ...state, ordersCancelled: state.ordersCancelled + 1 };
    case 'delivered':
      return { ...state, ordersDelivered: state.ordersDelivered + 1 };
    case 'refunded':
      return withRestaurant(
        { ...state, ordersRefunded: state.ordersRefunded + 1, revenueCents: state.revenueCents - fact.amountCents },
        fact.restaurantId,
        (t) => ({ ...t, revenueCents: t.revenueCents - fact.amountCents }),
      );
  }
}

/** Folds one fact in, or returns the state unchanged (same object) when its position was already applied. */
export function foldAnalytics(state: AnalyticsState, fact: AnalyticsFact, position: EventPosition, at: string): AnalyticsState {
  const key = `${position.topic}:${position.partition}`;
  const last = state.applied[key];
  if (last !== undefined && position.offset <= last) return state;
  return { ...applyFact(state, fact), applied: { ...state.applied, [key]: position.offset }, updatedAt: at };
}

export interface AnalyticsSnapshot extends OrderFigures {
  readonly averageOrderValueCents: number;
  readonly topItems: readonly { menuItemId: string; name: string; quantity: number }[];
  readonly byRestaurant: readonly { restaurantId: string; ordersConfirmed: number; revenueCents: number }[];
}

/** What clients see: derived figures computed, items ranked, bookkeeping left out. */
export function toSnapshot(state: AnalyticsState, topItemsLimit = 50): AnalyticsSnapshot {
  const paidOrders = state.ordersConfirmed - state.ordersRefunded;
  return {
    scope: state.scope,
    ordersPlaced: state.ordersPlaced,
    ordersConfirmed: state.ordersConfirmed,
    ordersPaymentFailed: state.ordersPaymentFailed,
    ordersCancelled: state.ordersCancelled,
    ordersDelivered: state.ordersDelivered,
    revenueCents: state.revenueCents,
    averageOrderValueCents: paidOrders > 0 ? Math.round(state.revenueCents / paidOrders) : 0,
    topItems: Object.entries(state.items)
      .map(([menuItemId, t]) => ({ menuItemId, name: t.name, quantity: t.quantity }))
      .sort((a, b) => b.quantity - a.quantity || a.menuItemId.localeCompare(b.menuItemId))
      .slice(0, topItemsLimit),
    byRestaurant: Object.entries(state.restaurants)
      .map(([restaurantId, t]) => ({ restaurantId, ...t }))
      .sort((a, b) => a.restaurantId.localeCompare(b.restaurantId)),
    updatedAt: state.updatedAt,
  };
}
