import { describe, expect, it } from 'vitest';
import { checkPlaceOrderInput } from './place-order.request';

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
