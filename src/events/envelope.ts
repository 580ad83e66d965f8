import { createHash, randomUUID } from 'node:crypto';
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

/** Overrides for an envelope: a stable `id` makes a re-emitted fact a recognisable duplicate. */
export interface EnvelopeOptions {
  readonly id?: string;
  readonly occurredAt?: string;
}

export function createEnvelope<TType extends string, TData>(type: TType, data: TData, options: EnvelopeOptions = {}): EventEnvelope<TType, TData> {
  return { id: options.id ?? randomUUID(), type, version: 1, occurredAt: options.occurredAt ?? new Date().toISOString(), data };
}

/**
 * A name-based UUID (the version-5 layout over SHA-1 of `parts`, in order): the same parts
 * always give the same id. The product's one way of deriving an id from other ids.
 */
export function nameBasedUuid(...parts: readonly (string | Buffer)[]): string {
  const sha1 = createHash('sha1');
  for (const part of parts) sha1.update(part);
  const hash = sha1.digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Fixed namespace of the product's derived event ids (any constant would do; it must never change). */
const STABLE_ID_NAMESPACE = 'food-ordering/event-id/v1';

/**
 * An event id derived from names: the same fact emitted twice, e.g.
 * `stableEventId('order.confirmed', transactionId)` after a redelivery, gets the same id, so
 * consumers that dedupe on the envelope id see one event.
 */
export function stableEventId(...names: readonly string[]): string {
  return nameBasedUuid(STABLE_ID_NAMESPACE, names.join('\u0000'));
}

/** One event type: its constructor (call it), its `type` (also its topic) and its envelope `schema` (the parser). */
export type EventDefinition<TType extends string, TData extends z.ZodType> = ((data: z.infer<TData>, options?: EnvelopeOptions) => EventEnvelope<TType, z.infer<TData>>) & {
  readonly type: TType;
  readonly schema: ReturnType<typeof envelopeSchema<TType, TData>>;
};

/** Defines an event type in one line: `export const orderPlaced = defineEvent('order.placed', orderPlacedData)`. */
export function defineEvent<TType extends string, TData extends z.ZodType>(type: TType, data: TData): EventDefinition<TType, TData> {
  return Object.assign((payload: z.infer<TData>, options?: EnvelopeOptions) => createEnvelope(type, payload, options), { type, schema: envelopeSchema(type, data) });
}

/** The event an EventDefinition makes: `type OrderPlaced = EventOfDefinition<typeof orderPlaced>`. */
export type EventOfDefinition<D> = D extends EventDefinition<infer TType, infer TData> ? EventEnvelope<TType, z.infer<TData>> : never;

/** What schemasOf needs of a definition (its constructor's parameter types vary, so not EventDefinition). */
interface DefinedSchema {
  readonly type: string;
  readonly schema: z.ZodType;
}

/** The schemas of some definitions, by type: what parseEvent looks an incoming message's schema up in. */
export function schemasOf<Ds extends readonly DefinedSchema[]>(...definitions: Ds): SchemasOf<Ds[number]> {
  return Object.fromEntries(definitions.map((d) => [d.type, d.schema])) as SchemasOf<Ds[number]>;
}

type SchemasOf<D extends DefinedSchema> = { readonly [E in D as E['type']]: E['schema'] };
