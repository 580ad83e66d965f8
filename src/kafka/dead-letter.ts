import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../config';
import { deadLetterTopic, parkingTopic, physicalTopic } from '../events/topics';
import { connectFreshProducer } from './client';

/**
 * Headers a dead-lettered or parked message carries besides its own: why, where from, and who
 * gave up on it; a parked one also says after what (`dlq-parked-after`), since it may well be
 * fine and is meant to be redriven once the cause is fixed.
 */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  errorCode: 'dlq-error-code',
  consumerGroup: 'dlq-consumer-group',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  failedAt: 'dlq-failed-at',
  parkedAfter: 'dlq-parked-after',
} as const;

/** The failed message as it was received and where it sat; topic names are logical (no namespace). */
export interface FailedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>;
}

export interface DeadLetterMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    if ('code' in error && typeof error.code === 'string') return error.code;
    if ('type' in error && typeof error.type === 'string') return error.type; // kafkajs protocol errors
    if (error instanceof Error) return error.name;
  }
  return 'UNKNOWN';
}

/**
 * An error's message may quote more than the message held: an SMTP server's answer naming the
 * recipient, a driver error with a connection string, a gateway echoing a payment token. The
 * copy keeps what a person needs to decide on a redrive and nothing the source topic did not
 * already hold in its value: email addresses, credentials in URLs and payment tokens are masked.
 */
export function scrubReason(reason: string): string {
  return reason
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, '$1<credentials>@')
    .replace(/[^\s<>"'(),;:@]+@[^\s<>"'(),;:@]+\.[a-z]{2,}/gi, '<email>')
    .replace(/\b(tok|pm|card)_[A-Za-z0-9_]+/g, '<payment token>');
}

/** Pure: the original key, value and headers unchanged (a redrive sends them back as they were), plus the reason headers. */
export function deadLetterMessage(failed: FailedMessage, error: unknown, consumerGroup: string, at: Date, parkedAfter?: string): DeadLetterMessage {
  const reason = scrubReason(error instanceof Error ? error.message : String(error));
  return {
    key: failed.message.key,
    value: failed.message.value,
    headers: {
      ...failed.message.headers,
      [DEAD_LETTER_HEADERS.reason]: reason.slice(0, 2000),
      [DEAD_LETTER_HEADERS.errorCode]: errorCode(error),
      [DEAD_LETTER_HEADERS.consumerGroup]: consumerGroup,
      [DEAD_LETTER_HEADERS.originalTopic]: failed.topic,
      [DEAD_LETTER_HEADERS.originalPartition]: String(failed.partition),
      [DEAD_LETTER_HEADERS.originalOffset]: failed.message.offset,
      [DEAD_LETTER_HEADERS.failedAt]: at.toISOString(),
      ...(parkedAfter === undefined ? {} : { [DEAD_LETTER_HEADERS.parkedAfter]: parkedAfter }),
    },
  };
}

export interface DeadLetterProducer {
  /** Resolves once `<topic>.dlq` has the message (acks=all); throws when Kafka cannot take it. */
  send(failed: FailedMessage, error: unknown, consumerGroup: string): Promise<void>;
  /** Resolves once `<topic>.parked` has the message, `after` saying what gave up on it (`3 restarts in a row at this message`). */
  park(failed: FailedMessage, error: unknown, consumerGroup: string, after: string): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Raw producer for dead letters: they are kept byte for byte as received, so they bypass the
 * event producer's schema check (that is exactly what they failed).
 */
export async function connectDeadLetterProducer(kafka: Kafka, config: Config): Promise<DeadLetterProducer> {
  const producer = await connectFreshProducer(kafka);
  return {
    async send(failed, error, consumerGroup) {
      const message = deadLetterMessage(failed, error, consumerGroup, new Date());
      await producer.use((current) => current.send({ topic: physicalTopic(config, deadLetterTopic(failed.topic)), acks: -1, messages: [message] }));
    },
    async park(failed, error, consumerGroup, after) {
      const message = deadLetterMessage(failed, error, consumerGroup, new Date(), after);
      await producer.use((current) => current.send({ topic: physicalTopic(config, parkingTopic(failed.topic)), acks: -1, messages: [message] }));
    },
    disconnect: () => producer.disconnect(),
  };
}
