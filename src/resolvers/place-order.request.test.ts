import { describe, expect, it } from 'vitest';
import { checkPlaceOrderInput, chooseIdempotencyKey } from './place-order.request';

const input = { restaurantId: 'r-1', items: [{ menuItemId: 'm', quantity: 1 }], deliveryAddress: ' 1 Main St ', paymentToken: 'tok_visa' };

describe('checkPlaceOrderInput', () => {
  it('passes a good request on, address trimmed, no key', () => {
    expect(checkPlaceOrderInput(input)).toMatchObject({ deliveryAddress: '1 Main St', idempotencyKey: null });
  });

  it.each([
    ['restaurantId', { restaurantId: ' ' }],
    ['deliveryAddress', { deliveryAddress: '   ' }],
    ['deliveryAddress', { deliveryAddress: 'x'.repeat(501) }],
    ['paymentToken', { paymentToken: '' }],
    ['paymentToken', { paymentToken: 't'.repeat(201) }],
    ['idempotencyKey', { idempotencyKey: '' }],
    ['idempotencyKey', { idempotencyKey: 'k'.repeat(201) }],
  ])('names %s when it is out of bounds', (field, change) => {
    expect(() => checkPlaceOrderInput({ ...input, ...change })).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field }));
  });
});

describe('chooseIdempotencyKey', () => {
  it('takes the input\'s key, else the Idempotency-Key header, and refuses two different ones', () => {
    expect(chooseIdempotencyKey('k1', null)).toBe('k1');
    expect(chooseIdempotencyKey(null, 'h1')).toBe('h1');
    expect(chooseIdempotencyKey('same', 'same')).toBe('same');
    expect(chooseIdempotencyKey(null, null)).toBeNull();
    expect(() => chooseIdempotencyKey('k1', 'h1')).toThrow(/differ/);
  });
});
