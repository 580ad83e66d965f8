import { Schema, type Connection, type Model } from 'mongoose';

export const TRANSACTION_STATUSES = ['pending', 'captured', 'declined', 'refunded', 'voided'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/**
 * One payment per order, written only by the transactions consumer. `_id` is the order id, so
 * the first writer of an order (the claim of a charge, or a void when the cancel came first)
 * wins and every later one sees it.
 *
 * pending → captured | declined (the claimant settles it); captured → refunded (on cancel);
 * an order cancelled before its charge was claimed is voided and never charged.
 */
export interface TransactionDocument {
  _id: string; // the order id
  transactionId: string;
  status: TransactionStatus;
  customerId: string;
  restaurantId: string;
  amountCents: number;
  currency: string;
  /** Who holds (or last held) the charge claim, its token and since when: see consumers/claim.ts. */
  claimToken: string | null;
  claimedBy: string | null;
  claimedAt: Date | null;
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
    claimToken: { type: String, default: null },
    claimedBy: { type: String, default: null },
    claimedAt: { type: Date, default: null },
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
