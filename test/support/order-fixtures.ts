import { randomUUID } from 'node:crypto';
import {
  orderCancelled,
  orderConfirmed,
  orderPlaced,
  orderStatusChanged,
  type OrderCancelled,
  type OrderConfirmed,
  type OrderPlaced,
  type OrderStatusChanged,
} from '../../src/events/order-events';
import type { OrderStatus } from '../../src/domain/order-status';

/** Events as the API and the transactions consumer would emit them, for one made-up order. */
export function placedEvent(overrides: Partial<OrderPlaced['data']> = {}): OrderPlaced {
  return orderPlaced({
    orderId: `ord-${randomUUID()}`,
    customerId: 'cust-ada',
    customerEmail: 'ada@example.com',
    restaurantId: 'trattoria',
    items: [
      { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 850, lineTotalCents: 1700 },
      { menuItemId: 'tiramisu', name: 'Tiramisù', quantity: 1, unitPriceCents: 550, lineTotalCents: 550 },
    ],
    totalCents: 2250,
    currency: 'EUR',
    paymentToken: 'tok_visa',
    deliveryAddress: '1 Analytical Engine Way, London',
    idempotencyKey: null,
    placedAt: new Date().toISOString(),
    ...overrides,
  });
}

export function confirmedEvent(placed: OrderPlaced, transactionId = `tx-${randomUUID()}`): OrderConfirmed {
  const { orderId, customerId, customerEmail, restaurantId, items, totalCents, currency } = placed.data;
  return orderConfirmed({ orderId, customerId, customerEmail, restaurantId, items, totalCents, currency, transactionId, confirmedAt: new Date().toISOString() });
}

export function cancelledEvent(placed: OrderPlaced, reason: string | null = 'changed my mind'): OrderCancelled {
  const { orderId, customerId, restaurantId } = placed.data;
  return orderCancelled({ orderId, customerId, restaurantId, reason, cancelledBy: customerId, cancelledAt: new Date().toISOString() });
}

export function statusChangedEvent(placed: OrderPlaced, status: OrderStatus, previousStatus: OrderStatus | null, at = new Date()): OrderStatusChanged {
  const { orderId, customerId, restaurantId } = placed.data;
  return orderStatusChanged({ orderId, customerId, restaurantId, status, previousStatus, reason: null, at: at.toISOString() });
}
