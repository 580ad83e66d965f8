import { Schema, type Connection, type Model } from 'mongoose';

/**
 * Claims on outside effects (a charge, an email, a dead letter's redrive): one per effect and
 * subject (the order; for a redrive, the letter), inserted before the effect is performed, so
 * that only the instance whose insert won performs it. See consumers/claim.ts. The effect's
 * result is recorded elsewhere (transactions, notifications, dead_letter_redrives), by insert
 * too: claims are written once and taken over (rarely) by a conditional update.
 */
export interface ClaimDocument {
  _id: string; // `<effect>:<subjectId>`, e.g. `payment:ord-1`, `redrive:order.placed.dlq:3:17`
  effect: string;
  /** What the effect is on: the order's id (payment, email), the dead letter's id (redrive). */
  subjectId: string;
  /** What the claim is for within its effect: `charge` or `void` for a payment, `send` for an email or a redrive. */
  intent: string;
  claimToken: string;
  claimedBy: string;
  claimedAt: Date;
  /** Claims made so far on this effect: more than one means a take-over happened. */
  attempts: number;
  /** Set when the effect was refused for good (dead-lettered); a replay may claim it again at once. */
  failedReason: string | null;
}

export const claimId = (effect: string, subjectId: string): string => `${effect}:${subjectId}`;

const claimSchema = new Schema<ClaimDocument>(
  {
    _id: { type: String, required: true },
    effect: { type: String, required: true },
    subjectId: { type: String, required: true },
    intent: { type: String, required: true },
    claimToken: { type: String, required: true },
    claimedBy: { type: String, required: true },
    claimedAt: { type: Date, required: true },
    attempts: { type: Number, default: 1 },
    failedReason: { type: String, default: null },
  },
  { collection: 'claims', versionKey: false },
);

export type ClaimModel = Model<ClaimDocument>;

export function claimModel(connection: Connection): ClaimModel {
  return (connection.models.Claim as ClaimModel | undefined) ?? connection.model<ClaimDocument>('Claim', claimSchema);
}
