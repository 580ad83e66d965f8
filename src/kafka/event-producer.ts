import { context, ROOT_CONTEXT, trace, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { CompressionTypes, type Kafka } from 'kafkajs';
import { AppError } from '../errors';
import { whileBusy } from '../micro-batch';
import { processMetrics } from '../metrics/process-metrics';
import { injectTraceHeaders } from '../tracing/kafka-headers';
import { failSpan, startSendSpan } from '../tracing/messaging-spans';
import { activeTracer } from '../tracing/tracing';
import type { Config } from '../config';
import { eventSchemas, physicalTopic, type TopicName } from '../events/topics';
import { connectFreshProducer } from './client';

/** An event ready to send: its topic (= its type), the key that keeps one order's events in order, the envelope. */
export interface OutgoingEvent {
  readonly topic: TopicName;
  readonly key: string;
  readonly event: { readonly type: string; readonly id: string };
  /**
   * Tracing only (ignored when off): the context the event's `send` span continues. The runner
   * sets the span of the message the event was emitted for; an event standing for many sets
   * ROOT_CONTEXT and `traceLinks`. Unset: the caller's active context (a request's span).
   */
  readonly traceParent?: Context;
  /** Tracing only: the spans the event aggregates (analytics.updated), linked rather than parented. */
  readonly traceLinks?: readonly SpanContext[];
}

export interface EventProducer {
  /** Resolves once every in-sync replica has the events (acks=all); throws UNAVAILABLE otherwise. */
  publish(events: readonly OutgoingEvent[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** Kafka could not take the events: the caller may try again; nothing was acknowledged. */
export class EventPublishError extends AppError {
  constructor(cause: unknown) {
    super('UNAVAILABLE', 'the order service cannot reach its event log right now; try again shortly', { retriable: true, cause });
  }
}

/** Every event checked against its topic's schema before it leaves: a bad event is a bug caught here, not a poison message. */
function assertValid(events: readonly OutgoingEvent[]): void {
  for (const { topic, event } of events) {
    const result = eventSchemas[topic].safeParse(event);
    if (!result.success || event.type !== topic) {
      throw new AppError('INTERNAL_SERVER_ERROR', `refusing to publish an invalid ${topic} event: ${result.error?.message ?? `type ${event.type}`}`);
    }
  }
}

/** Kept under the broker's default message.max.bytes (1 MiB per partition's record batch) with room to spare. */
const MAX_REQUEST_BYTES = 512 * 1024;

type TopicMessages = { topic: string; messages: { key: string; value: string; headers: Record<string, string> }[] };

/** PURE: the events as produce requests by topic, each request at most MAX_REQUEST_BYTES of values, order kept. */
export function produceRequests(events: readonly OutgoingEvent[], config: Config, maxBytes = MAX_REQUEST_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, TopicMessages>();
  let bytes = 0;
  for (const { topic, key, event, traceParent, traceLinks } of events) {
    const value = JSON.stringify(event);
    if (bytes > 0 && bytes + value.length > maxBytes) {
      requests.push([...current.values()]);
      current = new Map();
      bytes = 0;
    }
    const physical = physicalTopic(config, topic);
    const entry = current.get(physical) ?? { topic: physical, messages: [] };
    const headers: Record<string, string> = { 'event-type': event.type, 'event-id': event.id };
    // Set by publish() only while tracing: the send span's context, and what the event aggregates.
    if (traceParent) injectTraceHeaders(headers, traceParent, traceLinks);
    entry.messages.push({ key, value, headers });
    current.set(physical, entry);
    bytes += value.length;
  }
  if (bytes > 0) requests.push([...current.values()]);
  return requests;
}

/**
 * Tracing on: each event gets its `send` span, started here (in the caller's context, before
 * the group commit gathers calls from many contexts) and ended at Kafka's answer; the span's
 * context goes into that event's own headers, so a shared produce request keeps every
 * message's trace apart.
 */
async function sendTraced(tracer: Tracer, events: readonly OutgoingEvent[], send: (events: readonly OutgoingEvent[]) => Promise<void>): Promise<void> {
  const active = context.active();
  const spans: Span[] = [];
  const traced = events.map((e) => {
    const span = startSendSpan(tracer, e.topic, { id: e.event.id, key: e.key }, e.traceParent ?? active, e.traceLinks);
    spans.push(span);
    return { ...e, traceParent: trace.setSpan(ROOT_CONTEXT, span) };
  });
  try {
    await send(traced);
  } catch (error) {
    for (const span of spans) failSpan(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

/**
 * The idempotent, acks=all producer every process uses. Concurrent publish() calls share
 * produce requests (group commit, micro-batch.ts): the first goes at once, and the calls made
 * while a send is in flight go together in the next, so an API under load sends a few large
 * requests instead of one per order, with acks=all and idempotence unchanged. A publish()
 * resolves only when the send that carried its events was acknowledged.
 */
export async function connectEventProducer(kafka: Kafka, config: Config): Promise<EventProducer> {
  // Replaced after any failed send: see connectFreshProducer for the acknowledged event it saves.
  const producer = await connectFreshProducer(kafka);
  // /metrics: one observation per produce (a group of calls), not per event.
  const { kafka: metrics } = processMetrics();
  const [acknowledged, refused] = [metrics.produceDuration.labels('ok'), metrics.produceDuration.labels('error')];
  const send = whileBusy(
    async (calls: (readonly OutgoingEvent[])[]) => {
      const events = calls.flat();
      const started = performance.now();
      try {
        for (const request of produceRequests(events, config)) {
          await producer.sendBatch({ compression: CompressionTypes.None, topicMessages: request });
        }
      } catch (error) {
        refused.observe((performance.now() - started) / 1000);
        metrics.produceFailures.inc();
        throw new EventPublishError(error);
      }
      acknowledged.observe((performance.now() - started) / 1000);
      metrics.producedEvents.inc(events.length);
      return calls.map(() => undefined);
    },
    { maxBatch: 1_000 },
  );

  return {
    async publish(events) {
      assertValid(events);
      if (events.length === 0) return;
      const tracer = activeTracer();
      if (tracer === null) await send(events);
      else await sendTraced(tracer, events, send);
    },
    disconnect: () => producer.disconnect(),
  };
}
