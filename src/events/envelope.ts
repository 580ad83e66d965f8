import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Every Kafka message value is one envelope: `{ id, type, version, occurredAt, data }`.
 * `id` is what consumers deduplicate on; `type` names the event and equals its topic.
 */
export interface EventEnvelope<TType extends string, TData> {
  readonly id: string;
  readonly type: TType;
  readonly version: 1;
  readonly occurredAt: string;
  readonly data: TData;
}

export function envelopeSchema<TType extends string, TData extends z.ZodType>(type: TType, data: TData) {
  return z.object({
    id: z.uuid(),
    type: z.literal(type),
    version: z.literal(1),
    occurredAt: z.iso.datetime(),
    data,
  });
}

export function createEnvelope<TType extends string, TData>(
  type: TType,
  data: TData,
  options: { id?: string; occurredAt?: string } = {},
): EventEnvelope<TType, TData> {
  return { id: options.id ?? randomUUID(), type, version: 1, occurredAt: options.occurredAt ?? new Date().toISOString(), data };
}
