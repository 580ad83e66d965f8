/**
 * The one runner every consumer module uses. Per partition batch (kafkajs `eachBatch`), cut into
 * rounds of consecutive messages with distinct keys (rounds.ts): parse (parse-event.ts) → load
 * (or guess: LoadMode) the round's state → decide each message (pure) → persist the round with a constant
 * number of bulk writes → produce every event it emits with one send → commit the round's last
 * offset. autoCommit is off: an offset is committed only after the writes and the produce
 * succeeded, so a crash anywhere before means a redelivery of the round, never a loss; and
 * every step is idempotent by key, so a redelivered round changes nothing already done.
 * Partitions are worked on concurrently (`module.partitionsConcurrently`), never merged: each
 * round belongs to one partition, which keeps one order's events in order.
 *
 * Failures: per message, as failure-policy.ts classifies them. A message that can never pass
 * (it does not parse, breaks a domain rule, asks for an impossible transition) is copied byte
 * for byte to `<topic>.dlq` with the reason in its headers (dead-letter.ts), and the stream goes
 * on; more than DEAD_LETTER_BREAKER_LIMIT of them within the window stop the consumer instead.
 * A retriable failure (AppError/kafkajs `retriable`, MongoDB unreachable, a claim held by
 * another instance) is tried again with backoff, together with the round's other such messages,
 * while the rest of the round goes on; past its budget (CONSUMER_RETRY_ATTEMPTS/_BUDGET_MS) a
 * failure bound to the message is parked in `<topic>.parked`, while a dependency still away
 * leaves the round uncommitted for kafkajs to deliver again. An environment fault (SMTP
 * credentials, configuration) or an unexpected error (a TypeError) stops the consumer without
 * committing: the process exits 1 and its supervisor restarts it; at a message where it has
 * already restarted CONSUMER_RESTARTS_BEFORE_PARKING times in a row (restart-ledger.ts), that
 * message is parked instead. A round that fails as a whole for a reason that is not retriable
 * is split into rounds of one message, so only the culprit is dead-lettered or stopped at.
 * Retries heartbeat, and a rebalance (the heartbeat's REBALANCE_IN_PROGRESS) ends them at once,
 * uncommitted, so the member rejoins in time. A round hung past every bound of its calls
 * (round-watchdog.ts), or a MongoDB client that no longer reaches a store that answers others
 * (mongo/store-watch.ts), stops the consumer like a stop, for a fresh process to carry on.
 *
 * Stop (SIGTERM/SIGINT in consumer-process.ts): rounds at work finish and commit, rounds waiting
 * out a retry are abandoned uncommitted, then the group is left and Kafka and MongoDB close.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { KnownEventType } from '../events/parse-event';
import { ensureTopics, logicalTopic, physicalGroupId, physicalTopic } from '../events/topics';
import type { Logger } from '../logger';
import { consumerCounters } from '../metrics/process-metrics';
import { connectMongo } from '../mongo/connection';
import type { ProbeCheck } from '../probes/probe-routes';
import { withRetry, type RetryOptions } from '../retry';
import { createKafka } from './client';
import type { ConsumerModule } from './consumer-module';
import { watchConsumer } from './consumer-watch';
import { connectDeadLetterProducer } from './dead-letter';
import { connectEventProducer } from './event-producer';
import { CoordinatorLost, DeadLetterBreaker, isCoordinatorUnreachable, isRebalanceError } from './failure-policy';
import { openRestartLedger } from './restart-ledger';
import { ConsumerHalted, createRoundHandler, RoundAbandoned, type RoundContext } from './round-handler';
import { roundsOf } from './rounds';
import { watchRounds, type RoundStep } from './round-watchdog';
import { watchStoreConnection } from '../mongo/store-watch';

export interface ConsumerRunOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Consumer group (namespaced by KAFKA_NAMESPACE). @default module.name */
  readonly groupId?: string;
  /**
   * How a message failing retriably (Kafka, Mongo unreachable, a claim held by another
   * instance) is retried, and its budget (`retries`, `deadlineMs`). Must outlast the modules'
   * claim leases. @default {@link messageRetry} of the config
   */
  readonly retry?: RetryOptions;
  /** Where a new group starts: from the beginning, so replay rebuilds state. @default true */
  readonly fromBeginning?: boolean;
}

/**
 * The retry budget of a message that fails retriably (CONSUMER_RETRY_ATTEMPTS,
 * CONSUMER_RETRY_BUDGET_MS: about two minutes by default) with backoff up to 5 s. Past it, a
 * failure bound to the message is parked; a dependency still away leaves the round uncommitted,
 * delivered again until it passes (failure-policy.ts).
 */
export const messageRetry = (config: Config): RetryOptions => ({
  retries: config.consumers.retryAttempts,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  deadlineMs: config.consumers.retryBudgetMs,
});

export interface RunningConsumer {
  /** The consumer group on the cluster (namespaced). */
  readonly groupId: string;
  readonly instanceId: string;
  /** Resolves when this instance has joined its group (partitions assigned). */
  readonly joined: Promise<void>;
  /**
   * Rejects if kafkajs gave up on the consumer (it restarts by itself on most failures), or the
   * runner stopped it: an environment or unexpected error, or the dead-letter breaker.
   */
  readonly crashed: Promise<never>;
  /** Finishes the rounds in flight (and commits them), leaves the group, closes Kafka and Mongo. Idempotent. */
  stop(): Promise<void>;
  /** For readiness (the process's /readyz): MongoDB answers; the consumer joined, not crashed, not stalled. */
  readonly probes: readonly ProbeCheck[];
}

/**
 * A consumer that started no fetch and finished no batch for this long is stalled (a batch
 * stuck in retries, Kafka out of reach): its process is not ready. Idle, it fetches every 5 s.
 */
const STALL_AFTER_MS = 60_000;

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
  const received = consumerCounters(module.name);

  const { connection, producer, deadLetters, deps } = await openResources(module, { config, log, instanceId, kafka });
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, sessionTimeout: config.consumers.sessionTimeoutMs });
  const watch = watchConsumer(consumer, { stallAfterMs: STALL_AFTER_MS });
  const stopping = new AbortController();
  const retry = { ...messageRetry(config), ...options.retry };
  const restarts = await openRestartLedger(connection, groupId, log);
  const breakerLimits = config.consumers.deadLetterBreaker;
  // A client of ours that lost the store for good, while the store answers others: as a halt.
  const store = watchStoreConnection(connection, { config, log, onWedged: (why) => halt(new ConsumerHalted(new Error(why), why)) });
  const handleRound = createRoundHandler(module, {
    deps,
    producer,
    deadLetters,
    restarts,
    breaker: new DeadLetterBreaker(breakerLimits),
    breakerLimits,
    groupId,
    log,
    retry,
    restartsBeforeParking: config.consumers.restartsBeforeParking,
    stopping: stopping.signal,
    store,
  });

  let onJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (onJoined = resolve));
  let onCrash: (error: unknown) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => (onCrash = reject));
  crashed.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  /**
   * Set by a commit that found the group's coordinator gone, until the member has joined again.
   * kafkajs rejoins only once every batch of its fetch has been handled, and each of them would
   * wait out its own failing commit first (drill 5: analytics a minute behind, 4 s a batch), so
   * the batches still queued give way at once, uncommitted.
   */
  let coordinatorLost: CoordinatorLost | null = null;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    coordinatorLost = null;
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
      log.warn({ err: error, topic, partition, offset }, 'offset commit failed; the messages may be redelivered');
      if (isCoordinatorUnreachable(error)) throw (coordinatorLost = new CoordinatorLost(error));
    }
  }

  /**
   * Stops the consumer without committing past `halted`'s message: rounds waiting out a retry
   * give up, `crashed` rejects, and the process (consumer-process.ts) exits 1 for its supervisor
   * to restart it.
   */
  function halt(halted: ConsumerHalted, where: { topic?: string; partition?: number } = {}): void {
    log.fatal({ ...where, err: halted.reason, why: halted.why }, `${module.name} consumer stopping, nothing committed past the failed message: ${halted.why}`);
    stopping.abort();
    onCrash(halted.reason);
  }

  /**
   * A heartbeat that tells: kafkajs answers it with REBALANCE_IN_PROGRESS (or the member is
   * gone) when the group rebalances, and then this member must stop its work and rejoin, or it
   * misses the rebalance and its partitions are worked twice. Other heartbeat failures (a
   * broker away for a moment) are not a reason to drop the work.
   */
  const checkInFor =
    ({ heartbeat, isRunning, isStale }: Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>) =>
    async (): Promise<void> => {
      try {
        await heartbeat();
      } catch (error) {
        if (isRebalanceError(error)) throw new RoundAbandoned(error, true);
        log.debug({ err: error }, 'heartbeat failed');
      }
      if (!isRunning() || isStale()) throw new RoundAbandoned(new Error('the partition moved on'));
    };

  // A round hung past every bound of its calls stops the process like a halt: uncommitted.
  const watchdog = watchRounds({
    log,
    stuckAfterMs: config.consumers.stuckRoundMs,
    onStuck: ({ topic, partition, step, ms }) => {
      const why = `a round of ${logicalTopic(config, topic)} partition ${partition} has been at ${step} for ${Math.round(ms / 1000)} s, past CONSUMER_STUCK_ROUND_MS`;
      halt(new ConsumerHalted(new Error(why), why), { topic: logicalTopic(config, topic), partition });
    },
  });

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset } = payload;
    const at = (step: RoundStep) => watchdog.at(batch.topic, batch.partition, step);
    const ctx: RoundContext<T> = { topic: logicalTopic(config, batch.topic) as T, partition: batch.partition, checkIn: checkInFor(payload), at };
    const { messages } = batch;
    received(ctx.topic).consumed.inc(messages.length);
    for (const [start, end] of roundsOf(messages.map((m) => m.key?.toString() ?? null))) {
      // Stopping, or the partition moved to another instance: what is left goes to its next owner.
      if (stopping.signal.aborted || !isRunning() || isStale()) return;
      if (coordinatorLost) throw coordinatorLost;
      try {
        await handleRound(ctx, messages.slice(start, end));
        const last = messages[end - 1]!.offset;
        resolveOffset(last);
        at('commit');
        await commit(batch.topic, batch.partition, last);
        at('ledger');
        await restarts.passed(ctx.topic, batch.partition, last);
        at('check-in');
        await ctx.checkIn();
      } catch (error) {
        if (error instanceof ConsumerHalted) return halt(error, { topic: ctx.topic, partition: ctx.partition });
        if (!(error instanceof RoundAbandoned)) throw error;
        // Uncommitted: after a rebalance kafkajs rejoins on the heartbeat's error, and the
        // partition's owner then redoes the round; when stopping, the next owner does.
        if (error.rebalance) {
          log.warn({ topic: ctx.topic, partition: ctx.partition }, 'the group is rebalancing: round left uncommitted, rejoining');
          throw error.reason;
        }
        if (stopping.signal.aborted || !isRunning() || isStale()) return;
        // The messages are fine; something they need is not (Kafka, MongoDB, a provider).
        // Dead-lettering or parking them would drop acknowledged orders from the flow, so they
        // stay uncommitted: kafkajs restarts from the last committed offset and they come again.
        log.error({ topic: ctx.topic, partition: ctx.partition, err: error.reason }, `could not handle ${ctx.topic} yet; it will be delivered again`);
        throw error.reason;
      }
    }
  }

  // kafkajs drops commits once its stop has begun, so stop() first waits for the rounds in
  // flight (which commit), and batches handed over after that are left for the next owner.
  const inFlight = new Set<Promise<void>>();
  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    if (stopping.signal.aborted) return;
    const work = handleBatch(payload);
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
      watchdog.done(payload.batch.topic, payload.batch.partition);
    }
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping.abort(); // rounds waiting to be retried give up (uncommitted); rounds at work finish
      watchdog.stop();
      store.stop();
      await Promise.allSettled([...inFlight]);
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
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: module.partitionsConcurrently ?? 3,
      eachBatch,
    });
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  log.info({ topics: module.topics }, `${module.name} consumer started`);

  const probes: ProbeCheck[] = [
    { name: 'mongo', check: async () => connection.readyState === 1 && (await connection.db?.command({ ping: 1 }))?.ok === 1 },
    { name: 'consumer', check: async () => watch.problem() ?? true },
  ];
  return { groupId, instanceId, joined, crashed, stop, probes };
}
