/**
 * PURE: what the consumer runner does about a failure. Four answers, because a failure says
 * something about the message, or about the world around it, or about our code:
 *   - `dead-letter`: the message itself can never pass (it does not parse, its payload breaks a
 *     domain rule, it asks for an impossible transition, a provider refused it for good). It
 *     goes to `<topic>.dlq` with its reason and the stream goes on.
 *   - `retry`: worth another attempt and bound to this message (a claim another instance holds,
 *     a decision made on state that moved): retried within a budget, then parked.
 *   - `wait-out`: worth another attempt but not the message's doing: a shared dependency
 *     (MongoDB, Kafka, a provider answering UNAVAILABLE) is away. Parking would drain the whole
 *     stream into the parking topic during an outage, so the message is retried until it
 *     passes, loudly, and never committed past.
 *   - `stop`: an environment fault (bad credentials or configuration) or an unexpected error (a
 *     TypeError, anything unclassified). Every later message would fail the same way, so
 *     dead-lettering would drain good orders: the consumer stops without committing and its
 *     supervisor restarts it. A message it keeps stopping at is parked (restartVerdict).
 */
import { KafkaJSError } from 'kafkajs';
import type { ErrorCode } from '../errors';
import { isRetriable } from '../errors';
import { isTransientMongoError } from '../mongo/mongo-errors';

export type FailureKind = 'dead-letter' | 'retry' | 'wait-out' | 'stop';

/**
 * Codes that blame the message, never the world: what the same message meets again however
 * often it is tried. A non-retriable error with any other code (or none) stops the consumer.
 */
const MESSAGE_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INVALID_EVENT', 'BAD_USER_INPUT', 'CONFLICT', 'PAYMENT_REJECTED', 'MAIL_REJECTED']);

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}

/** True for kafkajs' own errors (they name themselves KafkaJS…): the broker, not the message. */
function isKafkaError(error: unknown): boolean {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

export function classifyFailure(error: unknown): FailureKind {
  if (isTransientMongoError(error)) return 'wait-out';
  if (isRetriable(error)) return codeOf(error) === 'UNAVAILABLE' || isKafkaError(error) ? 'wait-out' : 'retry';
  // Only our own typed errors may blame the message: a kafkajs or driver error, a TypeError, a
  // thrown string all say something is wrong on our side.
  if (error instanceof Error && !isKafkaError(error) && MESSAGE_FAULTS.has(codeOf(error) as ErrorCode)) return 'dead-letter';
  return 'stop';
}

/** How much retrying one message may take before it is parked: whichever runs out first. */
export interface RetryBudget {
  readonly attempts: number;
  readonly ms: number;
}

/** PURE: whether the next retry (after `delayMs`) would go past the budget. */
export function budgetSpent(budget: RetryBudget, retries: number, elapsedMs: number, delayMs: number): boolean {
  return retries >= budget.attempts || elapsedMs + delayMs > budget.ms;
}

/** What a partition's restart record says: the consumer stopped `restarts` times in a row at `offset`. */
export interface RestartRecord {
  readonly offset: string;
  readonly restarts: number;
}

export type RestartVerdict = { readonly action: 'park'; readonly restarts: number } | { readonly action: 'stop'; readonly record: RestartRecord };

/**
 * PURE: the consumer must stop at `offset` again. If it has already restarted `limit` times in
 * a row at this very message, the message is parked instead (so one message never stops a
 * stream for good); otherwise it stops, and the record counts this stop. A record of another
 * offset is of an earlier message that has since passed: the count starts again.
 */
export function restartVerdict(stored: RestartRecord | null, offset: string, limit: number): RestartVerdict {
  const restarts = stored?.offset === offset ? stored.restarts : 0;
  if (restarts >= limit) return { action: 'park', restarts };
  return { action: 'stop', record: { offset, restarts: restarts + 1 } };
}

/**
 * Trips when more than `limit` dead letters fall within `windowMs`: a flood of messages that
 * "can never pass" is a fault upstream (a producer bug, a schema change), and draining a whole
 * stream into the dead-letter topic would hide it.
 */
export class DeadLetterBreaker {
  private readonly times: number[] = [];

  constructor(
    private readonly options: { readonly limit: number; readonly windowMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one more dead letter about to be sent; true when that one is over the limit (do not send it, stop). */
  tripsOn(): boolean {
    const now = this.now();
    while (this.times.length > 0 && this.times[0]! <= now - this.options.windowMs) this.times.shift();
    this.times.push(now);
    return this.times.length > this.options.limit;
  }
}

/** kafkajs' errors for "the group is rebalancing, or moved on without this member": stop retrying, rejoin. */
const REBALANCE_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

export function isRebalanceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'type' in error && REBALANCE_TYPES.has(String(error.type));
}

/**
 * A commit that failed because the group's coordinator cannot be reached. kafkajs keeps sending
 * commits (and heartbeats) to the broker it knew as coordinator, even once that broker is gone,
 * and asks for the current one only when it joins the group again: drill 5 found a module
 * committing into a dead broker for five minutes ("Broker 3 not found in the cached metadata"),
 * every round redelivered, until kafkajs gave up. Walks the error's causes (kafkajs wraps them).
 */
const COORDINATOR_GONE = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSBrokerNotFound']);

export function isCoordinatorUnreachable(error: unknown): boolean {
  for (let e = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if (COORDINATOR_GONE.has((e as Error).name)) return true;
  }
  return false;
}

/**
 * Thrown from a batch to make kafkajs join the group again, and so find the group's current
 * coordinator: kafkajs rejoins on this type (`isRebalancing`) and restarts on anything else only
 * after its retries. What the batch stored stays stored; its messages come again, harmlessly.
 * A KafkaJSError, so that kafkajs does not log every batch that gives way to the rejoin: the
 * commit that found the coordinator gone has said so once.
 */
export class CoordinatorLost extends KafkaJSError {
  readonly type = 'NOT_COORDINATOR_FOR_GROUP';
  override readonly name = 'CoordinatorLost';
  override readonly cause: Error;
  constructor(cause: unknown) {
    super('the consumer group coordinator cannot be reached: joining the group again to find the current one', { retriable: true });
    this.cause = cause instanceof Error ? cause : new Error(String(cause));
  }
}

/** Failures worth another attempt: the error base's flag, kafkajs' own, and MongoDB being unreachable. */
export function isRetriableFailure(error: unknown): boolean {
  return isRetriable(error) || isTransientMongoError(error);
}
