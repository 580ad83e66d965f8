import 'reflect-metadata';
import { Args, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireRole } from '../auth/guards';
import type { Viewer } from '../auth/viewer';
import { InvalidInputError, OrderTransitionError } from '../domain/domain.errors';
import { FULFILMENT_STEPS } from '../domain/order-status';
import { ORDER_LIMITS } from '../domain/pricing';
import { checkText } from '../domain/text-input';
import type { OrderTransitionDecided } from '../events/order-events';
import type { OrderDocument } from '../mongo/models/order.model';
import { AdvanceOrderArgs, CancelOrderArgs } from '../schema/order-args';
import { Order, orderViewOf } from '../schema/order.type';
import type { ApiContext } from './context';
import { findVisibleOrder } from './order-access';
import { requestTransition } from './transition-requests';

/** The order as its authority decided it: the read model's view, moved by the decided transition. */
function asDecided(doc: OrderDocument, decided: OrderTransitionDecided['data']): Order {
  const view = orderViewOf(doc);
  const at = new Date(decided.decidedAt);
  return Order.from({ ...view, status: decided.to, statusHistory: [...view.statusHistory, { status: decided.to, at, reason: decided.reason }], updatedAt: at });
}

function checkReason(reason: string | null | undefined): string | null {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length > ORDER_LIMITS.maxReasonLength) {
    throw new InvalidInputError('reason', `reason must be at most ${ORDER_LIMITS.maxReasonLength} characters`);
  }
  return checkText('reason', trimmed) || null;
}

/**
 * Status changes asked for by people. Each finds the order the caller may see in the read
 * model, asks the order's one authority for the transition, and answers with its decision:
 * the order as decided, CONFLICT naming the transition that won a race, or UNAVAILABLE (safe
 * to retry) when no decision came within ORDER_DECISION_TIMEOUT_MS.
 */
@Resolver(() => Order)
export class OrderLifecycleResolver {
  @Mutation(() => Order, { description: 'CUSTOMER (own order) or ADMIN, while PLACED or CONFIRMED.' })
  async cancelOrder(
    @Args(() => CancelOrderArgs) { id, reason }: CancelOrderArgs,
    @Ctx() { identity, services }: ApiContext,
  ): Promise<Order> {
    const viewer: Viewer = requireRole(identity, ['CUSTOMER', 'ADMIN'], 'cancelOrder');
    // One budget with placeOrder, spent before the order is looked up.
    await services.rateLimits.orderMutations.consume(viewer.id);
    const why = checkReason(reason);
    const order = await findVisibleOrder(services, viewer, id);
    const decided = await requestTransition(services, { order, action: 'cancel', describedAs: 'cancel', to: 'CANCELLED', reason: why, requestedBy: viewer.id });
    return asDecided(order, decided);
  }

  @Mutation(() => Order, {
    description: 'RESTAURANT (own restaurant) or ADMIN: CONFIRMED -> PREPARING -> OUT_FOR_DELIVERY -> DELIVERED. Any other transition is refused.',
  })
  async advanceOrder(
    @Args(() => AdvanceOrderArgs) { id, status }: AdvanceOrderArgs,
    @Ctx() { identity, services }: ApiContext,
  ): Promise<Order> {
    const viewer = requireRole(identity, ['RESTAURANT', 'ADMIN'], 'advanceOrder');
    const order = await findVisibleOrder(services, viewer, id);
    if (!FULFILMENT_STEPS.includes(status)) throw new OrderTransitionError(order.status, `advance to ${status}`);
    const decided = await requestTransition(services, { order, action: 'advance', describedAs: `advance to ${status}`, to: status, reason: null, requestedBy: viewer.id });
    return asDecided(order, decided);
  }
}
