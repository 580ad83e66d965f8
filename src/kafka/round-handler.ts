/**
 * One partition's rounds, as the runner (consumer-runner.ts) hands them over: each round is
 * loaded, decided, persisted, produced and committed, and each failed message is retried,
 * dead-lettered, parked or stopped at as failure-policy.ts says.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import type { KnownEventType } from '../events/parse-event';
import { parseEvent } from '../events/parse-event';
import { deadLetterTopic, parkingTopic } from '../events/topics';
import type { Logger } from '../logger';
import { consumerCounters } from '../metrics/process-metrics';
import { backoffDelay, type RetryOptions } from '../retry';
import { activeTracer } from '../tracing/tracing';
import type { ConsumedEvent, ConsumerModule, LoadMode } from './consumer-module';
import type { DeadLetterProducer } from './dead-letter';
import type { EventProducer, OutgoingEvent } from './event-producer';
import { budgetSpent, classifyFailure, isRetriableFailure, restartVerdict, type DeadLetterBreaker, type RetryBudget } from './failure-policy';
import type { RestartLedger } from './restart-ledger';
import { startRoundTrace, type RoundTrace } from './round-tracing';
import type { StoreWatch } from '../mongo/store-watch';
import { isTransientMongoError } from '../mongo/mongo-errors';
import type { RoundStep } from './round-watchdog';

/**
 * A round given up on, left uncommitted: stopping, a rebalance (`rebalance`: the heartbeat's
 * error, for kafkajs to rejoin on), or a dependency still away after the retries.
 */
export class RoundAbandoned extends Error {
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
export class ConsumerHalted extends Error {
  constructor(
    readonly reason: unknown,
    readonly why: string,
  ) {
    super(why);
  }
}

export interface RoundContext<T extends KnownEventType> {
  readonly topic: T;
  readonly partition: number;
  /** Heartbeats; throws RoundAbandoned when the group rebalances or the partition moved on. */
  readonly checkIn: () => Promise<void>;
  /** The round is now at `step` (round-watchdog.ts names a round that stays too long). */
  readonly at: (step: RoundStep) => void;
  /** The round's spans, while tracing is on (set per round by handleRound). */
  readonly trace?: RoundTrace;
}

type Pending<T extends KnownEventType> = { readonly consumed: ConsumedEvent<T>; readonly raw: KafkaMessage };

/** Counts of each outcome's description in a round, for its one summary line. */
function tally(descriptions: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of descriptions) counts[d] = (counts[d] ?? 0) + 1;
  return counts;
}

export interface RoundHandlerParts<D> {
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
  /** Told whether each attempt reached MongoDB (store-watch.ts). */
  readonly store: Pick<StoreWatch, 'unreachable' | 'reached'>;
}

export function createRoundHandler<T extends KnownEventType, D, S, E, O>(module: ConsumerModule<T, D, S, E, O>, parts: RoundHandlerParts<D>) {
  const { deps, producer, deadLetters, restarts, breaker, groupId, log, retry, restartsBeforeParking, stopping, store } = parts;
  const budget: RetryBudget = { attempts: retry.retries ?? 5, ms: retry.deadlineMs ?? Number.POSITIVE_INFINITY };
  const where = (ctx: RoundContext<T>, raw: KafkaMessage) => ({ topic: ctx.topic, partition: ctx.partition, offset: raw.offset, key: raw.key?.toString() ?? null });
  const failedMessage = (ctx: RoundContext<T>, raw: KafkaMessage) => ({ topic: ctx.topic, partition: ctx.partition, message: raw });
  const counters = consumerCounters(module.name); // /metrics: beside each outcome's log line

  async function deadLetter(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown): Promise<void> {
    const { limit, windowMs } = parts.breakerLimits;
    if (breaker.tripsOn()) throw new ConsumerHalted(error, `more than ${limit} dead letters within ${windowMs} ms: a fault upstream, not a few bad messages`);
    ctx.at('dead-letter');
    await deadLetters.send(failedMessage(ctx, raw), error, groupId);
    ctx.trace?.failed(raw, 'dead-lettered', error);
    counters(ctx.topic).deadLettered.inc();
    log.error({ ...where(ctx, raw), err: error, deadLetterTopic: deadLetterTopic(ctx.topic) }, `dead-lettered ${ctx.topic}`);
  }

  async function park(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown, after: string): Promise<void> {
    ctx.at('dead-letter');
    await deadLetters.park(failedMessage(ctx, raw), error, groupId, after);
    ctx.trace?.failed(raw, 'parked', error);
    counters(ctx.topic).parked.inc();
    log.error({ ...where(ctx, raw), err: error, parkingTopic: parkingTopic(ctx.topic), after }, `parked ${ctx.topic} after ${after}; redrive it once the cause is fixed`);
  }

  /**
   * A message failed in a way that says nothing good about the next one (failure-policy.ts,
   * `stop`). Stop at it, unless the consumer already restarted here `restartsBeforeParking`
   * times in a row: then park it and go on.
   */
  async function stopAt(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown): Promise<void> {
    ctx.at('ledger');
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
    ctx.trace?.failed(raw, 'the consumer stopped at it', error);
    throw new ConsumerHalted(error, `${ctx.topic} partition ${ctx.partition} offset ${raw.offset} failed with an environment or unexpected error (stop ${restart})`);
  }

  /** What a non-retriable failure of one message calls for: a dead letter, or a stop. */
  async function failFor(ctx: RoundContext<T>, raw: KafkaMessage, error: unknown): Promise<void> {
    if (classifyFailure(error) === 'dead-letter') await deadLetter(ctx, raw, error);
    else await stopAt(ctx, raw, error);
  }

  /** One attempt at `pending`: returns the messages that failed retriably (with their errors); dead-letters or stops at the others. */
  async function attempt(ctx: RoundContext<T>, pending: readonly Pending<T>[], mode: LoadMode): Promise<{ failed: Pending<T>[]; errors: unknown[]; done: string[] }> {
    ctx.at('load');
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
    ctx.at('persist');
    const results = decided.length > 0 ? await module.persist(decided.map((d) => d.effects), deps) : [];
    const events: OutgoingEvent[] = [];
    const done: string[] = [];
    results.forEach((result, i) => {
      const { p, effects } = decided[i]!;
      if (!result.ok) return fail(p, result.error);
      // Tracing: each event is sent in the span of the message it was emitted for.
      const trace = ctx.trace;
      if (trace) for (const event of module.emits(result.outcome)) events.push(trace.emittedFor(p.raw, event));
      else events.push(...module.emits(result.outcome));
      const description = module.describe(effects, result.outcome);
      done.push(description);
      log.debug({ topic: ctx.topic, partition: ctx.partition, offset: p.raw.offset, eventId: p.consumed.event.id, result: description }, `handled ${ctx.topic}`);
    });
    // One send for the round. If it fails, the whole attempt is repeated: the writes are
    // idempotent, and the repeat emits the same events with the same ids.
    ctx.at('publish');
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
  async function work(ctx: RoundContext<T>, raws: readonly KafkaMessage[]): Promise<void> {
    let pending: Pending<T>[] = [];
    for (const raw of raws) {
      try {
        const event = parseEvent(ctx.topic, raw.value);
        const position = { topic: ctx.topic, partition: ctx.partition, offset: Number(raw.offset) };
        const consumed = { event, key: raw.key?.toString() ?? null, position, trace: ctx.trace?.spanContextOf(raw) } as unknown as ConsumedEvent<T>;
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
        // Any message done, or no failure of reaching it: the store was reached.
        if (result.done.length > 0 || !result.errors.some(isTransientMongoError)) store.reached();
        else store.unreachable();
        done.push(...result.done);
        counters(ctx.topic).processed.inc(result.done.length);
        [failed, errors] = [result.failed, result.errors];
      } catch (error) {
        if (error instanceof ConsumerHalted || error instanceof RoundAbandoned) throw error;
        if (isTransientMongoError(error)) store.unreachable();
        if (!isRetriableFailure(error)) {
          if (pending.length === 1) {
            await failFor(ctx, pending[0]!.raw, error);
            break;
          }
          // Not one message's failure but the round's (a load that cannot work on one of
          // them, say): one at a time, so only the culprit is dead-lettered (or stopped at).
          for (const p of pending) await work(ctx, [p.raw]);
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
      ctx.at('retry-wait');
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

  /** A round, with its spans while tracing is on (round-tracing.ts); off, nothing is built. */
  async function handleRound(ctx: RoundContext<T>, raws: readonly KafkaMessage[]): Promise<void> {
    const tracer = activeTracer();
    if (tracer === null) return work(ctx, raws);
    const trace = startRoundTrace(tracer, { groupId, topic: ctx.topic, partition: ctx.partition }, raws);
    try {
      await context.with(trace.context, () => work({ ...ctx, trace }, raws));
      trace.end();
    } catch (error) {
      trace.end(error instanceof RoundAbandoned ? error.reason : error);
      throw error;
    }
  }

  return handleRound;
}
