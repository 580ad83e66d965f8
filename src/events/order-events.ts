import { z } from 'zod';
import { TRANSITION_ACTIONS } from '../domain/order-authority';
import { cents, id, isoTime, orderStatus, pricedItem } from './event-parts';
import { defineEvent, schemasOf, stableEventId, type EventOfDefinition } from './envelope';

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

/** Each event's constructor, `type` (its topic) and schema; the type literal is the wire name. */
export const orderPlaced = defineEvent('order.placed', orderPlacedData);
export const orderConfirmed = defineEvent('order.confirmed', orderConfirmedData);
export const orderPaymentFailed = defineEvent('order.payment-failed', orderPaymentFailedData);
export const orderStatusChanged = defineEvent('order.status-changed', orderStatusChangedData);
export const orderCancelled = defineEvent('order.cancelled', orderCancelledData);
export const paymentRefunded = defineEvent('payment.refunded', paymentRefundedData);
export const notificationSent = defineEvent('notification.sent', notificationSentData);
export const orderTransitionRequested = defineEvent('order.transition-requested', orderTransitionRequestedData);
export const orderTransitionDecided = defineEvent('order.transition-decided', orderTransitionDecidedData);

export type OrderPlaced = EventOfDefinition<typeof orderPlaced>;
export type OrderConfirmed = EventOfDefinition<typeof orderConfirmed>;
export type OrderPaymentFailed = EventOfDefinition<typeof orderPaymentFailed>;
export type OrderStatusChanged = EventOfDefinition<typeof orderStatusChanged>;
export type OrderCancelled = EventOfDefinition<typeof orderCancelled>;
export type PaymentRefunded = EventOfDefinition<typeof paymentRefunded>;
export type NotificationSent = EventOfDefinition<typeof notificationSent>;
export type OrderTransitionRequested = EventOfDefinition<typeof orderTransitionRequested>;
export type OrderTransitionDecided = EventOfDefinition<typeof orderTransitionDecided>;

export const orderEventSchemas = schemasOf(
  orderPlaced,
  orderConfirmed,
  orderPaymentFailed,
  orderStatusChanged,
  orderCancelled,
  paymentRefunded,
  notificationSent,
  orderTransitionRequested,
  orderTransitionDecided,
);

/**
 * A transition request's id: the same order, target status and requester make the same
 * request, so a requester that retries (after a timeout, a crash, a redelivery) is answered as
 * it was the first time.
 */
export const transitionRequestId = (orderId: string, to: string, requestedBy: string): string => stableEventId('transition-request', orderId, to, requestedBy);
