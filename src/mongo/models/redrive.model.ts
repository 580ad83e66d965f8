import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One document per dead letter (or parked message) sent back to its topic by `./dev dlq
 * redrive`, keyed by the letter's own position (`order.placed.dlq:3:17`): a second redrive of
 * the same letter finds it and does nothing. `sending` is a claim with a lease (a redrive that
 * crashed before `sent` is taken over once the lease is past); `sent` is final.
 */
export interface RedriveDocument {
  _id: string; // the dead letter's id: `<dead-letter topic>:<partition>:<offset>`
  state: 'sending' | 'sent';
  sourceTopic: string;
  claimedAt: Date;
  /** Which redrive run holds (or held) the claim. */
  claimedBy: string;
  sentAt: Date | null;
  /** Where the message landed on its source topic. */
  sentTo: { partition: number; offset: string } | null;
}

const redriveSchema = new Schema<RedriveDocument>(
  {
    _id: { type: String, required: true },
    state: { type: String, enum: ['sending', 'sent'], required: true },
    sourceTopic: { type: String, required: true },
    claimedAt: { type: Date, required: true },
    claimedBy: { type: String, required: true },
    sentAt: { type: Date, default: null },
    sentTo: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'dead_letter_redrives', versionKey: false },
);

export type RedriveModel = Model<RedriveDocument>;

export function redriveModel(connection: Connection): RedriveModel {
  return (connection.models.Redrive as RedriveModel | undefined) ?? connection.model<RedriveDocument>('Redrive', redriveSchema);
}
