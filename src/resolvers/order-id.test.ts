import { describe, expect, it } from 'vitest';
import { orderIdForKey, placedEventIdFor, requestHash } from './order-id';

describe('derived ids', () => {
  it('never changes: stored orders and events are keyed by these ids', () => {
    expect(orderIdForKey('c-1', 'k')).toBe('b3f2b29f-e894-584d-8470-0d11bcb43644');
    expect(placedEventIdFor('o-1')).toBe('718cdd2a-0329-5c9d-b92b-95e5b156db10');
  });

  it('gives one order id per customer and key', () => {
    expect(orderIdForKey('c-1', 'k')).toBe(orderIdForKey('c-1', 'k'));
    expect(orderIdForKey('c-1', 'k')).not.toBe(orderIdForKey('c-2', 'k'));
    expect(orderIdForKey('c-1', 'k')).not.toBe(orderIdForKey('c-1', 'k2'));
    // No ambiguity from joining the parts.
    expect(orderIdForKey('c-1a', 'b')).not.toBe(orderIdForKey('c-1', 'ab'));
    expect(placedEventIdFor('o-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('hashes what was asked, so a changed request under the same key is told apart', () => {
    const request = { restaurantId: 'r', lines: [{ menuItemId: 'm', quantity: 1 }], deliveryAddress: 'a', paymentToken: 'tok_visa' };
    expect(requestHash(request)).toBe(requestHash({ ...request, lines: [{ menuItemId: 'm', quantity: 1 }] }));
    expect(requestHash(request)).not.toBe(requestHash({ ...request, lines: [{ menuItemId: 'm', quantity: 2 }] }));
    expect(requestHash(request)).not.toBe(requestHash({ ...request, paymentToken: 'tok_mastercard' }));
  });
});
