import { z } from 'zod';
import { cents, id, isoTime } from './event-parts';
import { defineEvent, schemasOf, type EventOfDefinition } from './envelope';

export const analyticsSnapshotData = z.object({
  scope: z.string().min(1).max(250),
  ordersPlaced: cents,
  ordersConfirmed: cents,
  ordersPaymentFailed: cents,
  ordersCancelled: cents,
  ordersDelivered: cents,
  revenueCents: z.number().int(),
  averageOrderValueCents: z.number().int(),
  topItems: z.array(z.object({ menuItemId: id, name: z.string(), quantity: cents })),
  byRestaurant: z.array(z.object({ restaurantId: id, ordersConfirmed: cents, revenueCents: z.number().int() })),
  updatedAt: isoTime,
});

export const analyticsUpdated = defineEvent('analytics.updated', analyticsSnapshotData);
export type AnalyticsUpdated = EventOfDefinition<typeof analyticsUpdated>;

export const analyticsEventSchemas = schemasOf(analyticsUpdated);
