import { randomUUID } from 'node:crypto';
import type { Viewer } from '../auth/viewer';
import { CURRENCY } from '../domain/catalog';
import { InvalidInputError } from '../domain/domain.errors';
import { priceOrder, type PricedItem } from '../domain/pricing';
import { AppError } from '../errors';
import { orderPlaced } from '../events/order-events';
import { TOPICS } from '../events/topics';
import type { OutgoingEvent } from '../kafka/event-producer';
import type { IdempotencyDocument } from '../mongo/models/idempotency.model';
import { toRestaurant } from '../mongo/models/restaurant.model';
import { withRetry } from '../retry';
import { orderViewOf, type OrderView } from '../schema/order.type';
import type { ApiServices } from './context';
import { orderIdForKey, placedEventIdFor, requestHash } from './order-id';
import { checkPlaceOrderInput, type PlaceOrderRequest } from './place-order.request';
import { ConflictError } from './resolver.errors';

/** A pending claim older than this is taken to be from a request that died before Kafka answered. */
export const STALE_CLAIM_MS = 30_000;

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

class ClaimStillPending extends AppError {
  constructor() {
    super('CONFLICT', 'an order with this idempotency key is still being placed; try again shortly', { retriable: true });
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
 * placeOrder: checks and prices the request from the catalog, then produces order.placed and
 * returns once Kafka acknowledged it. With an idempotency key the key is claimed first (see
 * placeOnce); that claim is the only Mongo write, the order itself is only the event.
 */
export async function placeOrder(services: ApiServices, viewer: Viewer, input: Parameters<typeof checkPlaceOrderInput>[0]): Promise<OrderView> {
  const request = checkPlaceOrderInput(input);
  const restaurant = await services.restaurants.findById(request.restaurantId).lean();
  if (!restaurant) throw new InvalidInputError('restaurantId', `there is no restaurant "${request.restaurantId}"`);
  const priced = priceOrder(toRestaurant(restaurant), request.lines);
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
    await services.events.publish([placedEvent(order)]);
    return placedView(order);
  }
  return placeOnce(services, order, requestHash(request));
}

/**
 * Claims customer + key (a unique document), produces, marks the claim published. A repeat
 * finds the claim and answers with the first order; a different request under the same key
 * is a CONFLICT. The order id is derived from customer + key, so even the rare re-produce
 * (a claim left pending by a crash) names the same order and is charged once.
 */
async function placeOnce(services: ApiServices, order: NewOrder, hash: string, attempt = 0): Promise<OrderView> {
  const claimedAt = order.placedAt;
  try {
    await services.idempotency.create({
      _id: order.orderId,
      customerId: order.customerId,
      key: order.idempotencyKey as string,
      requestHash: hash,
      state: 'pending',
      order: { ...order, items: [...order.items] },
      claimedAt,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 11000) throw error;
    return answerRepeat(services, order, hash, attempt);
  }
  await publishClaimed(services, order, claimedAt);
  return placedView(order);
}

async function publishClaimed(services: ApiServices, order: NewOrder, claimedAt: Date): Promise<void> {
  try {
    await services.events.publish([placedEvent(order)]);
  } catch (error) {
    // Nothing was acknowledged: free the key so that the client's retry places the order.
    await services.idempotency
      .deleteOne({ _id: order.orderId, state: 'pending', claimedAt })
      .catch((e: unknown) => services.log.warn({ err: e, orderId: order.orderId }, 'could not free an idempotency claim'));
    throw error;
  }
  // If this write is lost the claim stays pending; a later repeat re-produces the same event.
  await services.idempotency
    .updateOne({ _id: order.orderId }, { $set: { state: 'published' } })
    .catch((e: unknown) => services.log.warn({ err: e, orderId: order.orderId }, 'could not mark an idempotency claim published'));
}

function firstOrder(claim: IdempotencyDocument, repeat: NewOrder): NewOrder {
  // Same hash, so restaurant, lines, address and payment token are those of the first request.
  return { ...repeat, ...claim.order, orderId: claim._id, eventId: claim.order.eventId, placedAt: claim.order.placedAt };
}

async function currentView(services: ApiServices, order: NewOrder): Promise<OrderView> {
  const projected = await services.orders.findById(order.orderId).lean();
  return projected ? orderViewOf(projected) : placedView(order);
}

async function answerRepeat(services: ApiServices, order: NewOrder, hash: string, attempt: number): Promise<OrderView> {
  const claim = await services.idempotency.findById(order.orderId).lean();
  // Freed by a first request that failed: this one may claim the key (once, not in a loop).
  if (!claim) {
    if (attempt > 0) throw new ClaimStillPending();
    return placeOnce(services, order, hash, attempt + 1);
  }
  if (claim.requestHash !== hash) {
    throw new ConflictError(`the idempotency key "${order.idempotencyKey}" was already used for a different order`);
  }
  const first = firstOrder(claim, order);
  if (claim.state === 'published') return currentView(services, first);

  if (services.now().getTime() - claim.claimedAt.getTime() > STALE_CLAIM_MS) {
    const takenAt = services.now();
    const taken = await services.idempotency.findOneAndUpdate(
      { _id: claim._id, state: 'pending', claimedAt: claim.claimedAt },
      { $set: { claimedAt: takenAt } },
    );
    if (taken) {
      await publishClaimed(services, first, takenAt);
      return placedView(first);
    }
  }
  // Another request with this key is producing right now: wait a little for its outcome.
  const outcome = await withRetry(
    async () => {
      const current = await services.idempotency.findById(claim._id).lean();
      if (current?.state === 'pending') throw new ClaimStillPending();
      return current;
    },
    { retries: 6, initialDelayMs: 50, maxDelayMs: 1000, shouldRetry: (e) => e instanceof ClaimStillPending },
  );
  if (!outcome) return answerRepeat(services, order, hash, attempt);
  return currentView(services, first);
}
