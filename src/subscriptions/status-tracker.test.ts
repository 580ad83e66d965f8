import { describe, expect, it } from 'vitest';
import type { OrderStatus } from '../domain/order-status';
import { RecentStatusChanges, StatusTracker, type StatusUpdate } from './status-tracker';

const update = (status: OrderStatus, orderId = 'o-1'): StatusUpdate => ({
  orderId,
  customerId: 'c-1',
  restaurantId: 'r-1',
  status,
  at: new Date().toISOString(),
  reason: null,
});

describe('StatusTracker', () => {
  it('drops buffered changes the read model already reflects, keeps later ones', () => {
    const tracker = new StatusTracker(update('PREPARING'));
    const buffered = ['CONFIRMED', 'PREPARING', 'OUT_FOR_DELIVERY', 'OUT_FOR_DELIVERY', 'DELIVERED'] as const;
    expect(buffered.filter((s) => tracker.accept(update(s)))).toEqual(['OUT_FOR_DELIVERY', 'DELIVERED']);
    expect(tracker.latest()?.status).toBe('DELIVERED');
  });

  it('ignores what the projector would ignore (a late cancel after delivery)', () => {
    const tracker = new StatusTracker(update('DELIVERED'));
    expect(tracker.accept(update('CANCELLED'))).toBe(false);
  });

  it('starts from the first change when the read model has nothing yet', () => {
    const tracker = new StatusTracker(null);
    expect(tracker.latest()).toBeNull();
    expect(tracker.accept(update('CONFIRMED'))).toBe(true);
    expect(tracker.accept(update('PREPARING'))).toBe(true);
  });
});

describe('RecentStatusChanges', () => {
  it('keeps each order\'s changes once, in order, and forgets the least recently changed', () => {
    const recent = new RecentStatusChanges(2);
    recent.record(update('CONFIRMED', 'a'));
    recent.record(update('CONFIRMED', 'a'));
    recent.record(update('PREPARING', 'a'));
    recent.record(update('CONFIRMED', 'b'));
    expect(recent.of('a').map((c) => c.status)).toEqual(['CONFIRMED', 'PREPARING']);
    recent.record(update('CONFIRMED', 'c'));
    expect(recent.of('a')).toEqual([]);
    expect(recent.of('b')).toHaveLength(1);
    expect(recent.of('c')).toHaveLength(1);
  });
});
