import type { Viewer } from '../auth/viewer';

/**
 * Which subscribers an event goes to, found by lookup instead of by asking every subscriber.
 *
 * A subscriber registers under routing keys derived from who it is and what it asked for; an
 * event carries the keys of everyone allowed to see it; it is delivered to the listeners under
 * those keys, each once. The key functions below are the authorization rules (canSeeOrder,
 * analyticsScopeOf) restated as keys: a subscriber and an event share a key exactly when the
 * rule lets the subscriber see the event (subscriber-index.test.ts checks this across roles).
 * Pure: no Kafka, no GraphQL.
 */
export type RoutingKey = string;

/** Carried by every event of a topic: for listeners that may see them all (an ADMIN's order streams, caches). */
export const EVERY_EVENT: RoutingKey = 'all';

/**
 * Keys are `<kind>:<id>`: the kind ends at the first colon, so ids of different kinds never
 * collide, whatever they contain (an analytics scope may itself hold a colon).
 */
export const routingKey = {
  customer: (customerId: string): RoutingKey => `customer:${customerId}`,
  restaurant: (restaurantId: string): RoutingKey => `restaurant:${restaurantId}`,
  order: (orderId: string): RoutingKey => `order:${orderId}`,
  scope: (scope: string): RoutingKey => `scope:${scope}`,
} as const;

/** The parties of an order event, as in order.confirmed and order.status-changed. */
export interface OrderParties {
  readonly orderId: string;
  readonly customerId: string;
  readonly restaurantId: string;
}

/** Who may see an order event: every-event listeners, its customer, its restaurant, and followers of the order. */
export function orderEventKeys(order: OrderParties): RoutingKey[] {
  return [EVERY_EVENT, routingKey.customer(order.customerId), routingKey.restaurant(order.restaurantId), routingKey.order(order.orderId)];
}

/** Who may see an analytics snapshot: every-event listeners and subscribers of its scope. */
export function analyticsEventKeys(scope: string): RoutingKey[] {
  return [EVERY_EVENT, routingKey.scope(scope)];
}

/**
 * Where a viewer listens for every order event it may see; canSeeOrder as keys: an ADMIN all,
 * a CUSTOMER its own, a RESTAURANT its restaurant's (one without a restaurant sees nothing).
 */
export function visibleOrderKeys(viewer: Viewer): RoutingKey[] {
  switch (viewer.role) {
    case 'ADMIN':
      return [EVERY_EVENT];
    case 'CUSTOMER':
      return [routingKey.customer(viewer.id)];
    case 'RESTAURANT':
      return viewer.restaurantId === null ? [] : [routingKey.restaurant(viewer.restaurantId)];
  }
}

/** Where a follower of one order listens (whether it may see the order is checked before it subscribes). */
export function followedOrderKeys(orderId: string): RoutingKey[] {
  return [routingKey.order(orderId)];
}

/** Where a subscriber of one analytics scope listens (the scope it may see is decided by the resolver). */
export function analyticsScopeKeys(scope: string): RoutingKey[] {
  return [routingKey.scope(scope)];
}

/**
 * Listeners by routing key. Delivering an event costs one lookup per event key plus one call
 * per matching listener, however many other subscribers there are.
 */
export class SubscriberIndex<L> {
  private readonly byKey = new Map<RoutingKey, Set<L>>();
  private registrations = 0;

  /** Registers `listener` under `keys` (no keys: it receives nothing). Returns its removal, safe to call twice. */
  add(keys: readonly RoutingKey[], listener: L): () => void {
    const unique = [...new Set(keys)];
    for (const key of unique) {
      let listeners = this.byKey.get(key);
      if (!listeners) this.byKey.set(key, (listeners = new Set()));
      listeners.add(listener);
    }
    this.registrations += 1;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.registrations -= 1;
      for (const key of unique) {
        const listeners = this.byKey.get(key);
        if (!listeners) continue;
        listeners.delete(listener);
        if (listeners.size === 0) this.byKey.delete(key);
      }
    };
  }

  /**
   * Calls `deliver` once for each listener registered under any of `eventKeys` (once even when
   * it matches several). A listener removed during delivery and not yet reached is skipped.
   * Returns how many listeners were called.
   */
  deliver(eventKeys: readonly RoutingKey[], deliver: (listener: L) => void): number {
    const matched: Set<L>[] = [];
    for (const key of eventKeys) {
      const listeners = this.byKey.get(key);
      if (listeners && !matched.includes(listeners)) matched.push(listeners);
    }
    if (matched.length === 0) return 0;
    if (matched.length === 1) {
      // The common case (one key per subscriber kind has listeners): no bookkeeping.
      let count = 0;
      for (const listener of matched[0] as Set<L>) {
        deliver(listener);
        count += 1;
      }
      return count;
    }
    const seen = new Set<L>();
    for (const listeners of matched) {
      for (const listener of listeners) {
        if (seen.has(listener)) continue;
        seen.add(listener);
        deliver(listener);
      }
    }
    return seen.size;
  }

  /** The listeners an event with `eventKeys` would reach, in delivery order. */
  matching(eventKeys: readonly RoutingKey[]): L[] {
    const found: L[] = [];
    this.deliver(eventKeys, (listener) => found.push(listener));
    return found;
  }

  /** Registrations currently held (a listener added twice counts twice). */
  get size(): number {
    return this.registrations;
  }

  /** Keys with at least one listener. */
  get keyCount(): number {
    return this.byKey.size;
  }
}
