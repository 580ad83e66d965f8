import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One document per dead letter (or parked message) sent back to its topic by `./dev dlq
 * redrive`, keyed by the letter's own position (`order.placed.dlq:3:17`): the settlement of the
 * letter's `redrive` claim (claims collection, `redrive:<letter id>`; see consumers/claim.ts),
 * inserted once the message is sent. A second redrive of the same letter finds it and does
 * nothing; a claim with no settlement is a redrive under way (or crashed: taken over once its
 * lease is past).
 */
export interface RedriveDocument {
  _id: string; // the dead letter's id: `<dead-letter topic>:<partition>:<offset>`
  state: 'sent';
  sourceTopic: string;
  /** The redrive run that sent it, under its claim. */
  claimedBy: string;
  /** Claims made on this letter's redrive: more than one means a take-over happened. */
  attempts: number;
  sentAt: Date;
  /** Where the message landed on its source topic. */
  sentTo: { partition: number; offset: string };
}

const redriveSchema = new Schema<RedriveDocument>(
  {
    _id: { type: String, required: true },
    state: { type: String, enum: ['sent'], required: true },
    sourceTopic: { type: String, required: true },
    claimedBy: { type: String, required: true },
    attempts: { type: Number, default: 1 },
    sentAt: { type: Date, required: true },
    sentTo: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'dead_letter_redrives', versionKey: false },
);

export type RedriveModel = Model<RedriveDocument>;

export function redriveModel(connection: Connection): RedriveModel {
  return (connection.models.Redrive as RedriveModel | undefined) ?? connection.model<RedriveDocument>('Redrive', redriveSchema);
}
