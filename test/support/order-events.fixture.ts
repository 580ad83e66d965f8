import { analyticsUpdated, type AnalyticsUpdated } from '../../src/events/analytics-events';
import { orderConfirmed, orderStatusChanged, type OrderConfirmed, type OrderStatusChanged } from '../../src/events/order-events';
import type { OrderStatus } from '../../src/domain/order-status';
import { emptyAnalytics, toSnapshot } from '../../src/domain/analytics';
import { TOPICS } from '../../src/events/topics';
import type { OutgoingEvent } from '../../src/kafka/event-producer';

/** Events as the consumers would produce them, for tests that feed subscriptions directly. */
export function confirmedEvent(order: { orderId: string; customerId: string; restaurantId?: string }): OutgoingEvent & { event: OrderConfirmed } {
  const event = orderConfirmed({
    orderId: order.orderId,
    customerId: order.customerId,
    customerEmail: null,
    restaurantId: order.restaurantId ?? 'pizzeria-napoli',
    items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 1, unitPriceCents: 950, lineTotalCents: 950 }],
    totalCents: 950,
    currency: 'EUR',
    transactionId: `tx-${order.orderId}`,
    confirmedAt: new Date().toISOString(),
  });
  return { topic: TOPICS.orderConfirmed, key: order.orderId, event };
}

export function statusEvent(
  order: { orderId: string; customerId: string; restaurantId?: string },
  status: OrderStatus,
  previousStatus: OrderStatus | null,
  at = new Date(),
): OutgoingEvent & { event: OrderStatusChanged } {
  const event = orderStatusChanged({
    orderId: order.orderId,
    customerId: order.customerId,
    restaurantId: order.restaurantId ?? 'pizzeria-napoli',
    status,
    previousStatus,
    reason: null,
    at: at.toISOString(),
  });
  return { topic: TOPICS.orderStatusChanged, key: order.orderId, event };
}

export function analyticsEvent(scope: string, ordersPlaced: number): OutgoingEvent & { event: AnalyticsUpdated } {
  const snapshot = toSnapshot({ ...emptyAnalytics(scope, new Date().toISOString()), ordersPlaced, items: { margherita: { name: 'Pizza Margherita', quantity: ordersPlaced } } });
  const event = analyticsUpdated({ ...snapshot, topItems: [...snapshot.topItems], byRestaurant: [...snapshot.byRestaurant] });
  return { topic: TOPICS.analyticsUpdated, key: scope, event };
}
