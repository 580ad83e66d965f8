import { CURRENCY } from '../domain/catalog';
import { applyStatusChange, type StatusChange } from '../domain/order';
import type { OrderStatus } from '../domain/order-status';
import type { OrderPlaced, OrderStatusChanged } from '../events/order-events';
import type { ConsumerModule } from '../kafka/consumer-runner';
import { orderModel, type OrderDocument, type OrderModel } from '../mongo/models/order.model';
import { isDuplicateKeyError } from '../mongo/mongo-errors';
import { ConcurrentUpdateError } from './consumer.errors';

/*
 * The orders projector: order.placed and order.status-changed → the `orders` read model.
 *
 * The two topics are read independently, so a status change may arrive before the placement
 * it follows. The model ends the same whatever the order: a status change for an unknown order
 * creates it at PLACED first (its PLACED time, creation time and details are filled in when
 * order.placed arrives), order.placed never touches the status, and updatedAt only moves
 * forward ($max). Status changes apply only when legal from the current status, with the
 * update conditional on that status, so duplicates, late events and a concurrent instance
 * cannot apply one twice.
 */

type ProjectorTopic = 'order.placed' | 'order.status-changed';

/** What the projector knows of a stored order. */
export type StoredOrder = Pick<OrderDocument, '_id' | 'status' | 'detailsKnown'> | null;

type Details = Pick<OrderDocument, 'customerId' | 'restaurantId' | 'items' | 'totalCents' | 'currency' | 'deliveryAddress'>;
type HistoryEntry = OrderDocument['statusHistory'][number];

export type ProjectorEffects =
  /** First news of the order: create it, PLACED, with its details. */
  | { readonly kind: 'create-placed'; readonly orderId: string; readonly details: Details; readonly placedAt: Date }
  /** Created earlier by a status change: fill in the details and the true PLACED time. */
  | { readonly kind: 'fill-details'; readonly orderId: string; readonly details: Details; readonly placedAt: Date }
  /** A status change for an order not seen yet: create it at PLACED, then with the change. */
  | { readonly kind: 'create-changed'; readonly orderId: string; readonly customerId: string; readonly restaurantId: string; readonly change: HistoryEntry }
  | { readonly kind: 'apply-change'; readonly orderId: string; readonly expectedStatus: OrderStatus; readonly change: HistoryEntry }
  | { readonly kind: 'ignore'; readonly reason: string };

function detailsOf(placed: OrderPlaced['data']): Details {
  const { customerId, restaurantId, items, totalCents, currency, deliveryAddress } = placed;
  return { customerId, restaurantId, items: items.map((i) => ({ ...i })), totalCents, currency, deliveryAddress };
}

/** PURE: what order.placed changes in the read model. */
export function projectPlaced(placed: OrderPlaced, stored: StoredOrder): ProjectorEffects {
  const { orderId, placedAt } = placed.data;
  if (!stored) return { kind: 'create-placed', orderId, details: detailsOf(placed.data), placedAt: new Date(placedAt) };
  if (stored.detailsKnown) return { kind: 'ignore', reason: 'details already projected' };
  return { kind: 'fill-details', orderId, details: detailsOf(placed.data), placedAt: new Date(placedAt) };
}

/** PURE: what order.status-changed changes in the read model; illegal (duplicate, late) changes change nothing. */
export function projectStatusChange(changed: OrderStatusChanged, stored: StoredOrder): ProjectorEffects {
  const { orderId, customerId, restaurantId, status, reason, at } = changed.data;
  const change: StatusChange = { status, at, reason };
  const current = { status: stored?.status ?? 'PLACED', statusHistory: [] as StatusChange[] };
  if (!applyStatusChange(current, change)) return { kind: 'ignore', reason: `${status} is not a next status of ${current.status}` };
  const entry = { status, at: new Date(at), reason };
  if (!stored) return { kind: 'create-changed', orderId, customerId, restaurantId, change: entry };
  return { kind: 'apply-change', orderId, expectedStatus: stored.status, change: entry };
}

/**
 * Inserts a new order; finding it already there means: decide again. (An insert, not an
 * upsert with $setOnInsert: FerretDB v1 drops empty arrays from the latter, e.g. `items: []`.)
 */
async function insertOnly(orders: OrderModel, orderId: string, doc: Omit<OrderDocument, '_id'>): Promise<void> {
  try {
    await orders.create([{ _id: orderId, ...doc }], { timestamps: false });
  } catch (error) {
    throw isDuplicateKeyError(error) ? new ConcurrentUpdateError(`order ${orderId}`) : error;
  }
}

async function writeProjection(effects: ProjectorEffects, orders: OrderModel): Promise<ProjectorEffects> {
  switch (effects.kind) {
    case 'create-placed': {
      const placed = { status: 'PLACED' as const, at: effects.placedAt, reason: null };
      const { placedAt } = effects;
      await insertOnly(orders, effects.orderId, {
        ...effects.details,
        status: 'PLACED',
        statusHistory: [placed],
        detailsKnown: true,
        createdAt: placedAt,
        updatedAt: placedAt,
      });
      break;
    }
    case 'fill-details': {
      const { placedAt } = effects;
      // statusHistory[0] is always the PLACED entry; until now it held the first change's time.
      const set = { ...effects.details, detailsKnown: true, createdAt: placedAt, 'statusHistory.0.at': placedAt };
      await orders.updateOne(
        { _id: effects.orderId, detailsKnown: false },
        { $set: set, $max: { updatedAt: placedAt } },
        { timestamps: false, overwriteImmutable: true }, // createdAt is immutable under mongoose timestamps
      );
      break;
    }
    case 'create-changed': {
      const { change, customerId, restaurantId } = effects;
      const placed = { status: 'PLACED' as const, at: change.at, reason: null };
      await insertOnly(orders, effects.orderId, {
        customerId,
        restaurantId,
        items: [],
        totalCents: 0,
        currency: CURRENCY,
        deliveryAddress: '',
        status: change.status,
        statusHistory: [placed, change],
        detailsKnown: false,
        createdAt: change.at,
        updatedAt: change.at,
      });
      break;
    }
    case 'apply-change': {
      const { orderId, expectedStatus, change } = effects;
      const result = await orders.updateOne(
        { _id: orderId, status: expectedStatus },
        { $set: { status: change.status }, $push: { statusHistory: change }, $max: { updatedAt: change.at } },
        { timestamps: false },
      );
      if (result.modifiedCount === 0) throw new ConcurrentUpdateError(`order ${orderId}`);
      break;
    }
    case 'ignore':
      break;
  }
  return effects;
}

export function createOrdersProjector(): ConsumerModule<ProjectorTopic, { orders: OrderModel }, StoredOrder, ProjectorEffects> {
  return {
    name: 'orders-projector',
    topics: ['order.placed', 'order.status-changed'],
    async setup({ connection }) {
      const orders = orderModel(connection);
      await orders.init();
      return { orders };
    },
    load: (message, { orders }) =>
      orders.findById(message.event.data.orderId, { status: 1, detailsKnown: 1 }).lean<Pick<OrderDocument, '_id' | 'status' | 'detailsKnown'>>(),
    decide: (message, stored) => (message.event.type === 'order.placed' ? projectPlaced(message.event, stored) : projectStatusChange(message.event, stored)),
    persist: (effects, { orders }) => writeProjection(effects, orders),
    emits: () => [],
    describe(effects) {
      switch (effects.kind) {
        case 'ignore':
          return `ignored: ${effects.reason}`;
        case 'apply-change':
          return `${effects.expectedStatus} → ${effects.change.status}`;
        case 'create-changed':
          return `created at PLACED → ${effects.change.status} (order.placed not seen yet)`;
        default:
          return effects.kind === 'create-placed' ? 'created, PLACED' : 'details filled in';
      }
    },
  };
}
