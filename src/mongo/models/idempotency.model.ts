import { Schema, type Connection, type Model } from 'mongoose';
import type { PricedItem } from '../../domain/pricing';

/**
 * One claimed idempotency key: customer + key → the order id it placed. Written by the API
 * before it produces order.placed (and kept even if Kafka did not acknowledge), so a repeated key
 * answers with the first order, produced again under the same ids, and a key reused for a
 * different request is refused. The order itself lives only in Kafka. Written once, never
 * updated: one insert is the only store write of a keyed placeOrder.
 */
export interface IdempotencyDocument {
  _id: string; // the order id, derived from customer + key (see resolvers/order-id.ts)
  customerId: string;
  key: string;
  /** Hash of what was asked (restaurant, lines, address, payment token): a different request with the same key is a CONFLICT. */
  requestHash: string;
  /** What is needed to answer a repeat before the orders read model has the order. */
  order: {
    restaurantId: string;
    items: PricedItem[];
    totalCents: number;
    currency: string;
    deliveryAddress: string;
    placedAt: Date;
    eventId: string;
  };
  claimedAt: Date;
}

const idempotencySchema = new Schema<IdempotencyDocument>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    key: { type: String, required: true },
    requestHash: { type: String, required: true },
    order: {
      restaurantId: { type: String, required: true },
      items: [{ _id: false, menuItemId: String, name: String, quantity: Number, unitPriceCents: Number, lineTotalCents: Number }],
      totalCents: { type: Number, required: true },
      currency: { type: String, required: true },
      deliveryAddress: { type: String, required: true },
      placedAt: { type: Date, required: true },
      eventId: { type: String, required: true },
    },
    claimedAt: { type: Date, required: true },
  },
  { collection: 'idempotency', versionKey: false },
);
// The rule itself; the derived _id already makes it hold, the index says it out loud.
idempotencySchema.index({ customerId: 1, key: 1 }, { unique: true });

export type IdempotencyModel = Model<IdempotencyDocument>;

export function idempotencyModel(connection: Connection): IdempotencyModel {
  return (connection.models.Idempotency as IdempotencyModel | undefined) ?? connection.model<IdempotencyDocument>('Idempotency', idempotencySchema);
}
