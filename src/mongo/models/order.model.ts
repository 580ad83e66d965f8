import { Schema, type Connection, type Model } from 'mongoose';
import { ORDER_STATUSES, type OrderStatus } from '../../domain/order-status';

/** The orders read model, written only by the orders projector, read by the API. */
export interface OrderDocument {
  _id: string; // the order id
  customerId: string;
  restaurantId: string;
  items: { menuItemId: string; name: string; quantity: number; unitPriceCents: number; lineTotalCents: number }[];
  totalCents: number;
  currency: string;
  deliveryAddress: string;
  status: OrderStatus;
  statusHistory: { status: OrderStatus; at: Date; reason: string | null }[];
  /** False until order.placed has been projected (a status change may arrive first). */
  detailsKnown: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const orderSchema = new Schema<OrderDocument>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true, index: true },
    restaurantId: { type: String, required: true, index: true },
    items: [
      {
        _id: false,
        menuItemId: String,
        name: String,
        quantity: Number,
        unitPriceCents: Number,
        lineTotalCents: Number,
      },
    ],
    totalCents: { type: Number, default: 0 },
    currency: { type: String, default: 'EUR' },
    deliveryAddress: { type: String, default: '' },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    statusHistory: [{ _id: false, status: { type: String, enum: ORDER_STATUSES }, at: Date, reason: { type: String, default: null } }],
    detailsKnown: { type: Boolean, default: false },
  },
  { collection: 'orders', timestamps: true, versionKey: false },
);
// myOrders pages newest first by (createdAt, _id).
orderSchema.index({ customerId: 1, createdAt: -1, _id: -1 });

export type OrderModel = Model<OrderDocument>;

/** The model over `collection`: `orders`, or a replay's generation of it (src/mongo/read-models.ts). */
export function orderModel(connection: Connection, collection = 'orders'): OrderModel {
  const name = collection === 'orders' ? 'Order' : `Order:${collection}`;
  return (connection.models[name] as OrderModel | undefined) ?? connection.model<OrderDocument>(name, orderSchema, collection);
}
