import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The simulated provider's own books (a real provider keeps these on its side): one entry per
 * idempotency key and kind. `requests` counts how often the key was asked for, which is how
 * tests see that a charge was requested once and captured once.
 */
export interface GatewayLedgerEntry {
  _id: string; // `charge:<key>` or `refund:<key>`
  kind: 'charge' | 'refund';
  idempotencyKey: string;
  /** `voided`: the key was closed before any charge (closeCharge); a charge under it is declined. */
  status: 'captured' | 'declined' | 'refunded' | 'voided';
  reference: string;
  reason: string | null;
  amountCents: number;
  /** For refunds: the charge given back. */
  chargeReference: string | null;
  requests: number;
  createdAt: Date;
}

const ledgerSchema = new Schema<GatewayLedgerEntry>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: ['charge', 'refund'], required: true },
    idempotencyKey: { type: String, required: true },
    status: { type: String, enum: ['captured', 'declined', 'refunded', 'voided'], required: true },
    reference: { type: String, required: true, unique: true },
    reason: { type: String, default: null },
    amountCents: { type: Number, required: true },
    chargeReference: { type: String, default: null },
    requests: { type: Number, default: 1 },
  },
  { collection: 'payment_gateway_ledger', timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export type GatewayLedgerModel = Model<GatewayLedgerEntry>;

export function gatewayLedgerModel(connection: Connection): GatewayLedgerModel {
  return (
    (connection.models.GatewayLedgerEntry as GatewayLedgerModel | undefined) ??
    connection.model<GatewayLedgerEntry>('GatewayLedgerEntry', ledgerSchema)
  );
}
