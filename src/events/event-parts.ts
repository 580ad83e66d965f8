import { z } from 'zod';
import { ORDER_STATUSES } from '../domain/order-status';

/** Field schemas shared by several events, so each fact is validated one way. */
export const id = z.string().min(1).max(200);
export const cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const isoTime = z.iso.datetime();
export const orderStatus = z.enum(ORDER_STATUSES);

export const pricedItem = z.object({
  menuItemId: id,
  name: z.string().min(1).max(200),
  quantity: z.number().int().min(1).max(50),
  unitPriceCents: cents,
  lineTotalCents: cents,
});
