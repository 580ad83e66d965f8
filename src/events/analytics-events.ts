import { z } from 'zod';
import { cents, id, isoTime } from './event-parts';
import { createEnvelope, envelopeSchema, type EventEnvelope } from './envelope';

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

export const analyticsEventSchemas = {
  'analytics.updated': envelopeSchema('analytics.updated', analyticsSnapshotData),
} as const;

export type AnalyticsUpdated = EventEnvelope<'analytics.updated', z.infer<typeof analyticsSnapshotData>>;

export const analyticsUpdated = (data: AnalyticsUpdated['data']): AnalyticsUpdated => createEnvelope('analytics.updated', data);
