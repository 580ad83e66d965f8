import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import { composeConfirmationEmail } from '../email/confirmation-email';
import { createLogMailer, createSmtpMailer, MailDeliveryError, type Mailer, type OutgoingEmail } from '../email/mailer';
import { stableEventId } from '../events/envelope';
import { notificationSent, type OrderConfirmed } from '../events/order-events';
import type { ConsumedEvent, ConsumerModule } from '../kafka/consumer-runner';
import type { OutgoingEvent } from '../kafka/event-producer';
import type { Logger } from '../logger';
import { notificationId, notificationModel, type NotificationDocument, type NotificationModel } from '../mongo/models/notification.model';
import { isDuplicateKeyError } from '../mongo/mongo-errors';
import { judgeClaim } from './claim';
import { ConcurrentUpdateError, EffectInProgressError } from './consumer.errors';

/*
 * The confirmations consumer: order.confirmed → one confirmation email → notification.sent.
 *
 * Once per order, whatever the redelivery: the notification document (unique per order and
 * channel) is claimed as `sending` before the email goes out and settled as `sent` after, and
 * only the claimant sends. A redelivery finds `sent` and only repeats notification.sent (same
 * event id); one that finds another instance's live claim waits for it.
 *
 * The one window left is a crash after the SMTP server accepted the email but before `sent` was
 * written. Nothing can close it without the server's help, so we choose: a redelivery that
 * finds a claim older than its lease takes it over and SENDS AGAIN. A customer who gets the
 * same confirmation twice (rare: a crash inside that window) is better off than one who never
 * gets it (every crash between claim and send). Both copies carry the same Message-ID, so mail
 * clients see one message delivered twice.
 */

type ConfirmationsTopic = 'order.confirmed';

export interface ConfirmationsState {
  readonly notification: NotificationDocument | null;
  readonly now: Date;
  readonly instanceId: string;
}

export type ConfirmationEffects =
  /** Claim the order's email notification (or take over `takeOverToken`'s claim) and send it. */
  | { readonly kind: 'send'; readonly orderId: string; readonly email: OutgoingEmail; readonly takeOverToken: string | null }
  | { readonly kind: 'wait'; readonly orderId: string; readonly holder: string; readonly until: Date }
  /** Nobody to write to: record that, send nothing. */
  | { readonly kind: 'skip'; readonly orderId: string; readonly reason: string }
  /** Already sent: announce it again (same event id). */
  | { readonly kind: 'report'; readonly notification: NotificationDocument }
  | { readonly kind: 'ignore'; readonly reason: string };

export type ConfirmationOutcome = { readonly kind: 'sent'; readonly notification: NotificationDocument } | { readonly kind: 'none' };

export interface ConfirmationsOptions {
  /**
   * How long a sending claim protects its holder: well above the mailer's timeouts (10 s to
   * connect, 20 s of silence). After it, a redelivery takes over and sends. @default 60000
   */
  readonly claimLeaseMs?: number;
  /** @default SMTP to config.smtpUrl when set, else a mailer that only logs */
  readonly mailer?: (config: Config, log: Logger) => Mailer;
}

interface ConfirmationsDeps {
  readonly notifications: NotificationModel;
  readonly mailer: Mailer;
  readonly instanceId: string;
}

/** PURE: what to do about an order.confirmed given the order's email notification (if any). */
export function decideConfirmation(confirmed: OrderConfirmed, state: ConfirmationsState, claimLeaseMs: number): ConfirmationEffects {
  const { orderId, customerEmail } = confirmed.data;
  const { notification } = state;
  const send = (takeOverToken: string | null): ConfirmationEffects =>
    customerEmail === null
      ? { kind: 'skip', orderId, reason: 'the customer has no email address' }
      : { kind: 'send', orderId, email: composeConfirmationEmail({ ...confirmed.data, customerEmail }), takeOverToken };
  if (!notification) return send(null);
  switch (notification.status) {
    case 'sending': {
      const claim = {
        claimToken: notification.claimToken ?? '',
        claimedBy: notification.claimedBy ?? 'unknown',
        claimedAt: notification.claimedAt ?? new Date(0),
      };
      const verdict = judgeClaim(claim, state.instanceId, state.now, claimLeaseMs);
      if (verdict.kind === 'held') return { kind: 'wait', orderId, holder: claim.claimedBy, until: verdict.expiresAt };
      return send(claim.claimToken);
    }
    case 'failed': // refused for good earlier and dead-lettered; a replay of that message tries again
      return send(notification.claimToken ?? '');
    case 'sent':
      return { kind: 'report', notification };
    case 'skipped':
      return { kind: 'ignore', reason: 'already skipped: no email address' };
  }
}

/** PURE: notification.sent for a sent email; its id derives from the notification, so repeats are duplicates. */
export function confirmationEvents(outcome: ConfirmationOutcome): OutgoingEvent[] {
  if (outcome.kind === 'none') return [];
  const n = outcome.notification;
  const sentAt = (n.sentAt ?? n.updatedAt).toISOString();
  const event = notificationSent(
    { orderId: n.orderId, channel: n.channel, recipient: n.recipient ?? '', messageId: n.messageId ?? '', sentAt },
    { id: stableEventId('notification.sent', n._id), occurredAt: sentAt },
  );
  return [{ topic: 'notification.sent', key: n.orderId, event }];
}

async function sendOnce(effects: Extract<ConfirmationEffects, { kind: 'send' }>, deps: ConfirmationsDeps): Promise<ConfirmationOutcome> {
  const { orderId, email, takeOverToken } = effects;
  const _id = notificationId(orderId, 'email');
  const what = `the confirmation email of order ${orderId}`;
  const claim = { claimToken: randomUUID(), claimedBy: deps.instanceId, claimedAt: new Date() };
  if (takeOverToken === null) {
    try {
      await deps.notifications.create({ _id, orderId, channel: 'email', recipient: email.to, status: 'sending', attempts: 1, ...claim });
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConcurrentUpdateError(what) : error;
    }
  } else {
    const taken = await deps.notifications.updateOne(
      { _id, status: { $in: ['sending', 'failed'] }, claimToken: takeOverToken },
      { $set: { ...claim, status: 'sending' }, $inc: { attempts: 1 } },
    );
    if (taken.modifiedCount === 0) throw new ConcurrentUpdateError(what);
  }
  let messageId: string;
  try {
    ({ messageId } = await deps.mailer.send(email));
  } catch (error) {
    if (error instanceof MailDeliveryError && !error.retriable) {
      await deps.notifications.updateOne({ _id, claimToken: claim.claimToken }, { $set: { status: 'failed', reason: error.message } });
    }
    throw error; // retriable: tried again under our own claim; refused: dead-lettered for an operator
  }
  const sent = await deps.notifications
    .findOneAndUpdate(
      { _id, status: 'sending', claimToken: claim.claimToken },
      { $set: { status: 'sent', messageId, delivery: deps.mailer.delivery, sentAt: new Date() } },
      { returnDocument: 'after' },
    )
    .lean<NotificationDocument>();
  // Taken over while we were sending (slower than the lease): the new holder settles it.
  if (!sent) throw new ConcurrentUpdateError(what);
  return { kind: 'sent', notification: sent };
}

async function recordSkipped(orderId: string, reason: string, deps: ConfirmationsDeps): Promise<ConfirmationOutcome> {
  try {
    await deps.notifications.create({ _id: notificationId(orderId, 'email'), orderId, channel: 'email', status: 'skipped', reason });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    // Already recorded by an earlier delivery: the same outcome.
  }
  return { kind: 'none' };
}

export function createConfirmationsConsumer(
  options: ConfirmationsOptions = {},
): ConsumerModule<ConfirmationsTopic, ConfirmationsDeps, ConfirmationsState, ConfirmationEffects, ConfirmationOutcome> {
  const claimLeaseMs = options.claimLeaseMs ?? 60_000;
  const defaultMailer = (config: Config, log: Logger) => (config.smtpUrl ? createSmtpMailer(config.smtpUrl) : createLogMailer(log));
  return {
    name: 'confirmations',
    topics: ['order.confirmed'],
    async setup({ config, log, connection, instanceId }) {
      const notifications = notificationModel(connection);
      await notifications.init();
      const mailer = (options.mailer ?? defaultMailer)(config, log);
      if (mailer.delivery === 'log') log.warn('SMTP_URL is unset: confirmation emails are recorded and logged, not sent');
      return { notifications, mailer, instanceId };
    },
    async load(message: ConsumedEvent<ConfirmationsTopic>, deps) {
      const notification = await deps.notifications.findById(notificationId(message.event.data.orderId, 'email')).lean<NotificationDocument>();
      return { notification, now: new Date(), instanceId: deps.instanceId };
    },
    decide: (message, state) => decideConfirmation(message.event, state, claimLeaseMs),
    async persist(effects, deps) {
      switch (effects.kind) {
        case 'send':
          return sendOnce(effects, deps);
        case 'wait':
          throw new EffectInProgressError(`the confirmation email of order ${effects.orderId}`, effects.holder, effects.until);
        case 'skip':
          return recordSkipped(effects.orderId, effects.reason, deps);
        case 'report':
          return { kind: 'sent', notification: effects.notification };
        case 'ignore':
          return { kind: 'none' };
      }
    },
    emits: confirmationEvents,
    describe(effects, outcome) {
      if (effects.kind === 'skip') return `skipped, not sent: ${effects.reason}`;
      if (effects.kind === 'ignore') return `ignored: ${effects.reason}`;
      if (effects.kind === 'report') return 'already sent: notification.sent repeated';
      return outcome.kind === 'sent' ? `sent to ${outcome.notification.recipient} (${outcome.notification.delivery})` : effects.kind;
    },
    async teardown(deps) {
      deps.mailer.close();
    },
  };
}
