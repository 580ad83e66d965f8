import { describe, expect, it } from 'vitest';
import type { TransitionLink } from '../domain/order-authority';
import type { OrderStatus } from '../domain/order-status';
import { orderTransitionRequested, transitionRequestId, type OrderTransitionRequested } from '../events/order-events';
import { parseEvent } from '../events/parse-event';
import type { ConsumedEvent } from '../kafka/consumer-module';
import { createOrderAuthority, type AuthorityRound } from './order-authority.consumer';

const AT = '2030-01-01T12:00:00.000Z';
const authority = createOrderAuthority();

function request(action: OrderTransitionRequested['data']['action'], to: OrderStatus, requestedBy = 'alice'): ConsumedEvent<'order.transition-requested'> {
  const confirmation =
    action === 'confirm'
      ? { orderId: 'ord-1', customerId: 'alice', customerEmail: null, restaurantId: 'napoli', items: [{ menuItemId: 'm', name: 'Margherita', quantity: 1, unitPriceCents: 850, lineTotalCents: 850 }], totalCents: 850, currency: 'EUR', transactionId: 'tx-1', confirmedAt: AT }
      : null;
  const event = orderTransitionRequested({
    requestId: transitionRequestId('ord-1', to, requestedBy),
    orderId: 'ord-1',
    customerId: 'alice',
    restaurantId: 'napoli',
    action,
    to,
    reason: action === 'fail-payment' ? 'card declined' : null,
    requestedBy,
    requestedAt: AT,
    confirmation,
  });
  return { event, key: 'ord-1', position: { topic: 'order.transition-requested', partition: 0, offset: 0 } } as ConsumedEvent<'order.transition-requested'>;
}

const round = (...chain: OrderStatus[]): AuthorityRound => {
  const links = new Map<OrderStatus, TransitionLink>();
  let from: OrderStatus = 'PLACED';
  for (const to of chain) {
    links.set(from, { orderId: 'ord-1', from, to, action: to === 'CONFIRMED' ? 'confirm' : 'advance', requestId: `r-${to}`, requestedBy: 'someone', reason: null, at: AT });
    from = to;
  }
  return { links: new Map([['ord-1', links]]), now: new Date(AT) };
};

const emitted = (message: ConsumedEvent<'order.transition-requested'>, state: AuthorityRound) => {
  const effects = authority.decide(message, state);
  return authority.emits(effects).map((e) => ({ topic: e.topic, event: parseEvent(e.topic as 'order.status-changed', JSON.stringify(e.event)) }));
};

describe('the order authority consumer', () => {
  it('announces an accepted payment confirmation: order.confirmed, then CONFIRMED; nobody waits on it', () => {
    const events = emitted(request('confirm', 'CONFIRMED', 'payments'), round());
    expect(events.map((e) => e.topic)).toEqual(['order.confirmed', 'order.status-changed']);
    expect(events[1]!.event.data).toMatchObject({ status: 'CONFIRMED', previousStatus: 'PLACED' });
  });

  it('announces nothing for a confirmation refused because a cancel won', () => {
    const cancelled: AuthorityRound = {
      links: new Map([['ord-1', new Map([['PLACED', { orderId: 'ord-1', from: 'PLACED', to: 'CANCELLED', action: 'cancel', requestId: 'c', requestedBy: 'alice', reason: null, at: AT }]])]]),
      now: new Date(AT),
    } as AuthorityRound;
    expect(emitted(request('confirm', 'CONFIRMED', 'payments'), cancelled)).toEqual([]);
  });

  it('answers an accepted cancel with order.cancelled (what refunds follow), CANCELLED and the decision', () => {
    const events = emitted(request('cancel', 'CANCELLED'), round('CONFIRMED'));
    expect(events.map((e) => e.topic)).toEqual(['order.cancelled', 'order.status-changed', 'order.transition-decided']);
    expect(events[2]!.event.data).toMatchObject({ accepted: true, status: 'CANCELLED', from: 'CONFIRMED', problem: null });
    // What the refund tells analytics: whether the capture had become a confirmed order.
    expect(events[0]!.event.data).toMatchObject({ cancelledFrom: 'CONFIRMED' });
  });

  it('answers a refused cancel with the decision only, naming the transition that won', () => {
    const events = emitted(request('cancel', 'CANCELLED'), round('CONFIRMED', 'PREPARING'));
    expect(events.map((e) => e.topic)).toEqual(['order.transition-decided']);
    expect(events[0]!.event.data).toMatchObject({ accepted: false, status: 'PREPARING', from: null, problem: `cannot cancel an order that is PREPARING (advanced to PREPARING by someone at ${AT})` });
  });

  it('re-announces a repeated request with the same event ids', () => {
    const first = authority.emits(authority.decide(request('advance', 'PREPARING', 'napoli'), round('CONFIRMED')));
    const repeated = round('CONFIRMED');
    const link = authority.decide(request('advance', 'PREPARING', 'napoli'), repeated).decision;
    if (link.kind !== 'accept') throw new Error('expected an accept');
    (repeated.links.get('ord-1') as Map<OrderStatus, TransitionLink>).set('CONFIRMED', link.link);
    const again = authority.emits(authority.decide(request('advance', 'PREPARING', 'napoli'), repeated));
    expect(again.map((e) => e.event.id)).toEqual(first.map((e) => e.event.id));
  });
});
