import type { Config } from '../config';
import { composeConfirmationEmail } from '../email/confirmation-email';
import { createLogMailer, createSmtpMailer, MailDeliveryError, type Mailer, type OutgoingEmail } from '../email/mailer';
import { stableEventId } from '../events/envelope';
import { notificationSent, type OrderConfirmed } from '../events/order-events';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { TOPICS } from '../events/topics';
import { settledFailed, settledOk, type ConsumedEvent, type ConsumerModule, type Settled } from '../kafka/consumer-module';
import type { OutgoingEvent } from '../kafka/event-producer';
import type { Logger } from '../logger';
import { microBatch } from '../micro-batch';
import { findByIds } from '../mongo/bulk';
import { claimId, claimModel, type ClaimDocument, type ClaimModel } from '../mongo/models/claim.model';
import { notificationId, notificationModel, type NotificationDocument, type NotificationModel } from '../mongo/models/notification.model';
import { claimEffects, judgeClaim, settleEffects } from './claim';
import { EffectInProgressError } from './consumer.errors';

/*
 * The confirmations consumer: order.confirmed → one confirmation email → notification.sent.
 *
 * Once per order, whatever the redelivery: the order's email is claimed (claims collection,
 * `email:<orderId>`) before it goes out and only the claimant sends; the notification is
 * inserted after. A redelivery finds the notification and only repeats notification.sent
 * (same event id); one that finds another instance's live claim waits for it.
 *
 * The store failing between the send and the notification's write is covered: the instance
 * remembers what it sent until it is recorded, and its retry records it without sending.
 * The one window left is a crash between the email's data reaching the SMTP server (which may
 * accept it even after the client is gone: RFC 1047) and the notification being written. It
 * ends as soon as it can: each email's notification is written when the server accepts it
 * (with the others accepted within RECORD_WINDOW_MS), not after the round's slowest send.
 * Nothing can close it without the server's help, so we choose: a
 * redelivery that finds a claim older than its lease takes it over and SENDS AGAIN. A customer
 * who gets the same confirmation twice (rare: a crash inside that window) is better off than
 * one who never gets it (every crash between claim and send). Both copies carry the same
 * Message-ID, so mail clients see one message delivered twice.
 *
 * A round of new confirmations costs no read and a few inserts: the claims (a taken key sends
 * that order back to be decided on what is stored), then, as the emails go out side by side
 * over the pooled SMTP connections, their notifications in the batches they were accepted in.
 */

type ConfirmationsTopic = (typeof CONSUMER_GROUP_TOPICS.confirmations)[number];
const EMAIL = 'email';

export interface ConfirmationsState {
  readonly notification: NotificationDocument | null;
  /** The order's email claim, when there is one. */
  readonly claim: ClaimDocument | null;
  readonly now: Date;
  readonly instanceId: string;
}

interface ConfirmationsRound {
  readonly notifications: ReadonlyMap<string, NotificationDocument>;
  readonly claims: ReadonlyMap<string, ClaimDocument>;
  readonly now: Date;
  readonly instanceId: string;
}

export type ConfirmationEffects =
  /** Claim the order's email (or take over `takeOverToken`'s claim) and send it. */
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
  readonly claims: ClaimModel;
  readonly mailer: Mailer;
  readonly instanceId: string;
  /**
   * Emails this instance sent whose notification is not stored yet, by order: when the store
   * fails the round after the send, the retry (which finds its own claim and no notification)
   * records these instead of sending again. Emptied as they are stored.
   */
  readonly sentNotRecorded: Map<string, NotificationDocument>;
  /** Stores a sent email's notification, with the others accepted within RECORD_WINDOW_MS: what is stored for it. */
  readonly recordSent: (sent: NotificationDocument) => Promise<NotificationDocument>;
}

/** PURE: what to do about an order.confirmed given the order's email notification and claim (if any). */
export function decideConfirmation(confirmed: OrderConfirmed, state: ConfirmationsState, claimLeaseMs: number): ConfirmationEffects {
  const { orderId, customerEmail } = confirmed.data;
  const { notification, claim } = state;
  const send = (takeOverToken: string | null): ConfirmationEffects =>
    customerEmail === null
      ? { kind: 'skip', orderId, reason: 'the customer has no email address' }
      : { kind: 'send', orderId, email: composeConfirmationEmail({ ...confirmed.data, customerEmail }), takeOverToken };
  switch (notification?.status) {
    case 'sent':
      return { kind: 'report', notification };
    case 'skipped':
      return { kind: 'ignore', reason: 'already skipped: no email address' };
    case 'failed': // refused for good earlier and dead-lettered; a replay of that message tries again
      return send(claim?.claimToken ?? null);
    case undefined:
      break;
  }
  if (!claim) return send(null);
  if (claim.failedReason !== null) return send(claim.claimToken);
  const verdict = judgeClaim(claim, state.instanceId, state.now, claimLeaseMs);
  if (verdict.kind === 'held') return { kind: 'wait', orderId, holder: claim.claimedBy, until: verdict.expiresAt };
  return send(claim.claimToken);
}

/** PURE: notification.sent for a sent email; its id derives from the notification, so repeats are duplicates. */
export function confirmationEvents(outcome: ConfirmationOutcome): OutgoingEvent[] {
  if (outcome.kind === 'none') return [];
  const n = outcome.notification;
  const sentAt = (n.sentAt ?? n.updatedAt).toISOString();
  const event = notificationSent(
    { orderId: n.orderId, channel: n.channel, recipient: n.recipient ?? '', messageId: n.messageId ?? '', sentAt },
    { id: stableEventId(TOPICS.notificationSent, n._id), occurredAt: sentAt },
  );
  return [{ topic: TOPICS.notificationSent, key: n.orderId, event }];
}

/** A notification as inserted: every field set, since bulk inserts bypass the model's defaults. */
export function notificationRecord(orderId: string, fields: Partial<NotificationDocument> & Pick<NotificationDocument, 'status'>): NotificationDocument {
  const now = new Date();
  return {
    _id: notificationId(orderId, EMAIL),
    orderId,
    channel: EMAIL,
    recipient: null,
    claimedBy: null,
    attempts: 0,
    messageId: null,
    delivery: null,
    sentAt: null,
    reason: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

/** Persists a round: claims, then the emails side by side, each recorded once accepted, then the other notifications in one insert. */
async function persistConfirmations(effects: readonly ConfirmationEffects[], deps: ConfirmationsDeps): Promise<Settled<ConfirmationOutcome>[]> {
  const results: Settled<ConfirmationOutcome>[] = effects.map(() => settledOk({ kind: 'none' }));
  const sends = effects.flatMap((e, i) => (e.kind === 'send' ? [{ e, i }] : []));
  const claimed = await claimEffects(
    deps.claims,
    sends.map(({ e }) => ({ effect: EMAIL, subjectId: e.orderId, intent: 'send', takeOverToken: e.takeOverToken })),
    deps.instanceId,
  );

  /** Records a sent email at once; if the store fails, the retry finds it in sentNotRecorded. */
  const record = async (i: number, sent: NotificationDocument) => {
    deps.sentNotRecorded.set(sent.orderId, sent);
    const stored = await deps.recordSent(sent);
    deps.sentNotRecorded.delete(sent.orderId);
    return [{ i, record: sent, stored }];
  };
  const attempts = await Promise.allSettled(
    sends.map(async ({ e, i }, n): Promise<{ i: number; record: NotificationDocument; stored?: NotificationDocument }[]> => {
      const claim = claimed[n]!;
      if (claim instanceof Error) {
        results[i] = settledFailed(claim);
        return [];
      }
      const alreadySent = deps.sentNotRecorded.get(e.orderId);
      if (alreadySent) return record(i, alreadySent);
      let messageId: string;
      try {
        ({ messageId } = await deps.mailer.send(e.email));
      } catch (error) {
        results[i] = settledFailed(error); // retriable: tried again under our own claim; refused: dead-lettered
        // Only a refusal of this message is recorded as failed: an error of ours (credentials,
        // configuration) stops the consumer instead, and the email is sent once it is fixed.
        if (!(error instanceof MailDeliveryError) || error.kind !== 'rejected') return [];
        // Refused for good: so recorded, and the claim marked, so a replay may send at once.
        await deps.claims.updateOne({ _id: claim._id, claimToken: claim.claimToken }, { $set: { failedReason: error.message } });
        const failed = notificationRecord(e.orderId, { status: 'failed', recipient: e.email.to, claimedBy: claim.claimedBy, attempts: claim.attempts, reason: error.message });
        return [{ i: -1, record: failed }];
      }
      const sent = notificationRecord(e.orderId, {
        status: 'sent',
        recipient: e.email.to,
        claimedBy: claim.claimedBy,
        attempts: claim.attempts,
        messageId,
        delivery: deps.mailer.delivery,
        sentAt: new Date(),
      });
      return record(i, sent);
    }),
  );
  // Every send settled before the round fails on a store error: a retry must not start while
  // one of this round's emails is still on its way (it would not be in sentNotRecorded yet).
  const storeFailure = attempts.find((a) => a.status === 'rejected');
  if (storeFailure) throw storeFailure.reason;
  const attempted = attempts.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
  const others = [
    ...attempted.filter((r) => r.stored === undefined), // refused for good: recorded as failed
    ...effects.flatMap((e, i) => (e.kind === 'skip' ? [{ i, record: notificationRecord(e.orderId, { status: 'skipped', reason: e.reason }) }] : [])),
  ];
  const othersStored = await settleEffects(
    deps.notifications,
    others.map((r) => r.record),
  );
  const records = [...attempted.filter((r) => r.stored !== undefined), ...others.map((r, n) => ({ ...r, stored: othersStored[n] }))];
  await Promise.all(
    records.map(async ({ i, record, stored }) => {
      let notification = stored!;
      // A replay sent what had been refused earlier: the sent record replaces the failed one.
      if (record.status === 'sent' && notification.status === 'failed') {
        await deps.notifications.replaceOne({ _id: record._id, status: 'failed' }, record);
        notification = record;
      }
      if (i >= 0 && record.status === 'sent') results[i] = settledOk({ kind: 'sent', notification });
    }),
  );

  effects.forEach((e, i) => {
    if (e.kind === 'wait') results[i] = settledFailed(new EffectInProgressError(`the confirmation email of order ${e.orderId}`, e.holder, e.until));
    if (e.kind === 'report') results[i] = settledOk({ kind: 'sent', notification: e.notification });
  });
  return results;
}

/** The default of ConfirmationsOptions.claimLeaseMs: how long a sending claim protects its holder. */
export const CONFIRMATION_CLAIM_LEASE_MS = 60_000;

/** How long an accepted email's notification waits for others to share its insert. */
const RECORD_WINDOW_MS = 5;

const orderIdOf = (message: ConsumedEvent<ConfirmationsTopic>) => message.event.data.orderId;

export function createConfirmationsConsumer(
  options: ConfirmationsOptions = {},
): ConsumerModule<ConfirmationsTopic, ConfirmationsDeps, ConfirmationsRound, ConfirmationEffects, ConfirmationOutcome> {
  const claimLeaseMs = options.claimLeaseMs ?? CONFIRMATION_CLAIM_LEASE_MS;
  const defaultMailer = (config: Config, log: Logger) => (config.smtpUrl ? createSmtpMailer(config.smtpUrl) : createLogMailer(log));
  return {
    name: 'confirmations',
    topics: CONSUMER_GROUP_TOPICS.confirmations,
    async setup({ config, log, connection, instanceId }) {
      const [notifications, claims] = [notificationModel(connection), claimModel(connection)];
      await Promise.all([notifications.init(), claims.init()]);
      const mailer = (options.mailer ?? defaultMailer)(config, log);
      if (mailer.delivery === 'log') log.warn('SMTP_URL is unset: confirmation emails are recorded and logged, not sent');
      // Accepts within a few ms share an insert: a busy round's emails do not each pay one.
      const recordSent = microBatch((sent: NotificationDocument[]) => settleEffects(notifications, sent), { windowMs: RECORD_WINDOW_MS });
      return { notifications, claims, mailer, instanceId, sentNotRecorded: new Map(), recordSent };
    },
    async load(messages, deps, mode) {
      const now = new Date();
      // A fresh confirmation has no claim and no notification: the claim's insert tells if it had.
      if (mode === 'guess') return { notifications: new Map(), claims: new Map(), now, instanceId: deps.instanceId };
      const orderIds = messages.map(orderIdOf);
      const [notifications, claims] = await Promise.all([
        findByIds(deps.notifications, orderIds.map((id) => notificationId(id, EMAIL))),
        findByIds(deps.claims, orderIds.map((id) => claimId(EMAIL, id))),
      ]);
      return { notifications, claims, now, instanceId: deps.instanceId };
    },
    decide(message, round) {
      const orderId = orderIdOf(message);
      const state: ConfirmationsState = {
        notification: round.notifications.get(notificationId(orderId, EMAIL)) ?? null,
        claim: round.claims.get(claimId(EMAIL, orderId)) ?? null,
        now: round.now,
        instanceId: round.instanceId,
      };
      return decideConfirmation(message.event, state, claimLeaseMs);
    },
    persist: persistConfirmations,
    emits: confirmationEvents,
    describe(effects, outcome) {
      if (effects.kind === 'skip') return `skipped, not sent: ${effects.reason}`;
      if (effects.kind === 'ignore') return `ignored: ${effects.reason}`;
      if (effects.kind === 'report') return 'already sent: notification.sent repeated';
      return outcome.kind === 'sent' ? `sent (${outcome.notification.delivery})` : effects.kind;
    },
    async teardown(deps) {
      deps.mailer.close();
    },
  };
}
