/**
 * A round's spans (tracing on; round-handler.ts asks for them only then): `process <topic>` for
 * the round, and `handle <topic>` per message, each the child of the span its headers name
 * (the event's `send`) and linked to the round's span. What a module emits for a message is
 * sent in that message's span (the producer reads `traceParent`), so one order's trace goes on
 * through every module however its messages were batched; a module that aggregates many
 * messages (analytics) links to them through `spanContextOf`.
 */
import { ROOT_CONTEXT, trace, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { extractTraceContext } from '../tracing/kafka-headers';
import { failSpan, startMessageSpan, startRoundSpan, type ConsumerPlace } from '../tracing/messaging-spans';
import type { OutgoingEvent } from './event-producer';

export interface RoundTrace {
  /** The round span's context: the round's own reads, writes and produce run in it. */
  readonly context: Context;
  /** The message's span context, for modules that link what they aggregate; undefined for a message not in this round. */
  spanContextOf(message: KafkaMessage): SpanContext | undefined;
  /** The event, to be sent in the span of the message it was emitted for. */
  emittedFor(message: KafkaMessage, event: OutgoingEvent): OutgoingEvent;
  /** The message ended in a dead letter, in the parking topic or at a stop: its span says so. */
  failed(message: KafkaMessage, what: string, error: unknown): void;
  /** Ends every message's span and the round's (failed with `error` when the round as a whole was given up). */
  end(error?: unknown): void;
}

const headerText = (value: Buffer | string | (Buffer | string)[] | undefined): string | null => {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : String(first);
};

export function startRoundTrace(tracer: Tracer, place: ConsumerPlace, messages: readonly KafkaMessage[]): RoundTrace {
  const round = startRoundSpan(tracer, place, messages.length);
  const roundContext = round.spanContext();
  const spans = new Map<KafkaMessage, { span: Span; context: Context }>();
  for (const message of messages) {
    const parent = extractTraceContext(message.headers);
    const key = message.key?.toString() ?? null;
    const span = startMessageSpan(tracer, place, { offset: message.offset, key, eventId: headerText(message.headers?.['event-id']) }, parent, roundContext);
    spans.set(message, { span, context: trace.setSpan(parent, span) });
  }
  let ended = false;
  return {
    context: trace.setSpan(ROOT_CONTEXT, round),
    spanContextOf: (message) => spans.get(message)?.span.spanContext(),
    emittedFor(message, event) {
      const traced = spans.get(message);
      return traced ? { ...event, traceParent: traced.context } : event;
    },
    failed(message, what, error) {
      const traced = spans.get(message);
      if (traced) failSpan(traced.span, error, what);
    },
    end(error) {
      if (ended) return;
      ended = true;
      for (const { span } of spans.values()) span.end();
      if (error !== undefined) failSpan(round, error, 'round left uncommitted');
      round.end();
    },
  };
}
