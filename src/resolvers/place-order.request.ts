import { InvalidInputError } from '../domain/domain.errors';
import { ORDER_LIMITS, validateDeliveryAddress, type OrderLineRequest } from '../domain/pricing';
import { checkId, checkText } from '../domain/text-input';

/** Matches the order.placed event's bound: the payment token travels in it. */
export const MAX_PAYMENT_TOKEN_LENGTH = 200;

/** A placeOrder input whose fields passed the checks that need no catalog. */
export interface PlaceOrderRequest {
  readonly restaurantId: string;
  readonly lines: readonly OrderLineRequest[];
  readonly deliveryAddress: string;
  readonly paymentToken: string;
  readonly idempotencyKey: string | null;
}

/**
 * Checks the fields of a placeOrder input, naming the one at fault. Lines and quantities are
 * checked by priceOrder, against the restaurant's menu.
 */
export function checkPlaceOrderInput(input: {
  restaurantId: string;
  items: readonly OrderLineRequest[];
  deliveryAddress: string;
  paymentToken: string;
  idempotencyKey?: string | null;
}): PlaceOrderRequest {
  const restaurantId = checkId('restaurantId', input.restaurantId.trim());
  const deliveryAddress = checkText('deliveryAddress', validateDeliveryAddress(input.deliveryAddress));
  if (input.paymentToken.length < 1 || input.paymentToken.length > MAX_PAYMENT_TOKEN_LENGTH) {
    throw new InvalidInputError('paymentToken', `paymentToken must be 1 to ${MAX_PAYMENT_TOKEN_LENGTH} characters`);
  }
  checkText('paymentToken', input.paymentToken);
  const key = input.idempotencyKey === undefined || input.idempotencyKey === null ? null : checkText('idempotencyKey', input.idempotencyKey);
  if (key !== null && (key.length < 1 || key.length > ORDER_LIMITS.maxIdempotencyKeyLength)) {
    throw new InvalidInputError('idempotencyKey', `idempotencyKey must be 1 to ${ORDER_LIMITS.maxIdempotencyKeyLength} characters`);
  }
  return {
    restaurantId,
    lines: input.items.map((i) => ({ menuItemId: i.menuItemId, quantity: i.quantity })),
    deliveryAddress,
    paymentToken: input.paymentToken,
    idempotencyKey: key,
  };
}

/**
 * PURE: placeOrder's idempotency key: the input's, else the HTTP request's `Idempotency-Key`
 * header (so a client that retries a whole request is safe without changing its query). Both
 * given and different is a mistake worth saying.
 */
export function chooseIdempotencyKey(fromInput: string | null, fromHeader: string | null): string | null {
  if (fromInput !== null && fromHeader !== null && fromInput !== fromHeader) {
    throw new InvalidInputError('idempotencyKey', 'idempotencyKey and the Idempotency-Key header differ: send one, or the same in both');
  }
  return fromInput ?? fromHeader;
}
