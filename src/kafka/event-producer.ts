import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { AppError } from '../errors';
import type { Config } from '../config';
import { eventSchemas, physicalTopic, type TopicName } from '../events/topics';

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

/**
 * The idempotent, acks=all producer every process uses. Each event is validated against its
 * topic's schema before it leaves, so a bad event is a bug caught here, not a poison message.
 */
export async function connectEventProducer(kafka: Kafka, config: Config): Promise<EventProducer> {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    async publish(events) {
      for (const { topic, event } of events) {
        const result = eventSchemas[topic].safeParse(event);
        if (!result.success || event.type !== topic) {
          throw new AppError('INTERNAL_SERVER_ERROR', `refusing to publish an invalid ${topic} event: ${result.error?.message ?? `type ${event.type}`}`);
        }
      }
      const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
      for (const { topic, key, event } of events) {
        const physical = physicalTopic(config, topic);
        const messages = byTopic.get(physical) ?? [];
        messages.push({ key, value: JSON.stringify(event), headers: { 'event-type': event.type, 'event-id': event.id } });
        byTopic.set(physical, messages);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      } catch (error) {
        throw new EventPublishError(error);
      }
    },
    disconnect: () => producer.disconnect(),
  };
}
