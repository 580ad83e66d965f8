import { createHash } from 'node:crypto';
import { nameBasedUuid } from '../events/envelope';
import { TOPICS } from '../events/topics';

/** This product's UUID namespace for ids derived from other ids (fixed forever: changing it re-keys orders). */
const NAMESPACE = Buffer.from('3f8a9d2e6c414b7a9e150d2c7b4f6a81', 'hex');

/** An RFC 4122 version-5 UUID of `name` in the product's namespace: the same name always gives the same id. */
const uuidV5 = (name: string): string => nameBasedUuid(NAMESPACE, name);

/**
 * The order id of a customer's idempotency key. Deterministic, so that even if order.placed
 * is ever produced twice for one key, both carry one order id and the payment (unique per
 * order id) is captured once.
 */
export function orderIdForKey(customerId: string, idempotencyKey: string): string {
  return uuidV5(JSON.stringify(['order', customerId, idempotencyKey]));
}

/** The order.placed event id of such an order: a re-produced event is recognisably the same event. */
export function placedEventIdFor(orderId: string): string {
  return uuidV5(JSON.stringify([TOPICS.orderPlaced, orderId]));
}

/** What a request asked for, hashed: a repeat with the same key must ask for the same thing. */
export function requestHash(request: {
  readonly restaurantId: string;
  readonly lines: readonly { menuItemId: string; quantity: number }[];
  readonly deliveryAddress: string;
  readonly paymentToken: string;
}): string {
  const canonical = JSON.stringify([
    request.restaurantId,
    request.lines.map((l) => [l.menuItemId, l.quantity]),
    request.deliveryAddress,
    request.paymentToken,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
