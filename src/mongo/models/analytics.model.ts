import { Schema, type Connection, type Model } from 'mongoose';
import { emptyAnalytics, type AnalyticsState } from '../../domain/analytics';

/**
 * The analytics read model, written only by the analytics consumer: one document per scope
 * (`global`, `restaurant:<id>`) holding the folded figures and the log positions already
 * applied. Maps become arrays here because their keys (topic names, menu item ids) may hold
 * dots, which MongoDB field names may not. `revision` is the optimistic lock: a write names
 * the revision it read and loses if another got there first.
 */
export interface AnalyticsDocument {
  _id: string; // the scope
  revision: number;
  ordersPlaced: number;
  ordersConfirmed: number;
  ordersPaymentFailed: number;
  ordersCancelled: number;
  ordersDelivered: number;
  ordersRefunded: number;
  revenueCents: number;
  items: { menuItemId: string; name: string; quantity: number }[];
  restaurants: { restaurantId: string; ordersConfirmed: number; revenueCents: number }[];
  /** `topic:partition` → highest offset applied. */
  applied: { partition: string; offset: number }[];
  updatedAt: Date;
}

/**
 * The domain state of a stored scope: an empty one when the scope has no document yet, and
 * zero for any figure a document lacks. The API reads figures this way:
 * `toSnapshot(analyticsStateOf(scope, await analytics.findById(scope).lean()))`.
 */
export function analyticsStateOf(scope: string, doc: Partial<AnalyticsDocument> | null): AnalyticsState {
  const empty = emptyAnalytics(scope);
  if (!doc) return empty;
  return {
    scope,
    ordersPlaced: doc.ordersPlaced ?? 0,
    ordersConfirmed: doc.ordersConfirmed ?? 0,
    ordersPaymentFailed: doc.ordersPaymentFailed ?? 0,
    ordersCancelled: doc.ordersCancelled ?? 0,
    ordersDelivered: doc.ordersDelivered ?? 0,
    ordersRefunded: doc.ordersRefunded ?? 0,
    revenueCents: doc.revenueCents ?? 0,
    items: Object.fromEntries((doc.items ?? []).map((i) => [i.menuItemId, { name: i.name, quantity: i.quantity }])),
    restaurants: Object.fromEntries((doc.restaurants ?? []).map((r) => [r.restaurantId, { ordersConfirmed: r.ordersConfirmed, revenueCents: r.revenueCents }])),
    applied: Object.fromEntries((doc.applied ?? []).map((a) => [a.partition, a.offset])),
    updatedAt: doc.updatedAt ? new Date(doc.updatedAt).toISOString() : empty.updatedAt,
  };
}

/** The fields to store for `state` (everything but `_id` and `revision`). */
export function analyticsFieldsOf(state: AnalyticsState): Omit<AnalyticsDocument, '_id' | 'revision'> {
  return {
    ordersPlaced: state.ordersPlaced,
    ordersConfirmed: state.ordersConfirmed,
    ordersPaymentFailed: state.ordersPaymentFailed,
    ordersCancelled: state.ordersCancelled,
    ordersDelivered: state.ordersDelivered,
    ordersRefunded: state.ordersRefunded,
    revenueCents: state.revenueCents,
    items: Object.entries(state.items).map(([menuItemId, t]) => ({ menuItemId, name: t.name, quantity: t.quantity })),
    restaurants: Object.entries(state.restaurants).map(([restaurantId, t]) => ({ restaurantId, ...t })),
    applied: Object.entries(state.applied).map(([partition, offset]) => ({ partition, offset })),
    updatedAt: new Date(state.updatedAt),
  };
}

const analyticsSchema = new Schema<AnalyticsDocument>(
  {
    _id: { type: String, required: true },
    revision: { type: Number, required: true },
    ordersPlaced: Number,
    ordersConfirmed: Number,
    ordersPaymentFailed: Number,
    ordersCancelled: Number,
    ordersDelivered: Number,
    ordersRefunded: Number,
    revenueCents: Number,
    items: [{ _id: false, menuItemId: String, name: String, quantity: Number }],
    restaurants: [{ _id: false, restaurantId: String, ordersConfirmed: Number, revenueCents: Number }],
    applied: [{ _id: false, partition: String, offset: Number }],
    updatedAt: Date,
  },
  { collection: 'analytics', versionKey: false },
);

export type AnalyticsModel = Model<AnalyticsDocument>;

/** The model over `collection`: `analytics`, or a replay's generation of it (src/mongo/read-models.ts). */
export function analyticsModel(connection: Connection, collection = 'analytics'): AnalyticsModel {
  const name = collection === 'analytics' ? 'Analytics' : `Analytics:${collection}`;
  return (connection.models[name] as AnalyticsModel | undefined) ?? connection.model<AnalyticsDocument>(name, analyticsSchema, collection);
}

/**
 * Which event counted each fact of each order (`confirmed:<orderId>` → its log position). An
 * order is counted once per fact even when the fact was emitted twice (a redelivered
 * order.placed makes the transactions consumer repeat order.confirmed at a new offset).
 */
export interface AnalyticsFactDocument {
  _id: string; // `<fact kind>:<orderId>`
  topic: string;
  partition: number;
  offset: number;
  eventId: string;
}

const factSchema = new Schema<AnalyticsFactDocument>(
  {
    _id: { type: String, required: true },
    topic: { type: String, required: true },
    partition: { type: Number, required: true },
    offset: { type: Number, required: true },
    eventId: { type: String, required: true },
  },
  { collection: 'analytics_facts', versionKey: false, timestamps: { createdAt: true, updatedAt: false } },
);

export type AnalyticsFactModel = Model<AnalyticsFactDocument>;

export function analyticsFactModel(connection: Connection, collection = 'analytics_facts'): AnalyticsFactModel {
  const name = collection === 'analytics_facts' ? 'AnalyticsFact' : `AnalyticsFact:${collection}`;
  return (connection.models[name] as AnalyticsFactModel | undefined) ?? connection.model<AnalyticsFactDocument>(name, factSchema, collection);
}
