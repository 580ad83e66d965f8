import { Schema, type Connection, type Model } from 'mongoose';
import { ORDER_STATUSES, type OrderStatus } from '../../domain/order-status';
import { TRANSITION_ACTIONS, type TransitionAction } from '../../domain/order-authority';

/**
 * The order authority's state: one document per transition it accepted, keyed by the order and
 * the status left (`<orderId>:<from>`, see domain/order-authority.ts). Written once, by insert:
 * the first insert for a key is the one transition out of that status.
 */
export interface OrderTransitionDocument {
  _id: string;
  orderId: string;
  from: OrderStatus;
  to: OrderStatus;
  action: TransitionAction;
  requestId: string;
  requestedBy: string;
  reason: string | null;
  at: Date;
}

const orderTransitionSchema = new Schema<OrderTransitionDocument>(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    from: { type: String, enum: ORDER_STATUSES, required: true },
    to: { type: String, enum: ORDER_STATUSES, required: true },
    action: { type: String, enum: TRANSITION_ACTIONS, required: true },
    requestId: { type: String, required: true },
    requestedBy: { type: String, required: true },
    reason: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'order_transitions', versionKey: false },
);

export type OrderTransitionModel = Model<OrderTransitionDocument>;

export function orderTransitionModel(connection: Connection): OrderTransitionModel {
  return (connection.models.OrderTransition as OrderTransitionModel | undefined) ?? connection.model<OrderTransitionDocument>('OrderTransition', orderTransitionSchema);
}
