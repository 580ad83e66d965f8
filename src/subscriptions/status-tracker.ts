import { canTransition, type OrderStatus } from '../domain/order-status';

/** One status change of one order as subscribers see it. */
export interface StatusUpdate {
  readonly orderId: string;
  readonly customerId: string;
  readonly restaurantId: string;
  readonly status: OrderStatus;
  readonly at: string;
  readonly reason: string | null;
}

/**
 * Follows one order's status the way the orders projector does: a change counts only when it
 * is a legal next step from the last one. The machine has no cycles, so a change already
 * reflected (a duplicate, or a buffered event the read model already applied) is never legal
 * again: that is what makes "current state first, then every later change" gap- and duplicate-free.
 */
export class StatusTracker {
  private current: OrderStatus | null;
  private last: StatusUpdate | null;

  /** @param start the order's state in the read model, if it has the order. */
  constructor(start: StatusUpdate | null) {
    this.current = start?.status ?? null;
    this.last = start;
  }

  /** Takes `update` when it moves the order on; false for a duplicate, stale or illegal one. */
  accept(update: StatusUpdate): boolean {
    if (this.current !== null && !canTransition(this.current, update.status)) return false;
    this.current = update.status;
    this.last = update;
    return true;
  }

  /** The latest accepted state: what a new subscriber is sent first. */
  latest(): StatusUpdate | null {
    return this.last;
  }
}

/**
 * The last status changes this instance consumed, per order (a bounded, least-recently-updated
 * map). It covers the one window the read model cannot: an event this instance consumed before
 * a client subscribed, which the projector has not applied yet when the subscription reads it.
 */
export class RecentStatusChanges {
  private readonly byOrder = new Map<string, StatusUpdate[]>();

  /** @param capacity orders remembered. @default 10000 */
  constructor(private readonly capacity = 10_000) {}

  record(update: StatusUpdate): void {
    const changes = this.byOrder.get(update.orderId) ?? [];
    this.byOrder.delete(update.orderId);
    // A status happens once per order: at most one entry each, in arrival (= partition) order.
    if (!changes.some((c) => c.status === update.status)) changes.push(update);
    this.byOrder.set(update.orderId, changes);
    if (this.byOrder.size > this.capacity) {
      const oldest = this.byOrder.keys().next().value;
      if (oldest !== undefined) this.byOrder.delete(oldest);
    }
  }

  of(orderId: string): readonly StatusUpdate[] {
    return this.byOrder.get(orderId) ?? [];
  }
}
