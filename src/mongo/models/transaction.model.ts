import { Schema, type Connection, type Model } from 'mongoose';

export const TRANSACTION_STATUSES = ['captured', 'declined', 'refunded', 'voided'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/**
 * One settled payment per order, written only by the transactions consumer once the gateway
 * answered (or, for an order cancelled before any charge, when it was voided). `_id` is the
 * order id. It is inserted, never upserted: the claim that came before it (claims collection,
 * `payment:<orderId>`) decides who charges, and the first settlement inserted wins.
 *
 * captured | declined | voided when inserted; captured → refunded (on cancel).
 */
export interface TransactionDocument {
  _id: string; // the order id
  transactionId: string;
  status: TransactionStatus;
  customerId: string;
  restaurantId: string;
  amountCents: number;
  currency: string;
  /** The instance that performed the charge (or the void) under its claim: see consumers/claim.ts. */
  claimedBy: string | null;
  /** The gateway's charge reference once settled (a declined charge has one too). */
  chargeReference: string | null;
  declineReason: string | null;
  settledAt: Date | null;
  refundReference: string | null;
  refundedAt: Date | null;
  voidedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const transactionSchema = new Schema<TransactionDocument>(
  {
    _id: { type: String, required: true },
    transactionId: { type: String, required: true },
    status: { type: String, enum: TRANSACTION_STATUSES, required: true },
    customerId: { type: String, required: true },
    restaurantId: { type: String, required: true },
    amountCents: { type: Number, default: 0 },
    currency: { type: String, default: 'EUR' },
    claimedBy: { type: String, default: null },
    chargeReference: { type: String, default: null },
    declineReason: { type: String, default: null },
    settledAt: { type: Date, default: null },
    refundReference: { type: String, default: null },
    refundedAt: { type: Date, default: null },
    voidedAt: { type: Date, default: null },
  },
  { collection: 'transactions', timestamps: true, versionKey: false },
);

export type TransactionModel = Model<TransactionDocument>;

export function transactionModel(connection: Connection): TransactionModel {
  return (
    (connection.models.Transaction as TransactionModel | undefined) ??
    connection.model<TransactionDocument>('Transaction', transactionSchema)
  );
}
