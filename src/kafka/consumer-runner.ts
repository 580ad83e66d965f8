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
 * uncommitted, so the member rejoins in time.
 *
 * Stop (SIGTERM/SIGINT in consumer-process.ts): rounds at work finish and commit, rounds waiting
 * out a retry are abandoned uncommitted, then the group is left and Kafka and MongoDB close.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Connection } from 'mongoose';
import type { Config } from '../config';
import type { EventPosition } from '../domain/analytics';
import { AppError, isRetriable } from '../errors';
import { parseEvent, type EventOf, type KnownEventType } from '../events/parse-event';
import { deadLetterTopic, ensureTopics, logicalTopic, parkingTopic, physicalGroupId, physicalTopic } from '../events/topics';
import type { Logger } from '../logger';
import { consumerCounters } from '../metrics/process-metrics';
import { connectMongo } from '../mongo/connection';
import { isTransientMongoError } from '../mongo/mongo-errors';
import { backoffDelay, withRetry, type RetryOptions } from '../retry';
import type { ProbeCheck } from '../probes/probe-routes';
import { createKafka } from './client';
import { watchConsumer } from './consumer-watch';
import { connectDeadLetterProducer, type DeadLetterProducer } from './dead-letter';
import { budgetSpent, classifyFailure, DeadLetterBreaker, isRebalanceError, restartVerdict, type RetryBudget } from './failure-policy';
import { openRestartLedger, type RestartLedger } from './restart-ledger';
import { connectEventProducer, type EventProducer, type OutgoingEvent } from './event-producer';
import { roundsOf } from './rounds';

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
 * How `load` may work. `guess`, the first attempt at a round: a module may skip the reads whose
 * answer it can guess (a fresh order has no claim, no transaction, no stored projection), as
 * long as `persist` catches every wrong guess through a unique key or a conditional write and
 * fails that message with a StaleDecisionError. `read`: every later attempt, on what is stored.
 * On the store measured here a read by id costs as much as an insert of a whole round's
 * documents, so a backlog of new orders is worked off without reading.
 */
export type LoadMode = 'guess' | 'read';

/**
 * A message was decided on state that was not the stored one (a wrong guess, a claim another
 * instance won, a conditional write that missed): decide it again on what is stored. The
 * runner does so at once, reading; it is a conflict, not a failure anyone sees.
 */
export class StaleDecisionError extends AppError {
  constructor(what: string) {
    super('CONFLICT', `${what} changed since it was decided; deciding again`, { retriable: true });
  }
}

/** What became of one effect of a round: its outcome, or why it failed (retriable or not). */
export type Settled<Outcome> = { readonly ok: true; readonly outcome: Outcome } | { readonly ok: false; readonly error: unknown };

export const settledOk = <O>(outcome: O): Settled<O> => ({ ok: true, outcome });
export const settledFailed = <O = never>(error: unknown): Settled<O> => ({ ok: false, error });

/**
 * A consumer module: its group, its topics and a pure decision; the runner does the rest.
 * Per round (consecutive messages of one partition, no order twice): `load` (the state of all
 * of them: read, or on a first attempt guessed, see LoadMode) → `decide` each (pure) → `persist` (a constant
 * number of idempotent bulk writes, keyed by order or event id) → the events `emits` returns
 * are produced → the offset is committed. Any step may run again for the same messages (retry,
 * redelivery, a second instance), so each must give the same result when repeated.
 */
export interface ConsumerModule<T extends KnownEventType, Deps, State, Effects, Outcome = Effects> {
  /** `transactions`: the log name and the default consumer group id. */
  readonly name: string;
  readonly topics: readonly T[];
  /**
   * How many partitions' rounds one instance works on at once. A module whose rounds all write
   * one shared document (analytics' `global`) says 1, so its instance never races itself. @default 3
   */
  readonly partitionsConcurrently?: number;
  /** Builds what the steps need (models, adapters) once per instance; indexes are built here. */
  setup(context: ConsumerContext): Promise<Deps>;
  /** Reads (or, in `guess` mode, may guess: see LoadMode) what deciding every message of a round needs. */
  load(messages: readonly ConsumedEvent<T>[], deps: Deps, mode: LoadMode): Promise<State>;
  /** PURE: the effects of one message of the round, given the round's state. Spec'd without Kafka or Mongo. */
  decide(message: ConsumedEvent<T>, state: State): Effects;
  /** Applies a round's effects with a constant number of bulk writes: one result per effect, in order. */
  persist(effects: readonly Effects[], deps: Deps): Promise<readonly Settled<Outcome>[]>;
  /** PURE: the events to produce once `persist` succeeded. Re-emitted facts carry stable ids. */
  emits(outcome: Outcome): readonly OutgoingEvent[];
  /** A few words for the debug line per message and the round's summary (`captured`, `duplicate ignored`...). */
  describe(effects: Effects, outcome: Outcome): string;
  /** Runs on stop after the last round, before Kafka and Mongo close (flush, close transports). */
  teardown?(deps: Deps): Promise<void>;
}

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

/**
 * A round given up on, left uncommitted: stopping, a rebalance (`rebalance`: the heartbeat's
 * error, for kafkajs to rejoin on), or a dependency still away after the retries.
 */
class RoundAbandoned extends Error {
  constructor(
    readonly reason: unknown,
    readonly rebalance = false,
  ) {
    super('round abandoned');
  }
}

/**
 * The consumer must stop without committing (an environment or unexpected error at a message,
 * or the dead-letter breaker): the process exits 1 and its supervisor restarts it.
 */
class ConsumerHalted extends Error {
  constructor(
    readonly reason: unknown,
    readonly why: string,
  ) {
    super(why);
  }
}

interface RoundContext<T extends KnownEventType> {
  readonly topic: T;
  readonly partition: number;
  /** Heartbeats; throws RoundAbandoned when the group rebalances or the partition moved on. */
  readonly checkIn: () => Promise<void>;
}

type Pending<T extends KnownEventType> = { readonly consumed: ConsumedEvent<T>; readonly raw: KafkaMessage };

/** Counts of each outcome's description in a round, for its one summary line. */
function tally(descriptions: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of descriptions) counts[d] = (counts[d] ?? 0) + 1;
  return counts;
}

interface RoundHandlerParts<D> {
  readonly deps: D;
  readonly producer: EventProducer;
  readonly deadLetters: DeadLetterProducer;
  readonly restarts: RestartLedger;
  readonly breaker: DeadLetterBreaker;
  readonly breakerLimits: { readonly limit: number; readonly windowMs: number };
  readonly groupId: string;
  readonly log: Logger;
  readonly retry: RetryOptions;
  readonly restartsBeforeParking: number;
  readonly stopping: AbortSignal;
}

function createRoundHandler<T extends KnownEventType, D, S, E, O>(module: ConsumerModule<T, D, S, E, O>, parts: RoundHandlerParts<D>) {
  const { deps, producer, deadLetters, restarts, breaker, groupId, log, retry, restartsBeforeParking, stopping } = parts;
  const budget: RetryBudget = { attempts: retry.retries ?? 5, ms: retry.deadlineMs ?? Number.POSITIVE_INFINITY };
  const where = (ctx: RoundContext<T>, raw: KafkaMessage) => ({ topic: ctx.topic, partition: ctx.partition, offset: raw.offset, key: raw.key?.toString() ?? null });
  const failedMessage = (ctx: RoundContext<T>, raw: KafkaMessage) => ({ topic: ctx.topic, partition: ctx.partition, message: raw });
  const counters = consumerCounters(module.name); // /metrics: beside each outcome's log line

  async function deadLetter(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown): Promise<void> {
    const { limit, windowMs } = parts.breakerLimits;
    if (breaker.tripsOn()) throw new ConsumerHalted(error, `more than ${limit} dead letters within ${windowMs} ms: a fault upstream, not a few bad messages`);
    await deadLetters.send(failedMessage(ctx, raw), error, groupId);
    counters(ctx.topic).deadLettered.inc();
    log.error({ ...where(ctx, raw), err: error, deadLetterTopic: deadLetterTopic(ctx.topic) }, `dead-lettered ${ctx.topic}`);
  }

  async function park(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown, after: string): Promise<void> {
    await deadLetters.park(failedMessage(ctx, raw), error, groupId, after);
    counters(ctx.topic).parked.inc();
    log.error({ ...where(ctx, raw), err: error, parkingTopic: parkingTopic(ctx.topic), after }, `parked ${ctx.topic} after ${after}; redrive it once the cause is fixed`);
  }

  /**
   * A message failed in a way that says nothing good about the next one (failure-policy.ts,
   * `stop`). Stop at it, unless the consumer already restarted here `restartsBeforeParking`
   * times in a row: then park it and go on.
   */
  async function stopAt(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown): Promise<void> {
    const verdict = restartVerdict(await restarts.read(ctx.topic, ctx.partition), raw.offset, restartsBeforeParking);
    if (verdict.action === 'park') {
      await park(ctx, raw, error, `${verdict.restarts} restarts in a row at this message`);
      await restarts.passed(ctx.topic, ctx.partition, raw.offset);
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    await restarts.record(ctx.topic, ctx.partition, verdict.record, reason).catch((recordError: unknown) => {
      log.error({ err: recordError }, 'could not record the restart; this stop will not count towards parking the message');
    });
    const restart = `${verdict.record.restarts} of ${restartsBeforeParking} before it is parked`;
    throw new ConsumerHalted(error, `${ctx.topic} partition ${ctx.partition} offset ${raw.offset} failed with an environment or unexpected error (stop ${restart})`);
  }

  /** What a non-retriable failure of one message calls for: a dead letter, or a stop. */
  async function failFor(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown): Promise<void> {
    if (classifyFailure(error) === 'dead-letter') await deadLetter(ctx, raw, error);
    else await stopAt(ctx, raw, error);
  }

  /** One attempt at `pending`: returns the messages that failed retriably (with their errors); dead-letters or stops at the others. */
  async function attempt(ctx: RoundContext<T>, pending: readonly Pending<T>[], mode: LoadMode): Promise<{ failed: Pending<T>[]; errors: unknown[]; done: string[] }> {
    const state = await module.load(
      pending.map((p) => p.consumed),
      deps,
      mode,
    );
    const failed: Pending<T>[] = [];
    const errors: unknown[] = [];
    const fatal: { p: Pending<T>; error: unknown }[] = [];
    const fail = (p: Pending<T>, error: unknown) => {
      if (isRetriableFailure(error)) {
        failed.push(p);
        errors.push(error);
      } else fatal.push({ p, error });
    };
    const decided: { p: Pending<T>; effects: E }[] = [];
    for (const p of pending) {
      try {
        decided.push({ p, effects: module.decide(p.consumed, state) });
      } catch (error) {
        fail(p, error);
      }
    }
    const results = decided.length > 0 ? await module.persist(decided.map((d) => d.effects), deps) : [];
    const events: OutgoingEvent[] = [];
    const done: string[] = [];
    results.forEach((result, i) => {
      const { p, effects } = decided[i]!;
      if (!result.ok) return fail(p, result.error);
      events.push(...module.emits(result.outcome));
      const description = module.describe(effects, result.outcome);
      done.push(description);
      log.debug({ topic: ctx.topic, partition: ctx.partition, offset: p.raw.offset, eventId: p.consumed.event.id, result: description }, `handled ${ctx.topic}`);
    });
    // One send for the round. If it fails, the whole attempt is repeated: the writes are
    // idempotent, and the repeat emits the same events with the same ids.
    if (events.length > 0) await producer.publish(events);
    // In offset order: a stop at an earlier message leaves the later ones for the redelivery.
    fatal.sort((a, b) => Number(BigInt(a.p.raw.offset) - BigInt(b.p.raw.offset)));
    for (const { p, error } of fatal) await failFor(ctx, p.raw, error);
    return { failed, errors, done };
  }

  /**
   * Works a round until every message is handled, dead-lettered or parked. Throws
   * RoundAbandoned (left uncommitted for a redelivery) or ConsumerHalted (stop, uncommitted).
   */
  async function handleRound(ctx: RoundContext<T>, raws: readonly KafkaMessage[]): Promise<void> {
    let pending: Pending<T>[] = [];
    for (const raw of raws) {
      try {
        const event = parseEvent(ctx.topic, raw.value);
        const position = { topic: ctx.topic, partition: ctx.partition, offset: Number(raw.offset) };
        const consumed = { event, key: raw.key?.toString() ?? null, position } as unknown as ConsumedEvent<T>;
        pending.push({ consumed, raw });
      } catch (error) {
        await deadLetter(ctx, raw, error);
      }
    }
    const startedAt = Date.now();
    const done: string[] = [];
    let mode: LoadMode = 'guess';
    for (let retryNumber = 1; pending.length > 0; retryNumber++) {
      let failed: Pending<T>[];
      let errors: unknown[];
      try {
        const result = await attempt(ctx, pending, mode);
        done.push(...result.done);
        counters(ctx.topic).processed.inc(result.done.length);
        [failed, errors] = [result.failed, result.errors];
      } catch (error) {
        if (error instanceof ConsumerHalted || error instanceof RoundAbandoned) throw error;
        if (!isRetriableFailure(error)) {
          if (pending.length === 1) {
            await failFor(ctx, pending[0]!.raw, error);
            break;
          }
          // Not one message's failure but the round's (a load that cannot work on one of
          // them, say): one at a time, so only the culprit is dead-lettered (or stopped at).
          for (const p of pending) await handleRound(ctx, [p.raw]);
          return;
        }
        [failed, errors] = [pending, pending.map(() => error)];
      }
      if (failed.length === 0) break;
      if (mode === 'guess') {
        // Decided on guesses, or on state that moved: decide those again at once, on what is stored.
        log.debug({ topic: ctx.topic, partition: ctx.partition, messages: failed.length, err: errors[0] }, 'deciding again on stored state');
        [mode, pending, retryNumber] = ['read', failed, 0];
        continue;
      }
      const delayMs = backoffDelay(retryNumber, retry);
      if (stopping.aborted) throw new RoundAbandoned(errors[0]);
      if (budgetSpent(budget, retryNumber - 1, Date.now() - startedAt, delayMs)) {
        // Past the budget. A failure bound to its message is parked, so the stream goes on; a
        // dependency still away is not the message's fault: it stays, uncommitted, delivered again.
        const waiting: Pending<T>[] = [];
        for (const [i, p] of failed.entries()) {
          if (classifyFailure(errors[i]) === 'retry') await park(ctx, p.raw, errors[i], `${retryNumber - 1} retries over ${Date.now() - startedAt} ms`);
          else waiting.push(p);
        }
        if (waiting.length > 0) throw new RoundAbandoned(errors[failed.indexOf(waiting[0]!)]);
        break;
      }
      counters(ctx.topic).retried.inc(failed.length);
      log.warn(
        { topic: ctx.topic, partition: ctx.partition, err: errors[0], messages: failed.length, offsets: failed.map((p) => p.raw.offset).slice(0, 10), attempt: retryNumber, delayMs },
        `retrying ${failed.length} ${ctx.topic} message(s)`,
      );
      // Long waits must not cost the group membership; a rebalance ends the wait (checkIn throws).
      await ctx.checkIn();
      try {
        await sleep(delayMs, undefined, { signal: stopping });
      } catch {
        throw new RoundAbandoned(errors[0]);
      }
      await ctx.checkIn();
      pending = failed;
    }
    if (done.length === 0) return;
    // One line per round; a round of one message (a quiet stream) names its order and result.
    const summary = { topic: ctx.topic, partition: ctx.partition, count: raws.length };
    if (raws.length === 1) log.info({ ...summary, offset: raws[0]!.offset, key: raws[0]!.key?.toString() ?? null, result: done[0] }, `handled ${ctx.topic}`);
    else log.info({ ...summary, offsets: `${raws[0]!.offset}-${raws.at(-1)!.offset}`, results: tally(done) }, `handled ${ctx.topic}`);
  }

  return handleRound;
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
  });

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
      log.warn({ err: error, topic, partition, offset }, 'offset commit failed; the messages may be redelivered');
    }
  }

  /**
   * Stops the consumer without committing past `halted`'s message: rounds waiting out a retry
   * give up, `crashed` rejects, and the process (consumer-process.ts) exits 1 for its supervisor
   * to restart it.
   */
  function halt(topic: string, partition: number, halted: ConsumerHalted): void {
    log.fatal({ topic, partition, err: halted.reason, why: halted.why }, `${module.name} consumer stopping, nothing committed past the failed message: ${halted.why}`);
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

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset } = payload;
    const ctx: RoundContext<T> = { topic: logicalTopic(config, batch.topic) as T, partition: batch.partition, checkIn: checkInFor(payload) };
    const { messages } = batch;
    received(ctx.topic).consumed.inc(messages.length);
    for (const [start, end] of roundsOf(messages.map((m) => m.key?.toString() ?? null))) {
      // Stopping, or the partition moved to another instance: what is left goes to its next owner.
      if (stopping.signal.aborted || !isRunning() || isStale()) return;
      try {
        await handleRound(ctx, messages.slice(start, end));
        const last = messages[end - 1]!.offset;
        resolveOffset(last);
        await commit(batch.topic, batch.partition, last);
        await restarts.passed(ctx.topic, batch.partition, last);
        await ctx.checkIn();
      } catch (error) {
        if (error instanceof ConsumerHalted) return halt(ctx.topic, ctx.partition, error);
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
    }
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping.abort(); // rounds waiting to be retried give up (uncommitted); rounds at work finish
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
