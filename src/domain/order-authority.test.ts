import { describe, expect, it } from 'vitest';
import { couldStillTransition, currentStatus, decideTransition, LEAVABLE_STATUSES, type TransitionLink, type TransitionRequest } from './order-authority';
import type { OrderStatus } from './order-status';

const AT = '2026-11-27T12:00:00.000Z';
const request = (action: TransitionRequest['action'], to: OrderStatus, requestId = `${action}-${to}`): TransitionRequest => ({
  requestId,
  orderId: 'ord-1',
  customerId: 'alice',
  restaurantId: 'napoli',
  action,
  to,
  reason: null,
  requestedBy: action === 'advance' ? 'napoli-staff' : 'alice',
});

/** The links of an order that went through `statuses`, in order, each by its own request. */
function chain(...statuses: OrderStatus[]): Map<OrderStatus, TransitionLink> {
  const links = new Map<OrderStatus, TransitionLink>();
  let from: OrderStatus = 'PLACED';
  for (const to of statuses) {
    const action = to === 'CONFIRMED' ? 'confirm' : to === 'CANCELLED' ? 'cancel' : to === 'PAYMENT_FAILED' ? 'fail-payment' : 'advance';
    links.set(from, { orderId: 'ord-1', from, to, action, requestId: `${action}-${to}`, requestedBy: 'someone', reason: null, at: AT });
    from = to;
  }
  return links;
}

describe('the order authority', () => {
  it('follows the chain from PLACED', () => {
    expect(currentStatus(chain()).status).toBe('PLACED');
    expect(currentStatus(chain('CONFIRMED', 'PREPARING')).status).toBe('PREPARING');
    expect(LEAVABLE_STATUSES).toEqual(['PLACED', 'CONFIRMED', 'PREPARING', 'OUT_FOR_DELIVERY']);
  });

  it('accepts a legal transition, as a link leaving the current status', () => {
    expect(decideTransition(request('cancel', 'CANCELLED'), chain('CONFIRMED'), AT)).toMatchObject({
      kind: 'accept',
      link: { from: 'CONFIRMED', to: 'CANCELLED', action: 'cancel', requestId: 'cancel-CANCELLED', at: AT },
    });
    expect(decideTransition(request('confirm', 'CONFIRMED'), chain(), AT)).toMatchObject({ kind: 'accept', link: { from: 'PLACED', to: 'CONFIRMED' } });
  });

  it('of a cancel racing an advance, whichever came second is refused naming the winner', () => {
    const advanced = chain('CONFIRMED', 'PREPARING');
    expect(decideTransition(request('cancel', 'CANCELLED', 'a-cancel'), advanced, AT)).toEqual({
      kind: 'reject',
      status: 'PREPARING',
      problem: `cannot cancel an order that is PREPARING (advanced to PREPARING by someone at ${AT})`,
    });
    const cancelled = chain('CONFIRMED', 'CANCELLED');
    expect(decideTransition(request('advance', 'PREPARING', 'an-advance'), cancelled, AT)).toMatchObject({
      kind: 'reject',
      problem: `cannot advance to PREPARING an order that is CANCELLED (cancelled by someone at ${AT})`,
    });
  });

  it('refuses a payment confirmation once the order was cancelled: no order.confirmed for it', () => {
    expect(decideTransition(request('confirm', 'CONFIRMED'), chain('CANCELLED'), AT)).toMatchObject({ kind: 'reject', status: 'CANCELLED' });
  });

  it('answers a repeated request as it was answered, however far the order moved since', () => {
    const links = chain('CONFIRMED', 'CANCELLED');
    expect(decideTransition(request('cancel', 'CANCELLED'), links, '2030-01-01T00:00:00.000Z')).toEqual({ kind: 'repeat', link: links.get('CONFIRMED') });
    expect(decideTransition(request('confirm', 'CONFIRMED'), links, AT)).toEqual({ kind: 'repeat', link: links.get('PLACED') });
  });

  it('tells from a lagging view whether a transition may still become legal', () => {
    expect(couldStillTransition('PLACED', 'PREPARING')).toBe(true);
    expect(couldStillTransition('PLACED', 'CANCELLED')).toBe(true);
    expect(couldStillTransition('PREPARING', 'CANCELLED')).toBe(false);
    expect(couldStillTransition('DELIVERED', 'DELIVERED')).toBe(false);
    expect(couldStillTransition('CONFIRMED', 'CONFIRMED')).toBe(false);
  });
});
