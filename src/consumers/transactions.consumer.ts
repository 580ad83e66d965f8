import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { confirmOrder, failOrderPayment, type OrderSnapshot, type Transition } from '../domain/order';
import { stableEventId } from '../events/envelope';
import {
  orderConfirmed,
  orderPaymentFailed,
  orderStatusChanged,
  paymentRefunded,
  type OrderCancelled,
  type OrderPlaced,
} from '../events/order-events';
import type { ConsumedEvent, ConsumerModule } from '../kafka/consumer-runner';
import type { OutgoingEvent } from '../kafka/event-producer';
import { transactionModel, type TransactionDocument, type TransactionModel } from '../mongo/models/transaction.model';
import { isDuplicateKeyError } from '../mongo/mongo-errors';
import type { PaymentGateway } from '../payments/payment-gateway';
import { simulatedPaymentGateway } from '../payments/simulated-gateway';
import { judgeClaim, type Claim } from './claim';
import { ConcurrentUpdateError, EffectInProgressError } from './consumer.errors';

/*
 * The transactions consumer: order.placed → charge once → order.confirmed | order.payment-failed
 * (+ order.status-changed); order.cancelled → refund a captured payment once → payment.refunded.
 *
 * At most one capture per order, even with two instances and redelivery: the transaction
 * document (one per order id) is claimed before the gateway is called and only the claimant
 * calls it (see claim.ts); the gateway itself is idempotent per order id, so even a claim taken
 * over from a presumed-dead instance cannot charge twice. A cancel that arrives first leaves a
 * `voided` document behind, so a late order.placed finds it and never charges.
 */

type TransactionsTopic = 'order.placed' | 'order.cancelled';

export interface TransactionsState {
  readonly transaction: TransactionDocument | null;
  readonly now: Date;
  readonly instanceId: string;
}

export type TransactionEffects =
  /** Claim the order's payment (or take over `takeOverToken`'s claim) and charge it. */
  | { readonly kind: 'charge'; readonly placed: OrderPlaced; readonly takeOverToken: string | null }
  /** Another instance is charging: try again once it has settled. */
  | { readonly kind: 'wait'; readonly orderId: string; readonly holder: string; readonly until: Date }
  /** Already settled: emit its outcome again (same event ids). */
  | { readonly kind: 'report-charge'; readonly placed: OrderPlaced; readonly transaction: TransactionDocument }
  /** Cancelled before any charge: record it so that no charge ever happens. */
  | { readonly kind: 'void'; readonly cancelled: OrderCancelled }
  | { readonly kind: 'refund'; readonly cancelled: OrderCancelled; readonly transaction: TransactionDocument }
  | { readonly kind: 'report-refund'; readonly transaction: TransactionDocument }
  | { readonly kind: 'ignore'; readonly reason: string };

export type TransactionOutcome =
  | { readonly kind: 'settled'; readonly placed: OrderPlaced; readonly transaction: TransactionDocument }
  | { readonly kind: 'refunded'; readonly transaction: TransactionDocument }
  | { readonly kind: 'none' };

export interface TransactionsOptions {
  /**
   * How long a charge claim protects its holder. Longer than any gateway call (tok_slow: 2 s);
   * after it, a redelivery presumes the holder crashed and takes the claim over. @default 30000
   */
  readonly claimLeaseMs?: number;
  /** The payment provider. @default the simulated gateway (payments/simulated-gateway.ts) */
  readonly gateway?: (connection: Connection) => Promise<PaymentGateway>;
}

interface TransactionsDeps {
  readonly transactions: TransactionModel;
  readonly gateway: PaymentGateway;
  readonly instanceId: string;
}

const claimOf = (t: TransactionDocument): Claim => ({
  claimToken: t.claimToken ?? '',
  claimedBy: t.claimedBy ?? 'unknown',
  claimedAt: t.claimedAt ?? new Date(0),
});

/** PURE: what to do about an order.placed given the order's transaction (if any). */
export function decidePlaced(placed: OrderPlaced, state: TransactionsState, claimLeaseMs: number): TransactionEffects {
  const { transaction } = state;
  if (!transaction) return { kind: 'charge', placed, takeOverToken: null };
  switch (transaction.status) {
    case 'pending': {
      const claim = claimOf(transaction);
      const verdict = judgeClaim(claim, state.instanceId, state.now, claimLeaseMs);
      if (verdict.kind === 'held') return { kind: 'wait', orderId: transaction._id, holder: claim.claimedBy, until: verdict.expiresAt };
      return { kind: 'charge', placed, takeOverToken: claim.claimToken };
    }
    case 'captured':
    case 'declined':
    case 'refunded': // it was captured: the confirmation stays true, the refund follows it
      return { kind: 'report-charge', placed, transaction };
    case 'voided':
      return { kind: 'ignore', reason: 'cancelled before payment: not charged' };
  }
}

/**
 * PURE: what to do about an order.cancelled given the order's transaction (if any). A cancel
 * never takes a charge over: it waits for the charge (or its successor) to settle, then refunds.
 */
export function decideCancelled(cancelled: OrderCancelled, state: TransactionsState, claimLeaseMs: number): TransactionEffects {
  const { transaction } = state;
  if (!transaction) return { kind: 'void', cancelled };
  switch (transaction.status) {
    case 'pending': {
      const claim = claimOf(transaction);
      return { kind: 'wait', orderId: transaction._id, holder: claim.claimedBy, until: new Date(claim.claimedAt.getTime() + claimLeaseMs) };
    }
    case 'captured':
      return { kind: 'refund', cancelled, transaction };
    case 'refunded':
      return { kind: 'report-refund', transaction };
    case 'declined':
      return { kind: 'ignore', reason: 'payment was declined: nothing to refund' };
    case 'voided':
      return { kind: 'ignore', reason: 'already voided' };
  }
}

const snapshotOf = (t: TransactionDocument): OrderSnapshot => ({ id: t._id, customerId: t.customerId, restaurantId: t.restaurantId, status: 'PLACED' });

function statusChanged(t: TransactionDocument, transition: Transition): OutgoingEvent {
  const event = orderStatusChanged(
    {
      orderId: transition.orderId,
      customerId: transition.customerId,
      restaurantId: transition.restaurantId,
      status: transition.to,
      previousStatus: transition.from,
      reason: transition.reason,
      at: transition.at,
    },
    { id: stableEventId('order.status-changed', t.transactionId, transition.to), occurredAt: transition.at },
  );
  return { topic: 'order.status-changed', key: t._id, event };
}

/** PURE: the events of an outcome. Ids derive from the transaction, so a repeat is a recognisable duplicate. */
export function transactionEvents(outcome: TransactionOutcome): OutgoingEvent[] {
  if (outcome.kind === 'none') return [];
  const t = outcome.transaction;
  if (outcome.kind === 'refunded') {
    const refundedAt = (t.refundedAt ?? t.updatedAt).toISOString();
    const data = { orderId: t._id, restaurantId: t.restaurantId, transactionId: t.transactionId, amountCents: t.amountCents, refundedAt };
    const event = paymentRefunded(data, { id: stableEventId('payment.refunded', t.transactionId), occurredAt: refundedAt });
    return [{ topic: 'payment.refunded', key: t._id, event }];
  }
  const at = (t.settledAt ?? t.updatedAt).toISOString();
  const p = outcome.placed.data;
  if (t.status === 'declined') {
    const reason = t.declineReason ?? 'payment declined';
    const failed = orderPaymentFailed(
      { orderId: p.orderId, customerId: p.customerId, restaurantId: p.restaurantId, reason, failedAt: at },
      { id: stableEventId('order.payment-failed', t.transactionId), occurredAt: at },
    );
    return [{ topic: 'order.payment-failed', key: t._id, event: failed }, statusChanged(t, failOrderPayment(snapshotOf(t), reason, at))];
  }
  const { orderId, customerId, customerEmail, restaurantId, items, totalCents, currency } = p;
  const confirmed = orderConfirmed(
    { orderId, customerId, customerEmail, restaurantId, items, totalCents, currency, transactionId: t.transactionId, confirmedAt: at },
    { id: stableEventId('order.confirmed', t.transactionId), occurredAt: at },
  );
  return [{ topic: 'order.confirmed', key: t._id, event: confirmed }, statusChanged(t, confirmOrder(snapshotOf(t), at))];
}

/** Claims the order's payment, charges it through the gateway, settles the claim. */
async function charge(placed: OrderPlaced, takeOverToken: string | null, deps: TransactionsDeps): Promise<TransactionOutcome> {
  const p = placed.data;
  const what = `the payment of order ${p.orderId}`;
  const claim = { claimToken: randomUUID(), claimedBy: deps.instanceId, claimedAt: new Date() };
  if (takeOverToken === null) {
    try {
      await deps.transactions.create({
        _id: p.orderId,
        transactionId: randomUUID(),
        status: 'pending',
        customerId: p.customerId,
        restaurantId: p.restaurantId,
        amountCents: p.totalCents,
        currency: p.currency,
        ...claim,
      });
    } catch (error) {
      throw isDuplicateKeyError(error) ? new ConcurrentUpdateError(what) : error;
    }
  } else {
    const taken = await deps.transactions.updateOne({ _id: p.orderId, status: 'pending', claimToken: takeOverToken }, { $set: claim });
    if (taken.modifiedCount === 0) throw new ConcurrentUpdateError(what);
  }
  // Only the claimant gets here; the order id as idempotency key makes a taken-over charge safe too.
  const result = await deps.gateway.charge({ idempotencyKey: p.orderId, paymentToken: p.paymentToken, amountCents: p.totalCents, currency: p.currency });
  const settled = await deps.transactions
    .findOneAndUpdate(
      { _id: p.orderId, status: 'pending', claimToken: claim.claimToken },
      {
        $set: {
          status: result.status,
          chargeReference: result.reference,
          declineReason: result.status === 'declined' ? result.reason : null,
          settledAt: new Date(),
        },
      },
      { returnDocument: 'after' },
    )
    .lean<TransactionDocument>();
  // Taken over while we were charging: the new holder settles it; reading again reports that.
  if (!settled) throw new ConcurrentUpdateError(what);
  return { kind: 'settled', placed, transaction: settled };
}

async function refund(transaction: TransactionDocument, deps: TransactionsDeps): Promise<TransactionOutcome> {
  // Gateway first (idempotent per order), then the record: a crash in between only repeats a no-op refund.
  const result = await deps.gateway.refund({
    idempotencyKey: transaction._id,
    chargeReference: transaction.chargeReference ?? '',
    amountCents: transaction.amountCents,
  });
  const refunded = await deps.transactions
    .findOneAndUpdate(
      { _id: transaction._id, status: 'captured' },
      { $set: { status: 'refunded', refundReference: result.reference, refundedAt: new Date() } },
      { returnDocument: 'after' },
    )
    .lean<TransactionDocument>();
  if (!refunded) throw new ConcurrentUpdateError(`the payment of order ${transaction._id}`);
  return { kind: 'refunded', transaction: refunded };
}

async function voidPayment(cancelled: OrderCancelled, deps: TransactionsDeps): Promise<TransactionOutcome> {
  const c = cancelled.data;
  try {
    await deps.transactions.create({
      _id: c.orderId,
      transactionId: randomUUID(),
      status: 'voided',
      customerId: c.customerId,
      restaurantId: c.restaurantId,
      voidedAt: new Date(),
    });
  } catch (error) {
    // The charge was claimed in the meantime: decide again (wait for it, then refund).
    throw isDuplicateKeyError(error) ? new ConcurrentUpdateError(`the payment of order ${c.orderId}`) : error;
  }
  return { kind: 'none' };
}

export function createTransactionsConsumer(
  options: TransactionsOptions = {},
): ConsumerModule<TransactionsTopic, TransactionsDeps, TransactionsState, TransactionEffects, TransactionOutcome> {
  const claimLeaseMs = options.claimLeaseMs ?? 30_000;
  return {
    name: 'transactions',
    topics: ['order.placed', 'order.cancelled'],
    async setup({ connection, instanceId }) {
      const transactions = transactionModel(connection);
      await transactions.init();
      const gateway = await (options.gateway ?? simulatedPaymentGateway)(connection);
      return { transactions, gateway, instanceId };
    },
    async load(message: ConsumedEvent<TransactionsTopic>, deps) {
      const transaction = await deps.transactions.findById(message.event.data.orderId).lean<TransactionDocument>();
      return { transaction, now: new Date(), instanceId: deps.instanceId };
    },
    decide: (message, state) =>
      message.event.type === 'order.placed' ? decidePlaced(message.event, state, claimLeaseMs) : decideCancelled(message.event, state, claimLeaseMs),
    async persist(effects, deps) {
      switch (effects.kind) {
        case 'charge':
          return charge(effects.placed, effects.takeOverToken, deps);
        case 'wait':
          throw new EffectInProgressError(`the payment of order ${effects.orderId}`, effects.holder, effects.until);
        case 'report-charge':
          return { kind: 'settled', placed: effects.placed, transaction: effects.transaction };
        case 'void':
          return voidPayment(effects.cancelled, deps);
        case 'refund':
          return refund(effects.transaction, deps);
        case 'report-refund':
          return { kind: 'refunded', transaction: effects.transaction };
        case 'ignore':
          return { kind: 'none' };
      }
    },
    emits: transactionEvents,
    describe(effects, outcome) {
      if (effects.kind === 'ignore') return `ignored: ${effects.reason}`;
      if (effects.kind === 'void') return 'voided: cancelled before payment';
      const status = outcome.kind === 'none' ? 'none' : outcome.transaction.status;
      return effects.kind.startsWith('report') ? `already ${status}: outcome re-emitted` : status;
    },
  };
}
