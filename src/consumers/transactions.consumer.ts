import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { stableEventId } from '../events/envelope';
import { orderTransitionRequested, paymentRefunded, transitionRequestId, type OrderCancelled, type OrderPlaced } from '../events/order-events';
import { CONSUMER_GROUP_TOPICS } from '../events/consumer-groups';
import { TOPICS } from '../events/topics';
import { settledFailed, settledOk, StaleDecisionError, type ConsumedEvent, type ConsumerModule, type Settled } from '../kafka/consumer-module';
import type { OutgoingEvent } from '../kafka/event-producer';
import { findByIds } from '../mongo/bulk';
import { claimId, claimModel, type ClaimDocument, type ClaimModel } from '../mongo/models/claim.model';
import { transactionModel, type TransactionDocument, type TransactionModel } from '../mongo/models/transaction.model';
import type { ChargeResult, PaymentGateway } from '../payments/payment-gateway';
import { simulatedPaymentGateway } from '../payments/simulated-gateway';
import { claimEffects, judgeClaim, settleEffects } from './claim';
import { EffectInProgressError } from './consumer.errors';

/*
 * The transactions consumer: order.placed → charge once → a request to the order authority to
 * confirm the order or fail it (order.transition-requested); order.cancelled (emitted only for
 * an accepted cancel) → refund a captured payment once → payment.refunded.
 *
 * At most one capture per order, even with two instances and redelivery: the order's payment
 * is claimed (claims collection, `payment:<orderId>`) before the gateway is called and only the
 * claimant calls it (see claim.ts); the gateway itself is idempotent per order id, so even a
 * claim taken over from a presumed-dead instance cannot charge twice. The outcome is settled by
 * inserting the order's transaction. A cancel that arrives first claims the payment to void
 * it, so a late order.placed finds the void and never charges.
 *
 * A round of new orders costs no read and two inserts: the claims (a fresh order has no claim,
 * and a taken key says otherwise: those orders are decided again on what is stored), then,
 * after the gateway calls side by side, the settlements. Refunds (rare) go one by one.
 */

type TransactionsTopic = (typeof CONSUMER_GROUP_TOPICS.transactions)[number];
const PAYMENT = 'payment';

/** What the consumer knows of one order's payment. */
export interface PaymentState {
  readonly transaction: TransactionDocument | null;
  /** The order's payment claim, when there is one. */
  readonly claim: ClaimDocument | null;
  readonly now: Date;
  readonly instanceId: string;
}

export interface TransactionsRound {
  readonly transactions: ReadonlyMap<string, TransactionDocument>;
  readonly claims: ReadonlyMap<string, ClaimDocument>;
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
  /** Cancelled before any charge: claim the payment for the void (unless already ours) and record it, so no charge ever happens. */
  | { readonly kind: 'void'; readonly cancelled: OrderCancelled; readonly claimed: boolean }
  | { readonly kind: 'refund'; readonly cancelled: OrderCancelled; readonly transaction: TransactionDocument }
  /** Cancelled while a charge claim outlived its lease: take the claim over, close the key at the gateway, record what it says. */
  | { readonly kind: 'close'; readonly cancelled: OrderCancelled; readonly takeOverToken: string }
  | { readonly kind: 'report-refund'; readonly cancelled: OrderCancelled; readonly transaction: TransactionDocument }
  | { readonly kind: 'ignore'; readonly reason: string };

export type TransactionOutcome =
  | { readonly kind: 'settled'; readonly placed: OrderPlaced; readonly transaction: TransactionDocument }
  | { readonly kind: 'refunded'; readonly cancelled: OrderCancelled; readonly transaction: TransactionDocument }
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
  readonly claims: ClaimModel;
  readonly gateway: PaymentGateway;
  readonly instanceId: string;
}

/** PURE: what to do about an order.placed given the order's payment. */
export function decidePlaced(placed: OrderPlaced, state: PaymentState, claimLeaseMs: number): TransactionEffects {
  const { transaction, claim } = state;
  if (transaction) {
    if (transaction.status === 'voided') return { kind: 'ignore', reason: 'cancelled before payment: not charged' };
    // captured, declined, or refunded (it was captured: the confirmation stays true, the refund follows it)
    return { kind: 'report-charge', placed, transaction };
  }
  if (!claim) return { kind: 'charge', placed, takeOverToken: null };
  if (claim.intent === 'void') return { kind: 'ignore', reason: 'cancelled before payment: not charged' };
  if (claim.failedReason !== null) return { kind: 'charge', placed, takeOverToken: claim.claimToken };
  const verdict = judgeClaim(claim, state.instanceId, state.now, claimLeaseMs);
  if (verdict.kind === 'held') return { kind: 'wait', orderId: placed.data.orderId, holder: claim.claimedBy, until: verdict.expiresAt };
  return { kind: 'charge', placed, takeOverToken: claim.claimToken };
}

/**
 * PURE: what to do about an order.cancelled given the order's payment. A cancel never takes a
 * charge over: it waits for the charge (or its successor) to settle, then refunds.
 */
export function decideCancelled(cancelled: OrderCancelled, state: PaymentState, claimLeaseMs: number): TransactionEffects {
  const { transaction, claim } = state;
  if (transaction) {
    switch (transaction.status) {
      case 'captured':
        return { kind: 'refund', cancelled, transaction };
      case 'refunded':
        return { kind: 'report-refund', cancelled, transaction };
      case 'declined':
        return { kind: 'ignore', reason: 'payment was declined: nothing to refund' };
      case 'voided':
        return { kind: 'ignore', reason: 'already voided' };
    }
  }
  if (!claim) return { kind: 'void', cancelled, claimed: false };
  if (claim.intent === 'void') return { kind: 'void', cancelled, claimed: true }; // the void's record is missing: finish it
  const verdict = judgeClaim(claim, state.instanceId, state.now, claimLeaseMs);
  if (verdict.kind === 'held') return { kind: 'wait', orderId: cancelled.data.orderId, holder: claim.claimedBy, until: verdict.expiresAt };
  // The charger went silent past its lease (or it was us, and we are retrying): wait no longer.
  return { kind: 'close', cancelled, takeOverToken: claim.claimToken };
}

/** Who asks the order authority to confirm or fail an order on its payment's outcome. */
export const PAYMENTS_REQUESTER = 'payments';

/** Asks the order authority to confirm the order (carrying the confirmation) or to fail it. */
function transitionRequest(placed: OrderPlaced, t: TransactionDocument, at: string): OutgoingEvent {
  const p = placed.data;
  const { orderId, customerId, customerEmail, restaurantId, items, totalCents, currency } = p;
  const captured = t.status !== 'declined';
  const to = captured ? 'CONFIRMED' : 'PAYMENT_FAILED';
  const requestId = transitionRequestId(orderId, to, PAYMENTS_REQUESTER);
  const event = orderTransitionRequested(
    {
      requestId,
      orderId,
      customerId,
      restaurantId,
      action: captured ? 'confirm' : 'fail-payment',
      to,
      reason: captured ? null : (t.declineReason ?? 'payment declined'),
      requestedBy: PAYMENTS_REQUESTER,
      requestedAt: at,
      confirmation: captured ? { orderId, customerId, customerEmail, restaurantId, items, totalCents, currency, transactionId: t.transactionId, confirmedAt: at } : null,
    },
    { id: stableEventId(TOPICS.orderTransitionRequested, requestId), occurredAt: at },
  );
  return { topic: TOPICS.orderTransitionRequested, key: orderId, event };
}

/**
 * PURE: the events of an outcome. A charge's outcome is a request to the order authority, which
 * alone confirms or fails the order (a cancel may have won meanwhile). Ids derive from the
 * transaction, so a repeat is a recognisable duplicate.
 */
export function transactionEvents(outcome: TransactionOutcome): OutgoingEvent[] {
  if (outcome.kind === 'none') return [];
  const t = outcome.transaction;
  if (t.status === 'voided') return []; // a charger that lost to a void reports nothing
  if (outcome.kind === 'refunded') {
    const refundedAt = (t.refundedAt ?? t.updatedAt).toISOString();
    // Cancelled while PLACED: the authority never confirmed it, so its capture was never revenue.
    const orderWasConfirmed = outcome.cancelled.data.cancelledFrom !== 'PLACED';
    const data = { orderId: t._id, restaurantId: t.restaurantId, transactionId: t.transactionId, amountCents: t.amountCents, refundedAt, orderWasConfirmed };
    const event = paymentRefunded(data, { id: stableEventId(TOPICS.paymentRefunded, t.transactionId), occurredAt: refundedAt });
    return [{ topic: TOPICS.paymentRefunded, key: t._id, event }];
  }
  return [transitionRequest(outcome.placed, t, (t.settledAt ?? t.updatedAt).toISOString())];
}

/** A settled transaction as inserted: every field set, since bulk inserts bypass the model's defaults. */
export function transactionRecord(
  ids: { orderId: string; customerId: string; restaurantId: string },
  fields: Partial<TransactionDocument> & Pick<TransactionDocument, 'status' | 'claimedBy'>,
  now: Date,
): TransactionDocument {
  return {
    _id: ids.orderId,
    transactionId: randomUUID(),
    customerId: ids.customerId,
    restaurantId: ids.restaurantId,
    amountCents: 0,
    currency: 'EUR',
    chargeReference: null,
    declineReason: null,
    settledAt: null,
    refundReference: null,
    refundedAt: null,
    voidedAt: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

function chargedRecord(placed: OrderPlaced, result: ChargeResult, claimedBy: string, now: Date): TransactionDocument {
  const p = placed.data;
  return transactionRecord(p, {
    status: result.status,
    claimedBy,
    amountCents: p.totalCents,
    currency: p.currency,
    chargeReference: result.reference,
    declineReason: result.status === 'declined' ? result.reason : null,
    settledAt: now,
  }, now);
}

async function refund(cancelled: OrderCancelled, transaction: TransactionDocument, deps: TransactionsDeps): Promise<TransactionOutcome> {
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
  if (!refunded) throw new StaleDecisionError(`the payment of order ${transaction._id}`);
  return { kind: 'refunded', cancelled, transaction: refunded };
}

/**
 * A cancel found a charge claim past its lease: takes the claim over (as a void), closes the
 * order's key at the gateway, and records what it answers: the charge made before (then the
 * same cancel, decided again, refunds it) or a void (then a late charger is declined).
 */
async function closeAbandonedCharge(e: Extract<TransactionEffects, { kind: 'close' }>, deps: TransactionsDeps): Promise<TransactionOutcome> {
  const c = e.cancelled.data;
  const [claim] = await claimEffects(deps.claims, [{ effect: PAYMENT, subjectId: c.orderId, intent: 'void', takeOverToken: e.takeOverToken }], deps.instanceId);
  if (claim instanceof Error) throw claim;
  const answer = await deps.gateway.closeCharge(c.orderId);
  const now = new Date();
  const record =
    answer.status === 'voided'
      ? transactionRecord(c, { status: 'voided', claimedBy: deps.instanceId, voidedAt: now }, now)
      : transactionRecord(
          c,
          {
            status: answer.status,
            claimedBy: deps.instanceId,
            amountCents: answer.amountCents,
            chargeReference: answer.reference,
            declineReason: answer.status === 'declined' ? answer.reason : null,
            settledAt: now,
          },
          now,
        );
  const [stored] = await settleEffects(deps.transactions, [record]);
  // Captured after all: decide this cancel again, on the recorded charge (a refund).
  if (stored!.status === 'captured') throw new StaleDecisionError(`the payment of order ${c.orderId}`);
  return { kind: 'none' };
}

/** Persists a round: claims, then the charges side by side, then every settlement in one insert. */
async function persistPayments(effects: readonly TransactionEffects[], deps: TransactionsDeps): Promise<Settled<TransactionOutcome>[]> {
  const results: Settled<TransactionOutcome>[] = effects.map(() => settledOk({ kind: 'none' }));
  const needClaim = effects.flatMap((e, i) => ((e.kind === 'charge' || (e.kind === 'void' && !e.claimed)) ? [i] : []));
  const claimed = await claimEffects(
    deps.claims,
    needClaim.map((i) => {
      const e = effects[i] as Extract<TransactionEffects, { kind: 'charge' | 'void' }>;
      const orderId = e.kind === 'charge' ? e.placed.data.orderId : e.cancelled.data.orderId;
      return { effect: PAYMENT, subjectId: orderId, intent: e.kind, takeOverToken: e.kind === 'charge' ? e.takeOverToken : null };
    }),
    deps.instanceId,
  );
  const holding = new Set<number>();
  needClaim.forEach((i, n) => {
    const claim = claimed[n]!;
    if (claim instanceof Error) results[i] = settledFailed(claim);
    else holding.add(i);
  });

  // Only claimants get here; the order id as idempotency key makes a taken-over charge safe too.
  const settlements: { index: number; record: Promise<TransactionDocument> }[] = [];
  effects.forEach((e, i) => {
    if (e.kind === 'charge' && holding.has(i)) {
      const p = e.placed.data;
      const charging = deps.gateway.charge({ idempotencyKey: p.orderId, paymentToken: p.paymentToken, amountCents: p.totalCents, currency: p.currency });
      settlements.push({ index: i, record: charging.then((result) => chargedRecord(e.placed, result, deps.instanceId, new Date())) });
    } else if (e.kind === 'void' && (holding.has(i) || e.claimed)) {
      const now = new Date();
      settlements.push({ index: i, record: Promise.resolve(transactionRecord(e.cancelled.data, { status: 'voided', claimedBy: deps.instanceId, voidedAt: now }, now)) });
    }
  });
  const records = await Promise.allSettled(settlements.map((s) => s.record));
  const ready = settlements.flatMap((s, n) => {
    const record = records[n]!;
    if (record.status === 'rejected') {
      results[s.index] = settledFailed(record.reason);
      return [];
    }
    return [{ index: s.index, record: record.value }];
  });
  const stored = await settleEffects(
    deps.transactions,
    ready.map((r) => r.record),
  );
  ready.forEach(({ index }, n) => {
    const e = effects[index]!;
    results[index] = settledOk(e.kind === 'charge' ? { kind: 'settled', placed: e.placed, transaction: stored[n]! } : { kind: 'none' });
  });

  await Promise.all(
    effects.map(async (e, i) => {
      switch (e.kind) {
        case 'close':
          results[i] = await closeAbandonedCharge(e, deps).then(settledOk, settledFailed);
          break;
        case 'wait':
          results[i] = settledFailed(new EffectInProgressError(`the payment of order ${e.orderId}`, e.holder, e.until));
          break;
        case 'report-charge':
          results[i] = settledOk({ kind: 'settled', placed: e.placed, transaction: e.transaction });
          break;
        case 'report-refund':
          results[i] = settledOk({ kind: 'refunded', cancelled: e.cancelled, transaction: e.transaction });
          break;
        case 'refund':
          results[i] = await refund(e.cancelled, e.transaction, deps).then(settledOk, settledFailed);
          break;
        default:
          break;
      }
    }),
  );
  return results;
}

const orderIdOf = (message: ConsumedEvent<TransactionsTopic>) => message.event.data.orderId;

export function createTransactionsConsumer(
  options: TransactionsOptions = {},
): ConsumerModule<TransactionsTopic, TransactionsDeps, TransactionsRound, TransactionEffects, TransactionOutcome> {
  const claimLeaseMs = options.claimLeaseMs ?? 30_000;
  return {
    name: 'transactions',
    topics: CONSUMER_GROUP_TOPICS.transactions,
    async setup({ connection, instanceId }) {
      const [transactions, claims] = [transactionModel(connection), claimModel(connection)];
      await Promise.all([transactions.init(), claims.init()]);
      const gateway = await (options.gateway ?? simulatedPaymentGateway)(connection);
      return { transactions, claims, gateway, instanceId };
    },
    async load(messages, deps, mode) {
      const now = new Date();
      // A fresh order has no claim and so no transaction: the claim's insert tells if it had.
      if (mode === 'guess') return { transactions: new Map(), claims: new Map(), now, instanceId: deps.instanceId };
      const orderIds = messages.map(orderIdOf);
      const [transactions, claims] = await Promise.all([
        findByIds(deps.transactions, orderIds),
        findByIds(deps.claims, orderIds.map((id) => claimId(PAYMENT, id))),
      ]);
      return { transactions, claims, now, instanceId: deps.instanceId };
    },
    decide(message, round) {
      const orderId = orderIdOf(message);
      const state: PaymentState = {
        transaction: round.transactions.get(orderId) ?? null,
        claim: round.claims.get(claimId(PAYMENT, orderId)) ?? null,
        now: round.now,
        instanceId: round.instanceId,
      };
      return message.event.type === TOPICS.orderPlaced ? decidePlaced(message.event, state, claimLeaseMs) : decideCancelled(message.event, state, claimLeaseMs);
    },
    persist: persistPayments,
    emits: transactionEvents,
    describe(effects, outcome) {
      if (effects.kind === 'ignore') return `ignored: ${effects.reason}`;
      if (effects.kind === 'void') return 'voided: cancelled before payment';
      if (effects.kind === 'close') return 'closed: the charger went silent, the gateway key closed';
      const status = outcome.kind === 'none' ? 'none' : outcome.transaction.status;
      return effects.kind.startsWith('report') ? `already ${status}: outcome re-emitted` : status;
    },
  };
}
