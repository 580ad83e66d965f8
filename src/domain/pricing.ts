import type { Restaurant } from './catalog';
import { InvalidInputError } from './domain.errors';

export const ORDER_LIMITS = {
  minLines: 1,
  maxLines: 50,
  minQuantity: 1,
  maxQuantity: 50,
  maxAddressLength: 500,
  maxIdempotencyKeyLength: 200,
  maxReasonLength: 500,
} as const;

export interface OrderLineRequest {
  readonly menuItemId: string;
  readonly quantity: number;
}

export interface PricedItem {
  readonly menuItemId: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly lineTotalCents: number;
}

export interface PricedOrder {
  readonly items: readonly PricedItem[];
  readonly totalCents: number;
}

/**
 * Prices an order from the catalog alone: the client names items and quantities, never
 * prices. Refuses with the field at fault so an app can point at it.
 */
export function priceOrder(restaurant: Restaurant, lines: readonly OrderLineRequest[]): PricedOrder {
  const { minLines, maxLines, minQuantity, maxQuantity } = ORDER_LIMITS;
  if (lines.length < minLines || lines.length > maxLines) {
    throw new InvalidInputError('items', `an order has ${minLines} to ${maxLines} lines, not ${lines.length}`);
  }
  const items = lines.map((line, index): PricedItem => {
    const field = `items[${index}]`;
    if (!Number.isInteger(line.quantity) || line.quantity < minQuantity || line.quantity > maxQuantity) {
      throw new InvalidInputError(`${field}.quantity`, `quantity must be a whole number from ${minQuantity} to ${maxQuantity}`);
    }
    const item = restaurant.menu.find((m) => m.id === line.menuItemId);
    if (!item) throw new InvalidInputError(`${field}.menuItemId`, `"${line.menuItemId}" is not on the menu of ${restaurant.name}`);
    if (!item.available) throw new InvalidInputError(`${field}.menuItemId`, `"${item.name}" is not available right now`);
    return {
      menuItemId: item.id,
      name: item.name,
      quantity: line.quantity,
      unitPriceCents: item.priceCents,
      lineTotalCents: item.priceCents * line.quantity,
    };
  });
  return { items, totalCents: items.reduce((sum, i) => sum + i.lineTotalCents, 0) };
}

export function validateDeliveryAddress(address: string): string {
  const trimmed = address.trim();
  if (trimmed.length < 1 || trimmed.length > ORDER_LIMITS.maxAddressLength) {
    throw new InvalidInputError('deliveryAddress', `the delivery address must be 1 to ${ORDER_LIMITS.maxAddressLength} characters`);
  }
  return trimmed;
}
