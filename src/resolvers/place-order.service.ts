import { randomUUID } from 'node:crypto';
import type { Viewer } from '../auth/viewer';
import { CURRENCY } from '../domain/catalog';
import { InvalidInputError } from '../domain/domain.errors';
import { priceOrder, type PricedItem } from '../domain/pricing';
import { AppError } from '../errors';
import { orderPlaced } from '../events/order-events';
import { withTimeout } from '../retry';
import { TOPICS } from '../events/topics';
import type { OutgoingEvent } from '../kafka/event-producer';
import type { IdempotencyDocument } from '../mongo/models/idempotency.model';
import { orderViewOf, type OrderView } from '../schema/order.type';
import type { ApiServices } from './context';
import { orderIdForKey, placedEventIdFor, requestHash } from './order-id';
import { checkPlaceOrderInput } from './place-order.request';
import { judgeRepeat } from './place-order.repeat';
import { ConflictError } from './resolver.errors';

/** Everything order.placed carries. */
interface NewOrder {
  readonly orderId: string;
  readonly eventId: string;
  readonly customerId: string;
  readonly customerEmail: string | null;
  readonly restaurantId: string;
  readonly items: readonly PricedItem[];
  readonly totalCents: number;
  readonly currency: string;
  readonly deliveryAddress: string;
  readonly paymentToken: string;
  readonly idempotencyKey: string | null;
  readonly placedAt: Date;
}

/**
 * Kafka did not acknowledge the order in time. The send may still complete, so the order may
 * exist: a client that retries with the same idempotency key gets that order exactly once.
 */
export class PlacementUnknownError extends AppError {
  constructor(timeoutMs: number, keyed: boolean) {
    const advice = keyed
      ? 'retry with the same idempotencyKey: you will get that order, placed once'
      : 'it may still be placed: send an idempotencyKey (or an Idempotency-Key header) so that a retry cannot place it twice';
    super('UNAVAILABLE', `the order service did not confirm the order within ${timeoutMs} ms; ${advice}`, { retriable: true });
  }
}

/** Produces the order's event, waiting at most PUBLISH_TIMEOUT_MS for Kafka's acknowledgement. */
async function publishOrder(services: ApiServices, order: NewOrder): Promise<void> {
  const timeoutMs = services.config.kafka.publishTimeoutMs;
  await withTimeout(services.events.publish([placedEvent(order)]), timeoutMs, () => new PlacementUnknownError(timeoutMs, order.idempotencyKey !== null));
}

class ClaimStillPending extends AppError {
  constructor() {
    super('CONFLICT', 'an order with this idempotency key is being placed by another request right now; try again shortly', { retriable: true });
  }
}

function placedEvent(order: NewOrder): OutgoingEvent {
  const event = orderPlaced(
    {
      orderId: order.orderId,
      customerId: order.customerId,
      customerEmail: order.customerEmail,
      restaurantId: order.restaurantId,
      items: [...order.items],
      totalCents: order.totalCents,
      currency: order.currency,
      paymentToken: order.paymentToken,
      deliveryAddress: order.deliveryAddress,
      idempotencyKey: order.idempotencyKey,
      placedAt: order.placedAt.toISOString(),
    },
    { id: order.eventId, occurredAt: order.placedAt.toISOString() },
  );
  return { topic: TOPICS.orderPlaced, key: order.orderId, event };
}

function placedView(order: NewOrder): OrderView {
  return {
    id: order.orderId,
    customerId: order.customerId,
    restaurantId: order.restaurantId,
    items: order.items,
    totalCents: order.totalCents,
    currency: order.currency,
    deliveryAddress: order.deliveryAddress,
    status: 'PLACED',
    statusHistory: [{ status: 'PLACED', at: order.placedAt, reason: null }],
    createdAt: order.placedAt,
    updatedAt: order.placedAt,
  };
}

/**
 * placeOrder: checks and prices the request from the catalog (cached: no store round trip),
 * then produces order.placed and returns once Kafka acknowledged it. With an idempotency key
 * the key is claimed first (see placeOnce); that claim is the only store write in the
 * request, the order itself is only the event.
 */
export async function placeOrder(services: ApiServices, viewer: Viewer, input: Parameters<typeof checkPlaceOrderInput>[0]): Promise<OrderView> {
  const request = checkPlaceOrderInput(input);
  const restaurant = await services.restaurantById(request.restaurantId);
  if (!restaurant) throw new InvalidInputError('restaurantId', `there is no restaurant "${request.restaurantId}"`);
  const priced = priceOrder(restaurant, request.lines);
  const orderId = request.idempotencyKey === null ? randomUUID() : orderIdForKey(viewer.id, request.idempotencyKey);
  const order: NewOrder = {
    orderId,
    eventId: request.idempotencyKey === null ? randomUUID() : placedEventIdFor(orderId),
    customerId: viewer.id,
    customerEmail: viewer.email,
    restaurantId: request.restaurantId,
    items: priced.items,
    totalCents: priced.totalCents,
    currency: CURRENCY,
    deliveryAddress: request.deliveryAddress,
    paymentToken: request.paymentToken,
    idempotencyKey: request.idempotencyKey,
    placedAt: services.now(),
  };
  if (request.idempotencyKey === null) {
    await publishOrder(services, order);
    return placedView(order);
  }
  return placeOnce(services, order, requestHash(request));
}

/**
 * Claims customer + key (a unique document; one store round trip, shared with concurrent
 * requests), then produces. A repeat finds the claim and is judged (judgeRepeat): the key is
 * claimed at most twice, the second time only when the claim it found had gone. The order id
 * and event id are derived from customer + key, so every send of a keyed order names the same
 * order, which is charged once.
 */
async function placeOnce(services: ApiServices, order: NewOrder, hash: string): Promise<OrderView> {
  const claim: IdempotencyDocument = {
    _id: order.orderId,
    customerId: order.customerId,
    key: order.idempotencyKey as string,
    requestHash: hash,
    order: { ...order, items: [...order.items] },
    claimedAt: order.placedAt,
  };
  for (const claimedAgain of [false, true]) {
    if (await services.keyClaims(claim)) {
      // If Kafka does not acknowledge (or not in time), the claim stays: the send may have been
      // appended all the same, and the client's retry under this key re-sends this very event.
      await publishOrder(services, order);
      return placedView(order);
    }
    const found = await services.idempotency.findById(order.orderId).lean<IdempotencyDocument>();
    const verdict = judgeRepeat(found, hash, claimedAgain);
    if (verdict.kind === 'claim-again') continue;
    if (verdict.kind === 'conflict') throw new ConflictError(`the idempotency key "${order.idempotencyKey}" was already used for a different order`);
    if (verdict.kind === 'wait') break;
    return answerRepeat(services, firstOrder(verdict.first, order));
  }
  throw new ClaimStillPending();
}

function firstOrder(claim: IdempotencyDocument, repeat: NewOrder): NewOrder {
  // Same hash, so restaurant, lines, address and payment token are those of the first request.
  return { ...repeat, ...claim.order, orderId: claim._id, eventId: claim.order.eventId, placedAt: claim.order.placedAt };
}

/** The same event again: acknowledged before this answer, whatever became of the first send. */
async function answerRepeat(services: ApiServices, first: NewOrder): Promise<OrderView> {
  await publishOrder(services, first);
  const projected = await services.orders.findById(first.orderId).lean();
  return projected ? orderViewOf(projected) : placedView(first);
}
