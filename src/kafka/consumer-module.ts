/**
 * What a consumer module is to the shared runner (consumer-runner.ts): its topics, a pure
 * decision per message, and the few steps around it. The types a module is written against.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { Connection } from 'mongoose';
import type { Config } from '../config';
import type { EventPosition } from '../domain/analytics';
import { AppError } from '../errors';
import type { EventOf, KnownEventType } from '../events/parse-event';
import type { Logger } from '../logger';
import type { EventProducer, OutgoingEvent } from './event-producer';

/**
 * One parsed event and where it sat in the log. `position.topic` is the logical topic name.
 * `trace`: the span handling it, while tracing is on, for a module that aggregates messages
 * into one event of its own (analytics) to link to; undefined when off.
 */
export type ConsumedEvent<T extends KnownEventType = KnownEventType> = T extends KnownEventType
  ? { readonly event: EventOf<T>; readonly key: string | null; readonly position: EventPosition; readonly trace?: SpanContext }
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
