import { requireViewer } from '../auth/guards';
import { canSeeOrder } from '../auth/viewer';
import type { OrderStatusChanged } from '../events/order-events';
import { TOPICS } from '../events/topics';
import type { OrderDocument } from '../mongo/models/order.model';
import type { ApiContext } from './context';
import { checkId } from '../domain/text-input';
import { NotFoundError } from './resolver.errors';
import { transformStream, type EventStream } from '../subscriptions/event-stream';
import { StatusTracker, type StatusUpdate } from '../subscriptions/status-tracker';
import { followedOrderKeys, visibleOrderKeys } from '../subscriptions/subscriber-index';

export function statusUpdateOf({ data }: OrderStatusChanged): StatusUpdate {
  const { orderId, customerId, restaurantId, status, at, reason } = data;
  return { orderId, customerId, restaurantId, status, at, reason };
}

const updates = new WeakMap<OrderStatusChanged, StatusUpdate>();

/**
 * One update object per event, whichever streams pass it on: subscribers that asked the same
 * then get one shared execution and serialisation (src/subscriptions/shared-execution.ts).
 */
function sharedUpdateOf(event: OrderStatusChanged): StatusUpdate {
  let update = updates.get(event);
  if (!update) updates.set(event, (update = statusUpdateOf(event)));
  return update;
}

/** The read model's latest state of an order, as a status update. */
function latestOf(doc: OrderDocument): StatusUpdate {
  const last = doc.statusHistory.at(-1);
  return {
    orderId: doc._id,
    customerId: doc.customerId,
    restaurantId: doc.restaurantId,
    status: doc.status,
    at: (last?.at ?? doc.updatedAt).toISOString(),
    reason: last?.reason ?? null,
  };
}

/**
 * How long a subscription to an order that neither the read model nor this instance knows
 * waits for the order's first change before NOT_FOUND: a just-placed order may not be projected
 * yet, and its confirmation follows within moments.
 */
export const UNKNOWN_ORDER_WAIT_MS = 2500;

/** The stream's next event, or null when none came within `ms` (the stream stays usable). */
async function nextWithin<T>(events: EventStream<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    const next = await Promise.race([events.next(), timeout]);
    return next === null || next.done ? null : next.value;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * orderStatusChanged. Without an order id: every visible order's changes from now on. With
 * one: the order's current status first, then each later change, with no gap and no
 * duplicate. Order matters: (1) subscribe, so every later event is buffered; (2) read the
 * current state (read model, plus changes this instance consumed that the projector may not
 * have applied yet); (3) send it, then let through only buffered and new changes that are
 * legal next steps from it, which drops those already reflected.
 *
 * A subscribe costs one store read at most, whatever the order id: an order the read model
 * does not have is waited for on the stream already subscribed (its next change is its current
 * status), not read again, so subscribing to made-up ids cannot multiply reads.
 */
export async function orderStatusStream(context: ApiContext, orderId: string | null): Promise<EventStream<StatusUpdate>> {
  const viewer = requireViewer(context.identity);
  if (orderId !== null) checkId('orderId', orderId);
  const { pubSub, orders, recentStatus } = context.services;
  // Routed by key: every change the viewer may see (canSeeOrder as keys), or the one order's
  // (whether the viewer may see it is checked below, before anything is sent).
  const events = pubSub.subscribe(TOPICS.orderStatusChanged, orderId === null ? visibleOrderKeys(viewer) : followedOrderKeys(orderId));
  try {
    if (orderId === null) return transformStream(events, sharedUpdateOf);
    const doc = await orders.findById(orderId).lean();
    const known = new StatusTracker(doc ? latestOf(doc) : null);
    for (const change of recentStatus.of(orderId)) known.accept(change);
    const arrived = known.latest() ? null : await nextWithin(events, UNKNOWN_ORDER_WAIT_MS);
    const start = known.latest() ?? (arrived ? sharedUpdateOf(arrived) : null);
    if (!start || !canSeeOrder(viewer, start)) throw new NotFoundError('order', orderId);
    const tracker = new StatusTracker(start);
    return transformStream(
      events,
      (event) => {
        const update = sharedUpdateOf(event);
        return tracker.accept(update) ? update : undefined;
      },
      [start],
    );
  } catch (error) {
    await events.return();
    throw error;
  }
}
