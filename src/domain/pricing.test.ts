import { describe, expect, it } from 'vitest';
import type { Restaurant } from './catalog';
import { InvalidInputError } from './domain.errors';
import { ORDER_LIMITS, priceOrder, validateDeliveryAddress } from './pricing';

const trattoria: Restaurant = {
  id: 'trattoria',
  name: 'Trattoria',
  menu: [
    { id: 'margherita', name: 'Pizza Margherita', priceCents: 850, available: true },
    { id: 'tiramisu', name: 'Tiramisù', priceCents: 550, available: true },
    { id: 'truffle', name: 'Truffle Pasta', priceCents: 2400, available: false },
  ],
};

function refusal(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('priceOrder', () => {
  it('prices each line from the catalog and totals them', () => {
    expect(priceOrder(trattoria, [{ menuItemId: 'margherita', quantity: 2 }, { menuItemId: 'tiramisu', quantity: 3 }])).toEqual({
      items: [
        { menuItemId: 'margherita', name: 'Pizza Margherita', quantity: 2, unitPriceCents: 850, lineTotalCents: 1700 },
        { menuItemId: 'tiramisu', name: 'Tiramisù', quantity: 3, unitPriceCents: 550, lineTotalCents: 1650 },
      ],
      totalCents: 3350,
    });
  });

  it('refuses an empty order and one with too many lines', () => {
    expect(refusal(() => priceOrder(trattoria, []))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'items' });
    const many = Array.from({ length: ORDER_LIMITS.maxLines + 1 }, () => ({ menuItemId: 'margherita', quantity: 1 }));
    expect(refusal(() => priceOrder(trattoria, many)).field).toBe('items');
  });

  it('refuses a bad quantity, naming the line', () => {
    for (const quantity of [0, 51, 1.5]) {
      expect(refusal(() => priceOrder(trattoria, [{ menuItemId: 'tiramisu', quantity: 1 }, { menuItemId: 'margherita', quantity }])).field).toBe('items[1].quantity');
    }
  });

  it('refuses items not on the menu or not available', () => {
    expect(refusal(() => priceOrder(trattoria, [{ menuItemId: 'sushi', quantity: 1 }]))).toMatchObject({ field: 'items[0].menuItemId', message: expect.stringMatching(/not on the menu of Trattoria/) });
    expect(refusal(() => priceOrder(trattoria, [{ menuItemId: 'truffle', quantity: 1 }])).message).toMatch(/not available/);
  });
});

describe('validateDeliveryAddress', () => {
  it('trims an address and refuses an empty or overlong one', () => {
    expect(validateDeliveryAddress('  1 Main St  ')).toBe('1 Main St');
    expect(refusal(() => validateDeliveryAddress('   ')).field).toBe('deliveryAddress');
    expect(refusal(() => validateDeliveryAddress('x'.repeat(ORDER_LIMITS.maxAddressLength + 1))).field).toBe('deliveryAddress');
  });
});
