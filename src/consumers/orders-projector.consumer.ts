import { CURRENCY } from '../domain/catalog';
import { applyStatusChange, type StatusChange } from '../domain/order';
import type { OrderStatus } from '../domain/order-status';
import type { OrderPlaced, OrderStatusChanged } from '../events/order-events';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { TOPICS } from '../events/topics';
import type { mongo } from 'mongoose';
import { settledFailed, settledOk, StaleDecisionError, type ConsumerModule, type Settled } from '../kafka/consumer-module';
import { bulkUpdate, findByIds, insertEach } from '../mongo/bulk';
import { orderModel, type OrderDocument, type OrderModel } from '../mongo/models/order.model';
import { collectionOf, liveGeneration } from '../mongo/read-models';


/*
 * The orders projector: order.placed and order.status-changed → the `orders` read model.
 *
 * The two topics are read independently, so a status change may arrive before the placement
 * it follows. The model ends the same whatever the order: a status change for an unknown order
 * creates it at PLACED first (its PLACED time, creation time and details are filled in when
 * order.placed arrives), order.placed never touches the status, and updatedAt only moves
 * forward ($max). Status changes apply only when legal from the current status, with the
 * update conditional on that status, so duplicates, late events and a concurrent instance
 * cannot apply one twice. A round costs no read on its first attempt (guesses, checked by the
 * writes themselves), one insert of new orders and bulk updates of stored ones.
 */

type ProjectorTopic = (typeof CONSUMER_GROUP_TOPICS['orders-projector'])[number];

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
  | { readonly kind: 'ignore'; readonly reason: string }
  /** Decided on a guess that would change nothing: decide again on the stored order, to be sure. */
  | { readonly kind: 'recheck'; readonly orderId: string };

/** What a round of the projector decides on: the stored orders, or (first attempt) guesses. */
export interface ProjectorRound {
  readonly stored: ReadonlyMap<string, NonNullable<StoredOrder>>;
  readonly guessed: boolean;
}

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

/** A new order as inserted: every field set, since bulk inserts bypass the model's defaults. */
function newOrder(effects: Extract<ProjectorEffects, { kind: 'create-placed' | 'create-changed' }>): OrderDocument {
  if (effects.kind === 'create-placed') {
    const { placedAt } = effects;
    return {
      _id: effects.orderId,
      ...effects.details,
      status: 'PLACED',
      statusHistory: [{ status: 'PLACED', at: placedAt, reason: null }],
      detailsKnown: true,
      createdAt: placedAt,
      updatedAt: placedAt,
    };
  }
  const { change, customerId, restaurantId } = effects;
  return {
    _id: effects.orderId,
    customerId,
    restaurantId,
    items: [],
    totalCents: 0,
    currency: CURRENCY,
    deliveryAddress: '',
    status: change.status,
    statusHistory: [{ status: 'PLACED', at: change.at, reason: null }, change],
    detailsKnown: false,
    createdAt: change.at,
    updatedAt: change.at,
  };
}

/** The conditional update an effect makes to a stored order, if it makes one. */
function orderUpdate(effects: ProjectorEffects): mongo.AnyBulkWriteOperation<OrderDocument> | null {
  switch (effects.kind) {
    case 'fill-details': {
      const { placedAt } = effects;
      // statusHistory[0] is always the PLACED entry; until now it held the first change's time.
      const set = { ...effects.details, detailsKnown: true, createdAt: placedAt, 'statusHistory.0.at': placedAt };
      return { updateOne: { filter: { _id: effects.orderId, detailsKnown: false }, update: { $set: set, $max: { updatedAt: placedAt } } } };
    }
    case 'apply-change': {
      const { orderId, expectedStatus, change } = effects;
      // conditional on the status read (or guessed): a write that misses means decide again
      return {
        updateOne: {
          filter: { _id: orderId, status: expectedStatus },
          update: { $set: { status: change.status }, $push: { statusHistory: change }, $max: { updatedAt: change.at } },
        },
      };
    }
    default:
      return null;
  }
}

/**
 * Persists a round: new orders in one unordered insert (one found already there means: decide
 * again), changes to stored ones in bulk updates conditional on what was read. A status change
 * that found its order moved on (another instance, a redelivery racing) is decided again.
 */
async function writeProjections(effects: readonly ProjectorEffects[], orders: OrderModel): Promise<Settled<ProjectorEffects>[]> {
  const results = effects.map((e): Settled<ProjectorEffects> => (e.kind === 'recheck' ? settledFailed(new StaleDecisionError(`order ${e.orderId}`)) : settledOk(e)));
  const creations = effects.flatMap((e, i) => (e.kind === 'create-placed' || e.kind === 'create-changed' ? [{ i, doc: newOrder(e) }] : []));
  const updates = effects.flatMap((e, i) => {
    const update = orderUpdate(e);
    return update ? [{ i, update }] : [];
  });
  // Inserted as given, not upserted with $setOnInsert, which drops empty arrays on some MongoDB-wire servers.
  const [inserted, matched] = await Promise.all([
    insertEach(orders.collection, creations.map((c) => c.doc)),
    bulkUpdate(orders.collection, updates.map((u) => u.update)),
  ]);
  creations.forEach(({ i, doc }, n) => {
    if (!inserted[n]) results[i] = settledFailed(new StaleDecisionError(`order ${doc._id}`));
  });
  if (matched < updates.length) {
    // Some conditional update missed: a status change whose order is not at its new status now was not applied.
    const changes = updates.flatMap(({ i }) => {
      const e = effects[i]!;
      return e.kind === 'apply-change' ? [{ i, e }] : [];
    });
    const now = await findByIds(orders, changes.map((c) => c.e.orderId), { status: 1, statusHistory: 1 });
    for (const { i, e } of changes) {
      const stored = now.get(e.orderId);
      const applied = stored?.status === e.change.status && stored.statusHistory.some((h) => h.status === e.change.status);
      if (!applied) results[i] = settledFailed(new StaleDecisionError(`order ${e.orderId}`));
    }
  }
  return results;
}

export interface OrdersProjectorOptions {
  /**
   * The generation of the read model to write (src/mongo/read-models.ts): a replay names its
   * new one. @default the live generation, read from the pointer at setup
   */
  readonly generation?: string | null;
}

export function createOrdersProjector(options: OrdersProjectorOptions = {}): ConsumerModule<ProjectorTopic, { orders: OrderModel }, ProjectorRound, ProjectorEffects> {
  return {
    name: 'orders-projector',
    topics: CONSUMER_GROUP_TOPICS['orders-projector'],
    async setup({ connection, log }) {
      const generation = options.generation !== undefined ? options.generation : await liveGeneration(connection, 'orders');
      const orders = orderModel(connection, collectionOf('orders', generation));
      log.info({ collection: orders.collection.collectionName }, 'projecting orders');
      await orders.init();
      return { orders };
    },
    async load(messages, { orders }, mode) {
      // A placement is guessed new, a status change guessed to find its order at the status it
      // names as previous: the insert's unique _id and the update's condition check each guess.
      if (mode === 'guess') return { stored: new Map(), guessed: true };
      const stored = await findByIds<OrderDocument>(orders, messages.map((m) => m.event.data.orderId), { status: 1, detailsKnown: 1 });
      return { stored, guessed: false };
    },
    decide(message, { stored, guessed }) {
      const { event } = message;
      const orderId = event.data.orderId;
      if (event.type === TOPICS.orderPlaced) return projectPlaced(event, guessed ? null : (stored.get(orderId) ?? null));
      if (!guessed) return projectStatusChange(event, stored.get(orderId) ?? null);
      const previous = event.data.previousStatus;
      const effects = projectStatusChange(event, previous === null ? null : { _id: orderId, status: previous, detailsKnown: true });
      return effects.kind === 'ignore' ? { kind: 'recheck', orderId } : effects;
    },
    persist: (effects, { orders }) => writeProjections(effects, orders),
    emits: () => [],
    describe(effects) {
      switch (effects.kind) {
        case 'ignore':
          return `ignored: ${effects.reason}`;
        case 'recheck':
          return 'rechecked';
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
