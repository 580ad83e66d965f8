import { CompressionTypes, type Kafka } from 'kafkajs';
import { AppError } from '../errors';
import { whileBusy } from '../micro-batch';
import { processMetrics } from '../metrics/process-metrics';
import type { Config } from '../config';
import { eventSchemas, physicalTopic, type TopicName } from '../events/topics';
import { connectFreshProducer } from './client';

/** An event ready to send: its topic (= its type), the key that keeps one order's events in order, the envelope. */
export interface OutgoingEvent {
  readonly topic: TopicName;
  readonly key: string;
  readonly event: { readonly type: string; readonly id: string };
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
  for (const { topic, key, event } of events) {
    const value = JSON.stringify(event);
    if (bytes > 0 && bytes + value.length > maxBytes) {
      requests.push([...current.values()]);
      current = new Map();
      bytes = 0;
    }
    const physical = physicalTopic(config, topic);
    const entry = current.get(physical) ?? { topic: physical, messages: [] };
    entry.messages.push({ key, value, headers: { 'event-type': event.type, 'event-id': event.id } });
    current.set(physical, entry);
    bytes += value.length;
  }
  if (bytes > 0) requests.push([...current.values()]);
  return requests;
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
        await producer.use(async (current) => {
          for (const request of produceRequests(events, config)) {
            await current.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: request });
          }
        });
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
      if (events.length > 0) await send(events);
    },
    disconnect: () => producer.disconnect(),
  };
}
