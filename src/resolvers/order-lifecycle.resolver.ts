import 'reflect-metadata';
import { Args, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireRole } from '../auth/guards';
import type { Viewer } from '../auth/viewer';
import { InvalidInputError } from '../domain/domain.errors';
import { advanceOrder, cancelOrder, type Transition } from '../domain/order';
import { ORDER_LIMITS } from '../domain/pricing';
import { orderCancelled, orderStatusChanged } from '../events/order-events';
import { TOPICS } from '../events/topics';
import type { OutgoingEvent } from '../kafka/event-producer';
import type { OrderDocument } from '../mongo/models/order.model';
import { AdvanceOrderArgs, CancelOrderArgs } from '../schema/order-args';
import { Order, orderViewOf } from '../schema/order.type';
import type { ApiContext } from './context';
import { findVisibleOrder } from './order-access';

function statusChangedEvent(t: Transition): OutgoingEvent {
  const event = orderStatusChanged({
    orderId: t.orderId,
    customerId: t.customerId,
    restaurantId: t.restaurantId,
    status: t.to,
    previousStatus: t.from,
    reason: t.reason,
    at: t.at,
  });
  return { topic: TOPICS.orderStatusChanged, key: t.orderId, event };
}

/** The order as it will be once the projector applies the transition. */
function afterTransition(doc: OrderDocument, t: Transition): Order {
  const view = orderViewOf(doc);
  const at = new Date(t.at);
  return Order.from({ ...view, status: t.to, statusHistory: [...view.statusHistory, { status: t.to, at, reason: t.reason }], updatedAt: at });
}

function checkReason(reason: string | null | undefined): string | null {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length > ORDER_LIMITS.maxReasonLength) {
    throw new InvalidInputError('reason', `reason must be at most ${ORDER_LIMITS.maxReasonLength} characters`);
  }
  return trimmed || null;
}

/**
 * Status changes asked for by people. Each reads the order from the read model, lets the
 * order aggregate decide (CONFLICT naming the from-state and the asked transition), and
 * produces the resulting events; the projector moves the read model.
 */
@Resolver(() => Order)
export class OrderLifecycleResolver {
  @Mutation(() => Order, { description: 'CUSTOMER (own order) or ADMIN, while PLACED or CONFIRMED.' })
  async cancelOrder(
    @Args(() => CancelOrderArgs) { id, reason }: CancelOrderArgs,
    @Ctx() { identity, services }: ApiContext,
  ): Promise<Order> {
    const viewer: Viewer = requireRole(identity, ['CUSTOMER', 'ADMIN'], 'cancelOrder');
    const why = checkReason(reason);
    const doc = await findVisibleOrder(services, viewer, id);
    const t = cancelOrder({ id: doc._id, customerId: doc.customerId, restaurantId: doc.restaurantId, status: doc.status }, why, services.now().toISOString());
    const cancelled = orderCancelled({
      orderId: t.orderId,
      customerId: t.customerId,
      restaurantId: t.restaurantId,
      reason: t.reason,
      cancelledBy: viewer.id,
      cancelledAt: t.at,
    });
    await services.events.publish([{ topic: TOPICS.orderCancelled, key: t.orderId, event: cancelled }, statusChangedEvent(t)]);
    return afterTransition(doc, t);
  }

  @Mutation(() => Order, {
    description: 'RESTAURANT (own restaurant) or ADMIN: CONFIRMED -> PREPARING -> OUT_FOR_DELIVERY -> DELIVERED. Any other transition is refused.',
  })
  async advanceOrder(
    @Args(() => AdvanceOrderArgs) { id, status }: AdvanceOrderArgs,
    @Ctx() { identity, services }: ApiContext,
  ): Promise<Order> {
    const viewer = requireRole(identity, ['RESTAURANT', 'ADMIN'], 'advanceOrder');
    const doc = await findVisibleOrder(services, viewer, id);
    const t = advanceOrder({ id: doc._id, customerId: doc.customerId, restaurantId: doc.restaurantId, status: doc.status }, status, services.now().toISOString());
    await services.events.publish([statusChangedEvent(t)]);
    return afterTransition(doc, t);
  }
}
