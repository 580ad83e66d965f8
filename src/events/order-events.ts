import { z } from 'zod';
import { TRANSITION_ACTIONS } from '../domain/order-authority';
import { cents, id, isoTime, orderStatus, pricedItem } from './event-parts';
import { createEnvelope, envelopeSchema, stableEventId, type EnvelopeOptions, type EventEnvelope } from './envelope';

/*
 * One schema per event type, used by producers before sending and by consumers on receipt.
 * The type literal is also the topic name (see topics.ts).
 */

/** Who ordered what from whom, for how much: carried by order.placed and order.confirmed alike. */
const pricedOrder = {
  orderId: id,
  customerId: id,
  customerEmail: z.email().nullable(),
  restaurantId: id,
  items: z.array(pricedItem).min(1).max(50),
  totalCents: cents,
  currency: z.string().length(3),
};

export const orderPlacedData = z.object({
  ...pricedOrder,
  paymentToken: z.string().min(1).max(200),
  deliveryAddress: z.string().min(1).max(500),
  idempotencyKey: z.string().max(200).nullable(),
  placedAt: isoTime,
});

export const orderConfirmedData = z.object({
  ...pricedOrder,
  transactionId: id,
  confirmedAt: isoTime,
});

export const orderPaymentFailedData = z.object({
  orderId: id,
  customerId: id,
  restaurantId: id,
  reason: z.string().min(1).max(500),
  failedAt: isoTime,
});

export const orderStatusChangedData = z.object({
  orderId: id,
  customerId: id,
  restaurantId: id,
  status: orderStatus,
  previousStatus: orderStatus.nullable(),
  reason: z.string().max(500).nullable(),
  at: isoTime,
});

export const orderCancelledData = z.object({
  orderId: id,
  customerId: id,
  restaurantId: id,
  reason: z.string().max(500).nullable(),
  cancelledBy: id,
  cancelledAt: isoTime,
  /** The status the order authority cancelled it from (PLACED: before any confirmation). Absent in events from before the authority. */
  cancelledFrom: orderStatus.optional(),
});

/** Produced by the transactions consumer when it refunds a captured payment (revenue analytics). */
export const paymentRefundedData = z.object({
  orderId: id,
  restaurantId: id,
  transactionId: id,
  amountCents: cents,
  refundedAt: isoTime,
  /**
   * False when the order was cancelled before it was ever confirmed (the charge was captured
   * while the cancel won at the order authority): that capture never counted as revenue, so
   * its refund must not be taken off it. Absent (older events): true.
   */
  orderWasConfirmed: z.boolean().optional(),
});

export const notificationSentData = z.object({
  orderId: id,
  channel: z.enum(['email']),
  recipient: z.string().min(1).max(320),
  messageId: z.string().min(1).max(500),
  sentAt: isoTime,
});

/** What a transition request asks for; the order authority decides (see consumers/order-authority.consumer.ts). */
export const transitionAction = z.enum(TRANSITION_ACTIONS);

/**
 * A request to move an order to `to`, sent to the order's one authority. `requestId` derives from
 * the order, the target status and the requester, so a retried request is the same request.
 * A confirmation carries the confirmed order, so the authority can announce it once accepted.
 */
/** Which request, for which order (and whose it is), asking for what: shared by a request and its decision. */
const transitionAsked = {
  requestId: id,
  orderId: id,
  customerId: id,
  restaurantId: id,
  action: transitionAction,
  to: orderStatus,
};

export const orderTransitionRequestedData = z.object({
  ...transitionAsked,
  reason: z.string().max(500).nullable(),
  requestedBy: id,
  requestedAt: isoTime,
  confirmation: orderConfirmedData.nullable(),
});

/** The authority's answer to a request: accepted (the order moved from `from` to `to`) or rejected, with why. */
export const orderTransitionDecidedData = z.object({
  ...transitionAsked,
  accepted: z.boolean(),
  /** The order's status once decided: `to` when accepted, the status that refused it otherwise. */
  status: orderStatus,
  /** Accepted: the status it left. Rejected: null. */
  from: orderStatus.nullable(),
  /** Rejected: why, naming the transition that won. */
  problem: z.string().max(1000).nullable(),
  reason: z.string().max(500).nullable(),
  decidedAt: isoTime,
});

export const orderEventSchemas = {
  'order.placed': envelopeSchema('order.placed', orderPlacedData),
  'order.confirmed': envelopeSchema('order.confirmed', orderConfirmedData),
  'order.payment-failed': envelopeSchema('order.payment-failed', orderPaymentFailedData),
  'order.status-changed': envelopeSchema('order.status-changed', orderStatusChangedData),
  'order.cancelled': envelopeSchema('order.cancelled', orderCancelledData),
  'payment.refunded': envelopeSchema('payment.refunded', paymentRefundedData),
  'notification.sent': envelopeSchema('notification.sent', notificationSentData),
  'order.transition-requested': envelopeSchema('order.transition-requested', orderTransitionRequestedData),
  'order.transition-decided': envelopeSchema('order.transition-decided', orderTransitionDecidedData),
} as const;

export type OrderPlaced = EventEnvelope<'order.placed', z.infer<typeof orderPlacedData>>;
export type OrderConfirmed = EventEnvelope<'order.confirmed', z.infer<typeof orderConfirmedData>>;
export type OrderPaymentFailed = EventEnvelope<'order.payment-failed', z.infer<typeof orderPaymentFailedData>>;
export type OrderStatusChanged = EventEnvelope<'order.status-changed', z.infer<typeof orderStatusChangedData>>;
export type OrderCancelled = EventEnvelope<'order.cancelled', z.infer<typeof orderCancelledData>>;
export type PaymentRefunded = EventEnvelope<'payment.refunded', z.infer<typeof paymentRefundedData>>;
export type NotificationSent = EventEnvelope<'notification.sent', z.infer<typeof notificationSentData>>;
export type OrderTransitionRequested = EventEnvelope<'order.transition-requested', z.infer<typeof orderTransitionRequestedData>>;
export type OrderTransitionDecided = EventEnvelope<'order.transition-decided', z.infer<typeof orderTransitionDecidedData>>;

export const orderPlaced = (data: OrderPlaced['data'], options?: EnvelopeOptions): OrderPlaced =>
  createEnvelope('order.placed', data, options);
export const orderConfirmed = (data: OrderConfirmed['data'], options?: EnvelopeOptions): OrderConfirmed =>
  createEnvelope('order.confirmed', data, options);
export const orderPaymentFailed = (data: OrderPaymentFailed['data'], options?: EnvelopeOptions): OrderPaymentFailed =>
  createEnvelope('order.payment-failed', data, options);
export const orderStatusChanged = (data: OrderStatusChanged['data'], options?: EnvelopeOptions): OrderStatusChanged =>
  createEnvelope('order.status-changed', data, options);
export const orderCancelled = (data: OrderCancelled['data'], options?: EnvelopeOptions): OrderCancelled =>
  createEnvelope('order.cancelled', data, options);
export const paymentRefunded = (data: PaymentRefunded['data'], options?: EnvelopeOptions): PaymentRefunded =>
  createEnvelope('payment.refunded', data, options);
export const notificationSent = (data: NotificationSent['data'], options?: EnvelopeOptions): NotificationSent =>
  createEnvelope('notification.sent', data, options);
export const orderTransitionRequested = (data: OrderTransitionRequested['data'], options?: EnvelopeOptions): OrderTransitionRequested =>
  createEnvelope('order.transition-requested', data, options);
export const orderTransitionDecided = (data: OrderTransitionDecided['data'], options?: EnvelopeOptions): OrderTransitionDecided =>
  createEnvelope('order.transition-decided', data, options);

/**
 * A transition request's id: the same order, target status and requester make the same
 * request, so a requester that retries (after a timeout, a crash, a redelivery) is answered as
 * it was the first time.
 */
export const transitionRequestId = (orderId: string, to: string, requestedBy: string): string => stableEventId('transition-request', orderId, to, requestedBy);
