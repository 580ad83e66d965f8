/**
 * The spans of an event's way through Kafka, named and attributed after OpenTelemetry's
 * messaging conventions (attribute names copied here, as OpenTelemetry advises for its
 * incubating ones, rather than imported from an unstable entry point):
 *
 * - `send <topic>` (PRODUCER): one per event, from publish() to Kafka's acknowledgement; its
 *   context is what the message's headers carry.
 * - `process <topic>` (CONSUMER): one per round of a consumer module (a run of one partition's
 *   messages worked together: one load, one bulk write, one produce); a root of its own.
 * - `handle <topic>` (CONSUMER): one per message of a round, a child of the message's send span,
 *   linked to its round's span; what the module emits for the message is sent inside it.
 * - `deliver <topic>` (CONSUMER): one per event an API instance hands to its subscriptions.
 */
import { SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

export const MESSAGING = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  operationType: 'messaging.operation.type',
  consumerGroup: 'messaging.consumer.group.name',
  batchCount: 'messaging.batch.message_count',
  messageId: 'messaging.message.id',
  key: 'messaging.kafka.message.key',
  offset: 'messaging.kafka.offset',
} as const;

/** Where a consumer works: its group (the module) and one partition of one (logical) topic. */
export interface ConsumerPlace {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
}

const linksTo = (spanContexts: readonly SpanContext[] | undefined): Link[] | undefined => spanContexts?.map((context) => ({ context }));

/** `send <topic>`, continuing `parent`, linked to what the event aggregates. */
export function startSendSpan(tracer: Tracer, topic: string, event: { readonly id: string; readonly key: string }, parent: Context, links?: readonly SpanContext[]): Span {
  const attributes: Attributes = { [MESSAGING.system]: 'kafka', [MESSAGING.operationType]: 'send', [MESSAGING.destination]: topic, [MESSAGING.messageId]: event.id, [MESSAGING.key]: event.key };
  return tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes, links: linksTo(links) }, parent);
}

/** What a round's span and its messages' spans say of where they were consumed. */
function processAttributes(place: ConsumerPlace): Attributes {
  return {
    [MESSAGING.system]: 'kafka',
    [MESSAGING.operationType]: 'process',
    [MESSAGING.destination]: place.topic,
    [MESSAGING.partition]: String(place.partition),
    [MESSAGING.consumerGroup]: place.groupId,
  };
}

/** `process <topic>`: a round of `count` messages, the root of its own trace. */
export function startRoundSpan(tracer: Tracer, place: ConsumerPlace, count: number): Span {
  const attributes: Attributes = { ...processAttributes(place), [MESSAGING.batchCount]: count };
  return tracer.startSpan(`process ${place.topic}`, { kind: SpanKind.CONSUMER, attributes, root: true });
}

/** `handle <topic>`: one message of a round, continuing `parent` (its headers' context), linked to the round's span. */
export function startMessageSpan(
  tracer: Tracer,
  place: ConsumerPlace,
  message: { readonly offset: string; readonly key: string | null; readonly eventId: string | null },
  parent: Context,
  round: SpanContext,
): Span {
  const attributes: Attributes = { ...processAttributes(place), [MESSAGING.offset]: Number(message.offset) };
  if (message.key !== null) attributes[MESSAGING.key] = message.key;
  if (message.eventId !== null) attributes[MESSAGING.messageId] = message.eventId;
  return tracer.startSpan(`handle ${place.topic}`, { kind: SpanKind.CONSUMER, attributes, links: [{ context: round }] }, parent);
}

/** `deliver <topic>`: an event handed to an API instance's subscriptions, continuing `parent`, linked to what it aggregates. */
export function startDeliverySpan(tracer: Tracer, topic: string, eventId: string, parent: Context, links: Link[]): Span {
  const attributes: Attributes = { [MESSAGING.system]: 'kafka', [MESSAGING.operationType]: 'process', [MESSAGING.destination]: topic, [MESSAGING.messageId]: eventId };
  return tracer.startSpan(`deliver ${topic}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
}

/** Marks a span failed with the error (its message and type; the stack stays in the log). */
export function failSpan(span: Span, error: unknown, what?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: what ? `${what}: ${message}` : message });
  span.addEvent('exception', { 'exception.type': error instanceof Error ? error.name : typeof error, 'exception.message': message });
}
