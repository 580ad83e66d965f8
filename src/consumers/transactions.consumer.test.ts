import { describe, expect, it } from 'vitest';
import { orderCancelled, orderPlaced, type OrderPlaced } from '../events/order-events';
import { parseEvent } from '../events/parse-event';
import type { ClaimDocument } from '../mongo/models/claim.model';
import type { TransactionDocument } from '../mongo/models/transaction.model';
import { claimFixture } from './claim.fixture';
import { decideCancelled, decidePlaced, transactionEvents, transactionRecord, type PaymentState } from './transactions.consumer';

const LEASE = 30_000;
const now = new Date('2030-01-01T12:00:00.000Z');

const placed: OrderPlaced = orderPlaced({
  orderId: 'ord-1',
  customerId: 'cust-1',
  customerEmail: 'ada@example.com',
  restaurantId: 'trattoria',
  items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 850, lineTotalCents: 1700 }],
  totalCents: 1700,
  currency: 'EUR',
  paymentToken: 'tok_visa',
  deliveryAddress: '1 Main St',
  idempotencyKey: null,
  placedAt: now.toISOString(),
});
const cancelled = orderCancelled({ orderId: 'ord-1', customerId: 'cust-1', restaurantId: 'trattoria', reason: null, cancelledBy: 'cust-1', cancelledAt: now.toISOString() });

const tx = (overrides: Partial<TransactionDocument>): TransactionDocument =>
  transactionRecord(
    { orderId: 'ord-1', customerId: 'cust-1', restaurantId: 'trattoria' },
    { transactionId: 'b3c1f7d2-5f0e-4d8e-9a47-0c1e5b2a9d11', status: 'captured', claimedBy: 'transactions-a', amountCents: 1700, ...overrides },
    now,
  );

const claim = (overrides: Partial<ClaimDocument>) =>
  claimFixture({ effect: 'payment', subjectId: 'ord-1', claimedBy: 'transactions-a', claimedAt: new Date(now.getTime() - 1000), ...overrides });

const state = (transaction: TransactionDocument | null, instanceId = 'transactions-b', held: ClaimDocument | null = null): PaymentState => ({
  transaction,
  claim: held,
  now,
  instanceId,
});
const claimed = (c: ClaimDocument, instanceId = 'transactions-b') => state(null, instanceId, c);

describe('decidePlaced', () => {
  it('claims and charges an order nobody has touched', () => {
    expect(decidePlaced(placed, state(null), LEASE)).toEqual({ kind: 'charge', placed, takeOverToken: null });
  });

  it('waits while another instance holds a live claim', () => {
    const decision = decidePlaced(placed, claimed(claim({})), LEASE);
    expect(decision).toMatchObject({ kind: 'wait', holder: 'transactions-a' });
  });

  it('takes over its own claim (a retry) and an expired one (a crashed holder)', () => {
    expect(decidePlaced(placed, claimed(claim({}), 'transactions-a'), LEASE)).toEqual({ kind: 'charge', placed, takeOverToken: 'token-a' });
    const stale = claim({ claimedAt: new Date(now.getTime() - LEASE) });
    expect(decidePlaced(placed, claimed(stale), LEASE)).toEqual({ kind: 'charge', placed, takeOverToken: 'token-a' });
  });

  it('re-reports a settled payment instead of charging again', () => {
    for (const status of ['captured', 'declined', 'refunded'] as const) {
      expect(decidePlaced(placed, state(tx({ status })), LEASE).kind).toBe('report-charge');
    }
  });

  it('never charges an order cancelled before its payment', () => {
    expect(decidePlaced(placed, state(tx({ status: 'voided' })), LEASE)).toMatchObject({ kind: 'ignore' });
    // claimed for the void, its record not written yet (a crash in between): still never charged
    expect(decidePlaced(placed, claimed(claim({ intent: 'void' })), LEASE)).toMatchObject({ kind: 'ignore' });
  });
});

describe('decideCancelled', () => {
  it('voids when no payment exists yet, refunds a captured one, repeats a refund', () => {
    expect(decideCancelled(cancelled, state(null), LEASE)).toMatchObject({ kind: 'void', claimed: false });
    expect(decideCancelled(cancelled, claimed(claim({ intent: 'void' })), LEASE)).toMatchObject({ kind: 'void', claimed: true });
    expect(decideCancelled(cancelled, state(tx({ status: 'captured' })), LEASE).kind).toBe('refund');
    expect(decideCancelled(cancelled, state(tx({ status: 'refunded' })), LEASE).kind).toBe('report-refund');
  });

  it('waits for a charge in progress, and ignores declined or voided payments', () => {
    expect(decideCancelled(cancelled, claimed(claim({})), LEASE)).toMatchObject({ kind: 'wait', until: new Date(now.getTime() - 1000 + LEASE) });
    // …but not past the charger's lease: then it closes the key at the gateway and records what it says
    const silent = claim({ claimedAt: new Date(now.getTime() - LEASE) });
    expect(decideCancelled(cancelled, claimed(silent), LEASE)).toEqual({ kind: 'close', cancelled, takeOverToken: 'token-a' });
    expect(decideCancelled(cancelled, state(tx({ status: 'declined' })), LEASE).kind).toBe('ignore');
    expect(decideCancelled(cancelled, state(tx({ status: 'voided' })), LEASE).kind).toBe('ignore');
  });
});

describe('transactionEvents', () => {
  const settledAt = new Date('2030-01-01T12:00:01.000Z');

  it('asks the order authority to confirm a captured payment, carrying the confirmation, with ids stable across repeats', () => {
    const captured = tx({ status: 'captured', chargeReference: 'ch_1', settledAt });
    const events = transactionEvents({ kind: 'settled', placed, transaction: captured });
    expect(events.map((e) => [e.topic, e.key])).toEqual([['order.transition-requested', 'ord-1']]);
    const request = parseEvent('order.transition-requested', JSON.stringify(events[0]!.event));
    expect(request.data).toMatchObject({ action: 'confirm', to: 'CONFIRMED', requestedBy: 'payments', requestedAt: settledAt.toISOString() });
    expect(request.data.confirmation).toMatchObject({ transactionId: captured.transactionId, totalCents: 1700, confirmedAt: settledAt.toISOString() });

    const again = transactionEvents({ kind: 'settled', placed, transaction: captured });
    expect(again.map((e) => e.event.id)).toEqual(events.map((e) => e.event.id));
  });

  it('asks the order authority to fail an order whose payment was declined, with the reason', () => {
    const declined = tx({ status: 'declined', declineReason: 'card declined', settledAt });
    const [request] = transactionEvents({ kind: 'settled', placed, transaction: declined });
    expect(parseEvent('order.transition-requested', JSON.stringify(request!.event)).data).toMatchObject({
      action: 'fail-payment',
      to: 'PAYMENT_FAILED',
      reason: 'card declined',
      confirmation: null,
    });
  });

  it('reports nothing for a charger that lost to a void', () => {
    expect(transactionEvents({ kind: 'settled', placed, transaction: tx({ status: 'voided' }) })).toEqual([]);
  });

  it('announces a refund once per transaction', () => {
    const refunded = tx({ status: 'refunded', refundedAt: settledAt });
    const afterConfirmation = { ...cancelled, data: { ...cancelled.data, cancelledFrom: 'CONFIRMED' as const } };
    const [event] = transactionEvents({ kind: 'refunded', cancelled: afterConfirmation, transaction: refunded });
    expect(parseEvent('payment.refunded', JSON.stringify(event!.event)).data).toMatchObject({ amountCents: 1700, restaurantId: 'trattoria', orderWasConfirmed: true });
    expect(transactionEvents({ kind: 'refunded', cancelled: afterConfirmation, transaction: refunded })[0]!.event.id).toBe(event!.event.id);
    expect(transactionEvents({ kind: 'none' })).toEqual([]);
  });

  it('says a refund gives back a capture that never became a confirmed order when the cancel won while PLACED', () => {
    // Drill 1 found it: the charge captured while the cancel was accepted first; analytics had
    // never counted that capture, yet took its refund off the revenue.
    const refunded = tx({ status: 'refunded', refundedAt: settledAt });
    const beforeConfirmation = { ...cancelled, data: { ...cancelled.data, cancelledFrom: 'PLACED' as const } };
    const [event] = transactionEvents({ kind: 'refunded', cancelled: beforeConfirmation, transaction: refunded });
    expect(parseEvent('payment.refunded', JSON.stringify(event!.event)).data).toMatchObject({ orderWasConfirmed: false });
  });
});
