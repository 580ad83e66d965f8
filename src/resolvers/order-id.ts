import { createHash } from 'node:crypto';

/** This product's UUID namespace for ids derived from other ids (fixed forever: changing it re-keys orders). */
const NAMESPACE = '3f8a9d2e-6c41-4b7a-9e15-0d2c7b4f6a81';

/** An RFC 4122 version-5 (SHA-1, name-based) UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace: string = NAMESPACE): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replaceAll('-', ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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
  return uuidV5(JSON.stringify(['order.placed', orderId]));
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
