/**
 * The one runner every consumer module uses. Per message, one at a time per instance:
 * parse (parse-event.ts) → load → decide (pure) → persist → produce what it emits → commit the
 * offset. autoCommit is off: an offset is committed only after the Mongo write and the produce
 * succeeded, so a crash anywhere before means a redelivery, never a loss.
 *
 * Failures: retriable ones (AppError/kafkajs `retriable`, MongoDB unreachable) are retried with
 * backoff (retry.ts) for about two minutes; a message that fails otherwise, or for longer, is
 * copied byte for byte to `<topic>.dlq` with the reason in its headers (dead-letter.ts), then
 * committed: one bad message never stops the stream. If even the dead-letter topic cannot be
 * written, the message is left uncommitted and kafkajs delivers it again.
 *
 * Stop (SIGTERM/SIGINT in consumer-process.ts): the message at work is finished and committed,
 * a message waiting out a retry is abandoned uncommitted, then the group is left and Kafka and
 * MongoDB are closed.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import type { Connection } from 'mongoose';
import type { Config } from '../config';
import type { EventPosition } from '../domain/analytics';
import { isRetriable } from '../errors';
import { parseEvent, type EventOf, type KnownEventType } from '../events/parse-event';
import { ensureTopics, logicalTopic, physicalGroupId, physicalTopic } from '../events/topics';
import type { Logger } from '../logger';
import { connectMongo } from '../mongo/connection';
import { isTransientMongoError } from '../mongo/mongo-errors';
import { withRetry, type RetryOptions } from '../retry';
import { createKafka } from './client';
import { connectDeadLetterProducer } from './dead-letter';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from './event-producer';

/** One parsed event and where it sat in the log. `position.topic` is the logical topic name. */
export type ConsumedEvent<T extends KnownEventType = KnownEventType> = T extends KnownEventType
  ? { readonly event: EventOf<T>; readonly key: string | null; readonly position: EventPosition }
  : never;

/** What a module's `setup` may use: built once per running instance by the runner. */
export interface ConsumerContext {
  readonly config: Config;
  readonly log: Logger;
  readonly connection: Connection;
  readonly producer: EventProducer;
  /** Unique per running instance: claims record it so an instance can recognise its own. */
  readonly instanceId: string;
}

/**
 * A consumer module: its group, its topics and a pure decision; the runner does the rest.
 * Per message: `load` (read state) → `decide` (pure) → `persist` (idempotent writes keyed by
 * order or event id) → the events `emits` returns are produced → the offset is committed.
 * Any of these may run again for the same message (retry, redelivery, a second instance), so
 * each must give the same result when repeated.
 */
export interface ConsumerModule<T extends KnownEventType, Deps, State, Effects, Outcome = Effects> {
  /** `transactions`: the log name and the default consumer group id. */
  readonly name: string;
  readonly topics: readonly T[];
  /** Builds what the steps need (models, adapters) once per instance; indexes are built here. */
  setup(context: ConsumerContext): Promise<Deps>;
  load(message: ConsumedEvent<T>, deps: Deps): Promise<State>;
  /** PURE: the effects of `message` given `state`. Spec'd without Kafka or Mongo. */
  decide(message: ConsumedEvent<T>, state: State): Effects;
  /** Applies the effects; its result feeds `emits` (it may differ from `effects`, e.g. a charge's result). */
  persist(effects: Effects, deps: Deps): Promise<Outcome>;
  /** PURE: the events to produce once `persist` succeeded. Re-emitted facts carry stable ids. */
  emits(outcome: Outcome): readonly OutgoingEvent[];
  /** A few words for the one log line per message (`captured`, `duplicate ignored`...). */
  describe(effects: Effects, outcome: Outcome): string;
  /** Runs on stop after the last message, before Kafka and Mongo close (flush, close transports). */
  teardown?(deps: Deps): Promise<void>;
}

export interface ConsumerRunOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Consumer group (namespaced by KAFKA_NAMESPACE). @default module.name */
  readonly groupId?: string;
  /**
   * How long one delivery of a message is retried on retriable failures (Kafka, Mongo
   * unreachable, a claim held by another instance) before it is left uncommitted for kafkajs
   * to deliver again. Must outlast the modules' claim leases. @default {@link DEFAULT_MESSAGE_RETRY}
   */
  readonly retry?: RetryOptions;
  /** Where a new group starts: from the beginning, so replay rebuilds state. @default true */
  readonly fromBeginning?: boolean;
}

/**
 * About two minutes of retries with backoff up to 5 s within one delivery. A failure still
 * retriable after that is not dead-lettered: the message is delivered again until it passes.
 */
export const DEFAULT_MESSAGE_RETRY: RetryOptions = { retries: 40, initialDelayMs: 200, maxDelayMs: 5_000, deadlineMs: 120_000 };

export interface RunningConsumer {
  /** The consumer group on the cluster (namespaced). */
  readonly groupId: string;
  readonly instanceId: string;
  /** Resolves when this instance has joined its group (partitions assigned). */
  readonly joined: Promise<void>;
  /** Rejects if kafkajs gave up on the consumer (it restarts by itself on most failures). */
  readonly crashed: Promise<never>;
  /** Finishes the in-flight message (and commits it), leaves the group, closes Kafka and Mongo. Idempotent. */
  stop(): Promise<void>;
}

/** Failures worth another attempt: the error base's flag, kafkajs' own, and MongoDB being unreachable. */
export function isRetriableFailure(error: unknown): boolean {
  return isRetriable(error) || isTransientMongoError(error);
}

/** Creates the topics, then opens what a module uses; whatever opened is closed again if a later step fails. */
async function openResources<T extends KnownEventType, D, S, E, O>(
  module: ConsumerModule<T, D, S, E, O>,
  { config, log, instanceId, kafka }: { config: Config; log: Logger; instanceId: string; kafka: Kafka },
) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, config, log);
  } finally {
    await admin.disconnect();
  }
  const opened: (() => Promise<unknown>)[] = [];
  try {
    const connection = await connectMongo(config, log);
    opened.push(() => connection.close());
    const producer = await connectEventProducer(kafka, config);
    opened.push(() => producer.disconnect());
    const deadLetters = await connectDeadLetterProducer(kafka, config);
    opened.push(() => deadLetters.disconnect());
    const deps = await module.setup({ config, log, connection, producer, instanceId });
    return { connection, producer, deadLetters, deps };
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

/** Connects everything a module needs and starts consuming. Nothing happens before it is called. */
export async function startConsumer<T extends KnownEventType, D, S, E, O>(
  module: ConsumerModule<T, D, S, E, O>,
  options: ConsumerRunOptions,
): Promise<RunningConsumer> {
  const { config } = options;
  const instanceId = `${module.name}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const groupId = physicalGroupId(config, options.groupId ?? module.name);
  const log = options.log.child({ consumer: module.name, groupId, instanceId });
  const kafka = createKafka(config, instanceId, log);

  const { connection, producer, deadLetters, deps } = await openResources(module, { config, log, instanceId, kafka });
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const stopping = new AbortController();

  let onJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (onJoined = resolve));
  let onCrash: (error: unknown) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => (onCrash = reject));
  crashed.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info({ assignment: payload.memberAssignment }, 'joined the consumer group');
    onJoined();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return; // kafkajs restarts the consumer itself
    log.fatal({ err: payload.error }, 'consumer crashed beyond restarting');
    onCrash(payload.error);
  });

  async function commit(topic: string, partition: number, offset: string): Promise<void> {
    try {
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
    } catch (error) {
      // The work is durable; a lost commit only means a harmless redelivery after a rebalance.
      log.warn({ err: error, topic, partition, offset }, 'offset commit failed; the message may be redelivered');
    }
  }

  async function handleMessage({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const logical = logicalTopic(config, topic) as T;
    const where = { topic: logical, partition, offset: message.offset, key: message.key?.toString() ?? null };
    try {
      const consumed = {
        event: parseEvent(logical, message.value),
        key: where.key,
        position: { topic: logical, partition, offset: Number(message.offset) },
      } as ConsumedEvent<T>;
      const { effects, outcome } = await withRetry(
        async () => {
          const state = await module.load(consumed, deps);
          const effects = module.decide(consumed, state);
          const outcome = await module.persist(effects, deps);
          const events = module.emits(outcome);
          if (events.length > 0) await producer.publish(events);
          return { effects, outcome };
        },
        {
          ...DEFAULT_MESSAGE_RETRY,
          ...options.retry,
          shouldRetry: isRetriableFailure,
          signal: stopping.signal,
          onRetry: (error, attempt, delayMs) => {
            log.warn({ ...where, err: error, attempt, delayMs }, 'retrying message');
            // Long waits must not cost the group membership (and so a second delivery elsewhere).
            heartbeat().catch(() => undefined);
          },
        },
      );
      log.info({ ...where, eventId: consumed.event.id, result: module.describe(effects, outcome) }, `handled ${logical}`);
    } catch (error) {
      // Stopping in the middle of a retry: leave the offset uncommitted; the next owner redoes it.
      if (stopping.signal.aborted) return;
      if (isRetriableFailure(error)) {
        // The message is fine; something it needs is not (Kafka, MongoDB, a claim held
        // elsewhere). Dead-lettering it would drop an acknowledged order from the flow, so it
        // stays uncommitted: kafkajs retries and restarts the consumer, and it comes again.
        log.error({ ...where, err: error }, `could not handle ${logical} yet; it will be delivered again`);
        throw error;
      }
      await deadLetters.send({ topic: logical, partition, message }, error, groupId);
      log.error({ ...where, err: error, deadLetterTopic: `${logical}.dlq` }, `dead-lettered ${logical}`);
    }
    await commit(topic, partition, message.offset);
  }

  // kafkajs drops commits once its stop has begun, so stop() first waits for the message in
  // flight (which commits), and messages handed over after that are left for the next owner.
  let inFlight: Promise<void> | undefined;
  async function eachMessage(payload: EachMessagePayload): Promise<void> {
    if (stopping.signal.aborted) return;
    inFlight = handleMessage(payload);
    try {
      await inFlight;
    } finally {
      inFlight = undefined;
    }
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping.abort(); // a message waiting to be retried gives up (uncommitted); one at work finishes
      await inFlight?.catch(() => undefined);
      await consumer.disconnect();
      await module.teardown?.(deps);
      await Promise.all([producer.disconnect(), deadLetters.disconnect()]);
      await connection.close();
      log.info(`${module.name} consumer stopped`);
    })());

  try {
    await consumer.connect();
    const topics = module.topics.map((t) => physicalTopic(config, t));
    // Metadata of topics created a moment ago may lag ("does not host this topic-partition").
    await withRetry(() => consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true }), { retries: 5, initialDelayMs: 500 });
    await consumer.run({ autoCommit: false, eachMessage });
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  log.info({ topics: module.topics }, `${module.name} consumer started`);

  return { groupId, instanceId, joined, crashed, stop };
}
