import { Schema, type Connection, type Model } from 'mongoose';

export const NOTIFICATION_STATUSES = ['sent', 'skipped', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
export type NotificationChannel = 'email';

/**
 * One notification per order and channel, written only by the confirmations consumer, by insert
 * once the message went out (or could not): the claim before it (claims collection,
 * `email:<orderId>`) decides who sends; see consumers/confirmations.consumer.ts for why that
 * sends once per order.
 *
 * sent; failed (the server refused it for good; a replay that then sends replaces it with
 * sent); skipped when there was nobody to send to (no customer email).
 */
export interface NotificationDocument {
  _id: string; // `<orderId>:<channel>`
  orderId: string;
  channel: NotificationChannel;
  recipient: string | null;
  status: NotificationStatus;
  /** The instance that sent it, under its claim. */
  claimedBy: string | null;
  /** Claims made on it: more than one means a take-over happened. */
  attempts: number;
  /** The Message-ID the message went out with. */
  messageId: string | null;
  /** `smtp`, or `log` when SMTP_URL was unset and the email was only logged. */
  delivery: 'smtp' | 'log' | null;
  sentAt: Date | null;
  /** Why it was skipped or failed. */
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const notificationId = (orderId: string, channel: NotificationChannel): string => `${orderId}:${channel}`;

const notificationSchema = new Schema<NotificationDocument>(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    channel: { type: String, enum: ['email'], required: true },
    recipient: { type: String, default: null },
    status: { type: String, enum: NOTIFICATION_STATUSES, required: true },
    claimedBy: { type: String, default: null },
    attempts: { type: Number, default: 0 },
    messageId: { type: String, default: null },
    delivery: { type: String, enum: ['smtp', 'log', null], default: null },
    sentAt: { type: Date, default: null },
    reason: { type: String, default: null },
  },
  { collection: 'notifications', timestamps: true, versionKey: false },
);
// The rule itself, whatever builds the _id: one notification per order and channel.
notificationSchema.index({ orderId: 1, channel: 1 }, { unique: true });

export type NotificationModel = Model<NotificationDocument>;

export function notificationModel(connection: Connection): NotificationModel {
  return (
    (connection.models.Notification as NotificationModel | undefined) ??
    connection.model<NotificationDocument>('Notification', notificationSchema)
  );
}
