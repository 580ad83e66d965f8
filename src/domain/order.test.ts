import { describe, expect, it } from 'vitest';
import { OrderTransitionError } from './domain.errors';
import { advanceOrder, applyStatusChange, cancelOrder, confirmOrder, failOrderPayment, type OrderSnapshot, type StatusChange } from './order';
import { canTransition, isTerminal, ORDER_STATUSES, type OrderStatus } from './order-status';

const at = '2030-01-01T12:00:00.000Z';
const order = (status: OrderStatus): OrderSnapshot => ({ id: 'ord-1', customerId: 'cust-1', restaurantId: 'trattoria', status });

/** Expects `run` to refuse with a CONFLICT naming the from-state and the action. */
function expectRefusal(run: () => unknown, from: OrderStatus, action: string) {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OrderTransitionError);
  expect(error).toMatchObject({ code: 'CONFLICT', from, action, message: `cannot ${action} an order that is ${from}` });
}

describe('the order aggregate', () => {
  it('confirms a placed order', () => {
    expect(confirmOrder(order('PLACED'), at)).toEqual({ orderId: 'ord-1', customerId: 'cust-1', restaurantId: 'trattoria', from: 'PLACED', to: 'CONFIRMED', reason: null, at });
  });

  it('fails the payment of a placed order, with the reason', () => {
    expect(failOrderPayment(order('PLACED'), 'card declined', at)).toMatchObject({ from: 'PLACED', to: 'PAYMENT_FAILED', reason: 'card declined' });
  });

  it('cancels a placed or confirmed order', () => {
    expect(cancelOrder(order('PLACED'), 'changed my mind', at)).toMatchObject({ from: 'PLACED', to: 'CANCELLED', reason: 'changed my mind' });
    expect(cancelOrder(order('CONFIRMED'), null, at)).toMatchObject({ from: 'CONFIRMED', to: 'CANCELLED' });
  });

  it('advances a confirmed order one fulfilment step at a time', () => {
    expect(advanceOrder(order('CONFIRMED'), 'PREPARING', at)).toMatchObject({ from: 'CONFIRMED', to: 'PREPARING' });
    expect(advanceOrder(order('PREPARING'), 'OUT_FOR_DELIVERY', at)).toMatchObject({ from: 'PREPARING', to: 'OUT_FOR_DELIVERY' });
    expect(advanceOrder(order('OUT_FOR_DELIVERY'), 'DELIVERED', at)).toMatchObject({ from: 'OUT_FOR_DELIVERY', to: 'DELIVERED' });
  });

  it('refuses illegal transitions, naming the from-state and the action', () => {
    expectRefusal(() => confirmOrder(order('CONFIRMED'), at), 'CONFIRMED', 'confirm');
    expectRefusal(() => confirmOrder(order('CANCELLED'), at), 'CANCELLED', 'confirm');
    expectRefusal(() => failOrderPayment(order('CONFIRMED'), 'late', at), 'CONFIRMED', 'fail the payment of');
    expectRefusal(() => cancelOrder(order('PREPARING'), null, at), 'PREPARING', 'cancel');
    expectRefusal(() => cancelOrder(order('DELIVERED'), null, at), 'DELIVERED', 'cancel');
    expectRefusal(() => advanceOrder(order('PLACED'), 'PREPARING', at), 'PLACED', 'advance to PREPARING');
    expectRefusal(() => advanceOrder(order('CONFIRMED'), 'DELIVERED', at), 'CONFIRMED', 'advance to DELIVERED');
    expectRefusal(() => advanceOrder(order('CONFIRMED'), 'CANCELLED', at), 'CONFIRMED', 'advance to CANCELLED');
  });
});

describe('the status machine', () => {
  it('allows exactly the documented transitions', () => {
    const allowed = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
    expect(allowed.sort()).toEqual(
      [
        'PLACED→CONFIRMED',
        'PLACED→PAYMENT_FAILED',
        'PLACED→CANCELLED',
        'CONFIRMED→PREPARING',
        'CONFIRMED→CANCELLED',
        'PREPARING→OUT_FOR_DELIVERY',
        'OUT_FOR_DELIVERY→DELIVERED',
      ].sort(),
    );
    expect(ORDER_STATUSES.filter(isTerminal)).toEqual(['PAYMENT_FAILED', 'DELIVERED', 'CANCELLED']);
  });

  it('applies a legal status change to a read model and ignores a duplicate or late one', () => {
    const change = (status: OrderStatus): StatusChange => ({ status, at, reason: null });
    const placed = { status: 'PLACED' as OrderStatus, statusHistory: [change('PLACED')] };
    const confirmed = applyStatusChange(placed, change('CONFIRMED'))!;
    expect(confirmed.status).toBe('CONFIRMED');
    expect(confirmed.statusHistory.map((h) => h.status)).toEqual(['PLACED', 'CONFIRMED']);
    expect(applyStatusChange(confirmed, change('CONFIRMED'))).toBeNull();
    expect(applyStatusChange(applyStatusChange(confirmed, change('CANCELLED'))!, change('PREPARING'))).toBeNull();
  });
});
