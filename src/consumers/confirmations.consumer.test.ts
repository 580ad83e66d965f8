import { describe, expect, it } from 'vitest';
import { orderConfirmed, type OrderConfirmed } from '../events/order-events';
import { parseEvent } from '../events/parse-event';
import type { ClaimDocument } from '../mongo/models/claim.model';
import type { NotificationDocument } from '../mongo/models/notification.model';
import { claimFixture } from './claim.fixture';
import { confirmationEvents, decideConfirmation, notificationRecord, type ConfirmationsState } from './confirmations.consumer';

const LEASE = 60_000;
const now = new Date('2030-01-01T12:00:00.000Z');

const confirmed = (customerEmail: string | null): OrderConfirmed =>
  orderConfirmed({
    orderId: 'ord-7',
    customerId: 'cust-1',
    customerEmail,
    restaurantId: 'trattoria',
    items: [{ menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 1, unitPriceCents: 850, lineTotalCents: 850 }],
    totalCents: 850,
    currency: 'EUR',
    transactionId: 'tx-1',
    confirmedAt: now.toISOString(),
  });

const notification = (overrides: Partial<NotificationDocument>): NotificationDocument =>
  notificationRecord('ord-7', { recipient: 'ada@example.com', status: 'sent', claimedBy: 'confirmations-a', attempts: 1, createdAt: now, updatedAt: now, ...overrides });

const claim = (overrides: Partial<ClaimDocument> = {}) =>
  claimFixture({ effect: 'email', subjectId: 'ord-7', claimedBy: 'confirmations-a', claimedAt: new Date(now.getTime() - 5_000), ...overrides });

const state = (n: NotificationDocument | null, instanceId = 'confirmations-b', held: ClaimDocument | null = null): ConfirmationsState => ({
  notification: n,
  claim: held,
  now,
  instanceId,
});
const claimed = (c: ClaimDocument, instanceId = 'confirmations-b') => state(null, instanceId, c);

describe('decideConfirmation', () => {
  it('claims and sends the first time, with the order in the email', () => {
    const decision = decideConfirmation(confirmed('ada@example.com'), state(null), LEASE);
    expect(decision).toMatchObject({ kind: 'send', takeOverToken: null, email: { to: 'ada@example.com' } });
  });

  it('records a skip when the customer has no email address', () => {
    expect(decideConfirmation(confirmed(null), state(null), LEASE)).toMatchObject({ kind: 'skip', orderId: 'ord-7' });
    expect(decideConfirmation(confirmed(null), state(notification({ status: 'skipped' })), LEASE).kind).toBe('ignore');
  });

  it('waits for another instance that is sending within its lease', () => {
    expect(decideConfirmation(confirmed('ada@example.com'), claimed(claim()), LEASE)).toMatchObject({ kind: 'wait', holder: 'confirmations-a' });
  });

  it('sends under a claim whose holder crashed (lease over), its own claim, or after a refusal', () => {
    const stale = claim({ claimedAt: new Date(now.getTime() - LEASE) });
    expect(decideConfirmation(confirmed('ada@example.com'), claimed(stale), LEASE)).toMatchObject({ kind: 'send', takeOverToken: 'token-a' });
    expect(decideConfirmation(confirmed('ada@example.com'), claimed(claim(), 'confirmations-a'), LEASE)).toMatchObject({ kind: 'send', takeOverToken: 'token-a' });
    const refused = claim({ failedReason: '550 mailbox unavailable' });
    expect(decideConfirmation(confirmed('ada@example.com'), claimed(refused), LEASE)).toMatchObject({ kind: 'send', takeOverToken: 'token-a' });
    expect(decideConfirmation(confirmed('ada@example.com'), state(notification({ status: 'failed' }), 'confirmations-b', refused), LEASE)).toMatchObject({
      kind: 'send',
      takeOverToken: 'token-a',
    });
  });

  it('never sends again once sent: it only reports', () => {
    expect(decideConfirmation(confirmed('ada@example.com'), state(notification({ status: 'sent' })), LEASE).kind).toBe('report');
  });
});

describe('confirmationEvents', () => {
  it('announces a sent email with an id stable across repeats', () => {
    const sent = notification({ status: 'sent', messageId: '<m@x>', sentAt: now });
    const [event] = confirmationEvents({ kind: 'sent', notification: sent });
    expect(parseEvent('notification.sent', JSON.stringify(event!.event)).data).toEqual({
      orderId: 'ord-7',
      channel: 'email',
      recipient: 'ada@example.com',
      messageId: '<m@x>',
      sentAt: now.toISOString(),
    });
    expect(confirmationEvents({ kind: 'sent', notification: sent })[0]!.event.id).toBe(event!.event.id);
    expect(confirmationEvents({ kind: 'none' })).toEqual([]);
  });
});
