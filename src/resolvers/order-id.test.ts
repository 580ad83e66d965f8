import { describe, expect, it } from 'vitest';
import { orderIdForKey, placedEventIdFor, requestHash, uuidV5 } from './order-id';

describe('derived ids', () => {
  it('computes RFC 4122 version-5 UUIDs (the DNS-namespace test vector)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
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
