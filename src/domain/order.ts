import { OrderTransitionError } from './domain.errors';
import { canTransition, FULFILMENT_STEPS, type OrderStatus } from './order-status';

export interface StatusChange {
  readonly status: OrderStatus;
  readonly at: string;
  readonly reason: string | null;
}

/** What the order aggregate needs to decide a transition. */
export interface OrderSnapshot {
  readonly id: string;
  readonly customerId: string;
  readonly restaurantId: string;
  readonly status: OrderStatus;
}

/** A decided transition: the status change to publish as `order.status-changed`. */
export interface Transition {
  readonly orderId: string;
  readonly customerId: string;
  readonly restaurantId: string;
  readonly from: OrderStatus;
  readonly to: OrderStatus;
  readonly reason: string | null;
  readonly at: string;
}

function transition(order: OrderSnapshot, to: OrderStatus, action: string, reason: string | null, at: string): Transition {
  if (!canTransition(order.status, to)) throw new OrderTransitionError(order.status, action);
  return { orderId: order.id, customerId: order.customerId, restaurantId: order.restaurantId, from: order.status, to, reason, at };
}

export function confirmOrder(order: OrderSnapshot, at: string): Transition {
  return transition(order, 'CONFIRMED', 'confirm', null, at);
}

export function failOrderPayment(order: OrderSnapshot, reason: string, at: string): Transition {
  return transition(order, 'PAYMENT_FAILED', 'fail the payment of', reason, at);
}

/** A customer or an admin may cancel while the kitchen has not started. */
export function cancelOrder(order: OrderSnapshot, reason: string | null, at: string): Transition {
  return transition(order, 'CANCELLED', 'cancel', reason, at);
}

/** A restaurant moves an order one fulfilment step at a time: CONFIRMED → PREPARING → … → DELIVERED. */
export function advanceOrder(order: OrderSnapshot, to: OrderStatus, at: string): Transition {
  if (!FULFILMENT_STEPS.includes(to)) throw new OrderTransitionError(order.status, `advance to ${to}`);
  return transition(order, to, `advance to ${to}`, null, at);
}

/**
 * The read model's rule for an incoming status change: apply it only when legal from the
 * current status, so duplicates and late arrivals leave the model as it is.
 */
export function applyStatusChange<T extends { status: OrderStatus; statusHistory: readonly StatusChange[] }>(
  order: T,
  change: StatusChange,
): T | null {
  if (!canTransition(order.status, change.status)) return null;
  return { ...order, status: change.status, statusHistory: [...order.statusHistory, change] };
}
