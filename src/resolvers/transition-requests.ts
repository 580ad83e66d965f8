import { couldStillTransition, type TransitionAction } from '../domain/order-authority';
import { OrderTransitionError } from '../domain/domain.errors';
import type { OrderStatus } from '../domain/order-status';
import { AppError } from '../errors';
import { stableEventId } from '../events/envelope';
import { orderTransitionRequested, transitionRequestId, type OrderTransitionDecided } from '../events/order-events';
import { TOPICS } from '../events/topics';
import type { OrderDocument } from '../mongo/models/order.model';
import { withTimeout } from '../retry';
import { routingKey } from '../subscriptions/subscriber-index';
import type { ApiServices } from './context';
import { ConflictError } from './resolver.errors';

/**
 * The order's authority did not answer in time (Kafka or the authority down or far behind).
 * The request may still be decided: the same request sent again is recognised (its id derives
 * from the order, the target status and the requester) and answered as decided.
 */
export class DecisionUnknownError extends AppError {
  constructor(action: string, timeoutMs: number) {
    super(
      'UNAVAILABLE',
      `the order service did not decide the ${action} within ${timeoutMs} ms; it may still be decided: send the same request again to learn the outcome`,
      { retriable: true },
    );
  }
}

export interface PersonRequest {
  readonly order: OrderDocument;
  readonly action: Extract<TransitionAction, 'cancel' | 'advance'>;
  /** What the action is called in a refusal: `cancel`, `advance to PREPARING`. */
  readonly describedAs: string;
  readonly to: OrderStatus;
  readonly reason: string | null;
  readonly requestedBy: string;
}

/**
 * Asks the order's authority (consumers/order-authority.consumer.ts) for a transition and waits
 * for its decision, at most ORDER_DECISION_TIMEOUT_MS. The read model (which lags but never
 * leads) is used only to refuse at once what can never become legal.
 *
 * Accepted: the decision. Refused: CONFLICT naming the transition that won. No decision in time:
 * UNAVAILABLE, safe to retry.
 */
export async function requestTransition(services: ApiServices, request: PersonRequest): Promise<OrderTransitionDecided['data']> {
  const { order, action, to } = request;
  // Already at `to`: maybe by this very request (a retry), which the authority answers as decided.
  if (order.status !== to && !couldStillTransition(order.status, to)) throw new OrderTransitionError(order.status, request.describedAs);
  const requestId = transitionRequestId(order._id, to, request.requestedBy);
  const event = orderTransitionRequested(
    {
      requestId,
      orderId: order._id,
      customerId: order.customerId,
      restaurantId: order.restaurantId,
      action,
      to,
      reason: request.reason,
      requestedBy: request.requestedBy,
      requestedAt: services.now().toISOString(),
      confirmation: null,
    },
    { id: stableEventId(TOPICS.orderTransitionRequested, requestId) },
  );
  // Listening before asking: the decision cannot arrive before we listen.
  const decisions = services.pubSub.subscribe(TOPICS.orderTransitionDecided, [routingKey.order(order._id)]);
  const timeoutMs = services.config.kafka.decisionTimeoutMs;
  try {
    const decided = await withTimeout(
      (async () => {
        await services.events.publish([{ topic: TOPICS.orderTransitionRequested, key: order._id, event }]);
        for await (const decision of decisions) if (decision.data.requestId === requestId) return decision.data;
        return null; // the stream ended: the API is stopping or its subscriptions failed
      })(),
      timeoutMs,
      () => new DecisionUnknownError(action, timeoutMs),
    );
    if (!decided) throw new DecisionUnknownError(action, timeoutMs);
    if (!decided.accepted) throw new ConflictError(decided.problem ?? `cannot ${request.describedAs} an order that is ${decided.status}`);
    return decided;
  } finally {
    await decisions.return();
  }
}
